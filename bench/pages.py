"""Budget (a): an authenticated HTML page renders in at most 20 ms of server time at p95."""

from __future__ import annotations

import httpx

from bankcrm.demo.seed import DEMO_PASSWORD
from bench.dataset import ADMIN
from bench.harness import Probe, Row, Verdict, sample, sign_in
from bench.server import Server

BUDGET_P95_MS = 20.0
PAGES = {"GET / (admin home)": "/", "GET /admin/users": "/admin/users"}


def run(server: Server, *, rounds: int, warmup: int, gap_ms: float) -> tuple[list[Row], list[Verdict]]:
    with httpx.Client(base_url=server.base_url, timeout=30) as browser:
        sign_in(browser, ADMIN, DEMO_PASSWORD)
        probes = [Probe(label, browser, path) for label, path in PAGES.items()]
        timings = sample(server, probes, rounds=rounds, warmup=warmup, gap_ms=gap_ms)
    rows = [Row.of("a", label, timings[label]) for label in PAGES]
    verdicts = []
    for row in rows:
        assert row.cpu is not None
        verdicts.append(
            Verdict(
                "a",
                f"{row.label}: server p95 ≤ {BUDGET_P95_MS:g} ms",
                f"p95 {row.server.p95:.2f} ms (CPU p95 {row.cpu.p95:.2f} ms)",
                row.server.p95 <= BUDGET_P95_MS,
            )
        )
    return rows, verdicts
