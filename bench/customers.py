"""Budgets (h)-(k): the customer module on a generated bank (see bench/customer_data.py).

(h) the 360° page as a browser loads it, the page and its HTMX requests (the operational-store
sections together, each lake section on its own), summed per round;
(i) the JSON 360 document; (j) search, each kind of query typed into the search box; (k) the
filtered customer list at page 1 and page 1000. The HTML requests are made as the head-office
service agent (whole-bank scope), the JSON one with the call-centre system's token.

Every budget row is compared with the raw queries it wraps: the same repository calls (SQLite
through SQLAlchemy, the lake through DuckDB) timed in this process, without HTTP, principal,
templates or serialisation, so the ratio shows the overhead on top of the data work.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy.orm import Session

from bankcrm.core.config import Settings
from bankcrm.core.context import Origin
from bankcrm.core.db import create_database
from bankcrm.core.lake import Lake
from bankcrm.core.principal import Principal
from bankcrm.customers import lake_repository as history
from bankcrm.customers import repository as repo
from bankcrm.customers.keys import QueryPart, parse_query
from bankcrm.customers.pages.detail import LAKE_SECTIONS
from bankcrm.customers.service.common import id_digest, scope_of
from bankcrm.customers.service.customers import LIST_COUNT_CAP
from bankcrm.demo.seed import DEMO_PASSWORD
from bankcrm.identity.service import auth
from bench.customer_data import CustomerData
from bench.harness import Probe, Row, Timings, Verdict, sample, sign_in
from bench.server import Server
from bench.stats import Summary

VIEWER = "agent"  # service agent at the customer service centre: sees the whole bank
# The requests the 360° page makes after it arrives, as the page asks for them.
SECTION_REQUESTS = (
    ("sections (operational store, together)", "sections"),
    *((f"sections/{name}", f"sections/{name}") for name in LAKE_SECTIONS),
)
BUDGET_MS = {"h": 150.0, "i": 100.0, "j": 100.0, "k": 150.0}
LIST_FILTER = {"kind": "individual", "risk_level": "C3"}
ID_TYPES = ("resident_id", "uscc", "passport", "other")
RAW_SAMPLES = 100


@dataclass(frozen=True)
class Measured:
    rows: list[Row]
    verdicts: list[Verdict]


def _summed(timings: list[Timings], attribute: str) -> list[float]:
    columns = [getattr(t, attribute) for t in timings]
    return [sum(values) for values in zip(*columns, strict=True)]


def _page_total(label: str, parts: list[Timings]) -> Row:
    total = Timings(
        server=_summed(parts, "server"),
        ready=_summed(parts, "ready"),
        cpu=_summed(parts, "cpu"),
        client=_summed(parts, "client"),
        overlapped=sum(t.overlapped for t in parts),
    )
    return Row.of("h", label, total)


def _verdict(budget: str, row: Row, raw: Summary | None) -> Verdict:
    limit = BUDGET_MS[budget]
    assert row.cpu is not None
    measured = f"p95 {row.server.p95:.1f} ms (CPU p95 {row.cpu.p95:.1f} ms)"
    if raw is not None:
        measured += f"; raw queries p95 {raw.p95:.1f} ms, {row.server.p95 / raw.p95:.1f}× at p95"
    return Verdict(budget, f"{row.label}: server p95 ≤ {limit:g} ms", measured, row.server.p95 <= limit)


# ---------------------------------------------------------------- raw queries, in this process


class RawQueries:
    """The repository calls each budget's requests wrap, against the same database and lake."""

    def __init__(self, settings: Settings) -> None:
        self.database = create_database(settings)
        self.lake = Lake(settings.lake_root)
        origin = Origin(ip="127.0.0.1", user_agent="bench")
        with self.database.transaction() as session:
            login = auth.login(
                session, username=VIEWER, password=DEMO_PASSWORD, origin=origin, settings=settings
            )
            assert login.token is not None
            resolved = auth.resolve_session(session, token=login.token, origin=origin, settings=settings)
            assert resolved is not None
            self.principal: Principal = resolved.principal

    def close(self) -> None:
        self.database.dispose()

    def time(self, work: Callable[[Session, repo.Scope], Any], *, samples: int = RAW_SAMPLES) -> Summary:
        """Each sample in its own read transaction, as a request has; a few discarded first."""
        timings = []
        for n in range(samples + 5):
            start = time.perf_counter()
            with self.database.transaction(write=False) as session:
                work(session, repo.Scope(self.principal, None, scope_of(session, self.principal).today))
            if n >= 5:
                timings.append((time.perf_counter() - start) * 1e3)
        return Summary.of(timings)

    def search(self, session: Session, scope: repo.Scope, q: str) -> None:
        parsed = parse_query(q)
        parts = list(parsed.alternatives)
        if parsed.id_number:
            parts += [QueryPart(f"d:{id_digest(t, parsed.id_number)}", exact=True) for t in ID_TYPES]
        also_key = f"l:{parsed.last4}" if parsed.last4 else None
        found = repo.resolve_ids(session, repo.ids_matching(parts, also_key=also_key))
        self._page(session, scope, search_ids=sorted(found), offset=0)

    def listing(self, session: Session, scope: repo.Scope, page: int) -> None:
        self._page(session, scope, search_ids=None, offset=(page - 1) * 25, **LIST_FILTER)

    @staticmethod
    def _page(
        session: Session,
        scope: repo.Scope,
        *,
        search_ids: list[int] | None,
        offset: int,
        kind: str | None = None,
        risk_level: str | None = None,
    ) -> None:
        query = repo.ListQuery(
            search_ids=search_ids,
            kind=kind,
            tier=None,
            status="active",
            org_unit_id=None,
            rm_id=None,
            tag_id=None,
            group_id=None,
            risk_level=risk_level,
        )
        repo.count_customers(session, scope, query, cap=LIST_COUNT_CAP)  # as the list counts
        repo.list_customers(session, scope, query, sort="-aum", offset=offset, limit=25)

    def transactions_page(self, customer_id: int) -> None:
        history.transactions(
            self.lake, history.TransactionQuery(customer_ids=(customer_id,)), offset=0, limit=25
        )

    def balances(self, customer_id: int, since_month: str) -> list[tuple[str, str, Decimal]]:
        return history.monthly_balances(self.lake, customer_id, since_month=since_month)

    def view360(self, session: Session, scope: repo.Scope, customer_id: int) -> None:
        """The rows the 360° view shows: the customer, its accounts, holdings, contact data, links,
        interactions and tags from SQLite; a page of transactions and a year of balances from the lake."""
        repo.find_readable(session, scope, customer_id)
        repo.accounts(session, customer_id)
        repo.holdings(session, customer_id)
        repo.contact_points(session, customer_id)
        repo.current_address(session, customer_id)
        repo.consents(session, customer_id)
        repo.xrefs(session, customer_id)
        repo.relationships_of(session, customer_id, scope.today)
        repo.interactions(session, customer_id, limit=50)
        repo.tags_of(session, customer_id)
        self.transactions_page(customer_id)
        since = scope.today.replace(day=1)
        self.balances(customer_id, f"{since.year - 1:04d}-{since.month:02d}")


