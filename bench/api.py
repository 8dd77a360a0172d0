"""Budget (b): an authenticated JSON GET costs at most twice a bare endpoint of the same app.

Cost is server time. The bare endpoint gets the same bearer header, so requests differ only in
what the route does: resolve the token, query, serialise.
"""

from __future__ import annotations

import httpx

from bench.harness import Probe, Row, Verdict, sample
from bench.server import BARE_PATH, Server

BUDGET_RATIO = 2.0
BARE = f"GET {BARE_PATH} (bare)"
ENDPOINTS = {
    BARE: BARE_PATH,
    "GET /api/v1/me": "/api/v1/me",
    "GET /api/v1/users?size=25": "/api/v1/users?size=25",
}


def run(
    server: Server, *, token: str, rounds: int, warmup: int, gap_ms: float
) -> tuple[list[Row], list[Verdict]]:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as system:
        probes = [Probe(label, system, path) for label, path in ENDPOINTS.items()]
        timings = sample(server, probes, rounds=rounds, warmup=warmup, gap_ms=gap_ms)
    rows = [Row.of("b", label, timings[label]) for label in ENDPOINTS]
    bare = rows[0]
    verdicts = []
    for row in rows[1:]:
        p50_ratio = row.server.p50 / bare.server.p50
        p95_ratio = row.server.p95 / bare.server.p95
        assert row.cpu is not None
        assert bare.cpu is not None
        verdicts.append(
            Verdict(
                "b",
                f"{row.label}: server time ≤ {BUDGET_RATIO:g}× bare at p50 and p95",
                f"{p50_ratio:.2f}× at p50, {p95_ratio:.2f}× at p95 "
                f"(CPU {row.cpu.p50 / bare.cpu.p50:.2f}× at p50)",
                p50_ratio <= BUDGET_RATIO and p95_ratio <= BUDGET_RATIO,
            )
        )
    return rows, verdicts
