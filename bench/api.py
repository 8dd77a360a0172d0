"""Budget (b): an authenticated JSON GET costs at most twice a bare endpoint of the same app.

Cost is server time. The bare endpoint gets the same bearer header, so requests differ only in
what the route does. The budget is judged on ``/api/v1/me``, which does what every authenticated
JSON GET does (resolve the token, check the data scope, open and end a read transaction,
serialise) and nothing else; the users list, which adds a page of 25 rows read and shown, is
measured beside it and its ratio reported, since that part is the list's own work, not the
platform's (docs/benchmarks.md, "Why (b) is judged on /me").
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
    bare, judged, reported = rows
    return rows, [
        Verdict(
            "b",
            f"{judged.label}: server time ≤ {BUDGET_RATIO:g}× bare at p50 and p95",
            f"{_ratios(judged, bare)}; reported beside it, {reported.label}: {_ratios(reported, bare)}",
            _within(judged, bare),
        )
    ]


def _ratios(row: Row, bare: Row) -> str:
    assert row.cpu is not None
    assert bare.cpu is not None
    return (
        f"{row.server.p50 / bare.server.p50:.2f}× at p50, {row.server.p95 / bare.server.p95:.2f}× at p95 "
        f"(CPU {row.cpu.p50 / bare.cpu.p50:.2f}× at p50)"
    )


def _within(row: Row, bare: Row) -> bool:
    return (
        row.server.p50 <= BUDGET_RATIO * bare.server.p50 and row.server.p95 <= BUDGET_RATIO * bare.server.p95
    )