# ---------------------------------------------------------------- the run


def run(
    server: Server,
    settings: Settings,
    data: CustomerData,
    *,
    budgets: str,
    rounds: int,
    warmup: int,
    gap_ms: float,
) -> tuple[list[Row], list[Verdict]]:
    rows: list[Row] = []
    verdicts: list[Verdict] = []
    ids = [s.customer_id for s in data.samples]
    raw = RawQueries(settings)
    try:
        with (
            httpx.Client(base_url=server.base_url, timeout=60) as browser,
            httpx.Client(
                base_url=server.base_url,
                timeout=60,
                headers={"Authorization": f"Bearer {data.api_token}", "Accept": "application/json"},
            ) as system,
        ):
            sign_in(browser, VIEWER, DEMO_PASSWORD)
            htmx = httpx.Client(
                base_url=server.base_url, timeout=60, cookies=browser.cookies, headers={"HX-Request": "true"}
            )
            if "h" in budgets:
                probes = [
                    Probe("GET /customers/{id} (page)", browser, "", tuple(f"/customers/{i}" for i in ids))
                ]
                probes += [
                    Probe(f"GET …/{label}", htmx, "", tuple(f"/customers/{i}/{path}" for i in ids))
                    for label, path in SECTION_REQUESTS
                ]
                timings = sample(server, probes, rounds=rounds, warmup=warmup, gap_ms=gap_ms)
                label = f"360° page: page + {len(SECTION_REQUESTS)} section requests, summed per round"
                total = _page_total(label, list(timings.values()))
                raw_360 = _raw_360(raw, ids)
                rows.append(total)
                rows += [Row.of("h", label, t) for label, t in timings.items()]
                rows.append(Row("h", "raw: the 360° rows, SQLite + lake (in-process)", raw_360))
                verdicts.append(_verdict("h", total, raw_360))
                rows.append(Row("h", "raw: lake transactions page (in-process)", _raw_lake(raw, ids)))
            if "i" in budgets:
                probe = Probe(
                    "GET /api/v1/customers/{id}/360",
                    system,
                    "",
                    tuple(f"/api/v1/customers/{i}/360" for i in ids),
                )
                timings = sample(server, [probe], rounds=rounds, warmup=warmup, gap_ms=gap_ms)
                row = Row.of("i", probe.label, timings[probe.label])
                rows.append(row)
                verdicts.append(_verdict("i", row, _raw_360(raw, ids)))
            if "j" in budgets:
                probes = [
                    Probe(
                        f"search: {kind}",
                        browser,
                        "",
                        tuple(f"/customers?{urlencode({'q': q})}" for q in queries),
                    )
                    for kind, queries in data.searches.items()
                ]
                timings = sample(server, probes, rounds=rounds, warmup=warmup, gap_ms=gap_ms)
                for probe in probes:
                    row = Row.of("j", probe.label, timings[probe.label])
                    queries = data.searches[probe.label.removeprefix("search: ")]
                    raw_row = _raw_cycle(raw, lambda s, sc, q: raw.search(s, sc, q), queries)
                    rows.append(row)
                    verdicts.append(_verdict("j", row, raw_row))
            if "k" in budgets:
                filters = urlencode(LIST_FILTER)
                probes = [
                    Probe(f"list {filters}, page {page}", browser, f"/customers?{filters}&page={page}")
                    for page in (1, 1000)
                ]
                timings = sample(server, probes, rounds=rounds, warmup=warmup, gap_ms=gap_ms)
                for page, probe in zip((1, 1000), probes, strict=True):
                    row = Row.of("k", probe.label, timings[probe.label])
                    raw_row = raw.time(lambda s, sc, page=page: raw.listing(s, sc, page))  # type: ignore[misc]
                    rows.append(row)
                    verdicts.append(_verdict("k", row, raw_row))
            htmx.close()
    finally:
        raw.close()
    return rows, verdicts


def _raw_cycle(
    raw: RawQueries, work: Callable[[Session, repo.Scope, Any], Any], values: list[Any]
) -> Summary:
    """The raw queries for each of the values in turn, as the HTTP rounds take them."""
    counter = iter(range(10**9))
    return raw.time(lambda s, sc: work(s, sc, values[next(counter) % len(values)]))


def _raw_360(raw: RawQueries, ids: list[int]) -> Summary:
    return _raw_cycle(raw, lambda s, sc, i: raw.view360(s, sc, i), ids)


def _raw_lake(raw: RawQueries, ids: list[int]) -> Summary:
    return _raw_cycle(raw, lambda _s, _sc, i: raw.transactions_page(i), ids)
