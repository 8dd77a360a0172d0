"""Customer history read from the lake by row-group statistics gives what a full DuckDB scan gives.

The reference queries below are the SQL the 360° sections ran before they read row groups
themselves; every filter, page and tie of booking times must come out the same.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bankcrm.core import lake as core_lake
from bankcrm.core.formatting import BUSINESS_TZ
from bankcrm.core.lake import Lake
from bankcrm.customers import lake_repository
from bankcrm.customers.lake_repository import TransactionQuery

START = datetime(2025, 1, 31, 15, 0, tzinfo=UTC)  # 23:00 in Beijing: month edges are business months
CUSTOMERS = (7, 39, 71)  # all in bucket 7, so they share files and row groups


def _history(customer_id: int, count: int, *, tie_every: int) -> list[dict[str, Any]]:
    rows = []
    for i in range(count):
        # Every ``tie_every`` rows share one booking time, so ids decide their order.
        at = START + timedelta(hours=9 * (i // tie_every))
        rows.append(
            {
                "txn_id": f"T{customer_id}-{(i * 7919) % 100_000:05d}",
                "customer_id": customer_id,
                "account_no": f"62220{customer_id:011d}",
                "booked_at": at,
                "direction": "in" if i % 4 == 0 else "out",
                "amount": Decimal(f"{(i * 37) % 5000}.{i % 100:02d}"),
                "currency": "CNY",
                "category": ("salary", "groceries", "transfer")[i % 3],
                "channel": ("mobile", "pos", "counter")[i % 3 - 1],
                "counterparty": "某某超市",
                "description": None if i % 2 else f"第{i}笔",
            }
        )
    return rows


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """Three customers of one bucket, loaded as two deliveries (so each month has two files), with
    enough rows for several row groups per file."""
    lake = Lake(tmp_path_factory.mktemp("lake"))
    rows = [row for customer in CUSTOMERS for row in _history(customer, 2600, tie_every=3)]
    table = pa.Table.from_pylist(rows, schema=lake_repository.TRANSACTION_SCHEMA)
    half = table.num_rows // 2
    with pytest.MonkeyPatch.context() as patch:
        # Small row groups, so a customer's month spans several and a page several files' groups.
        patch.setattr(core_lake, "ROW_GROUP_ROWS", 64)
        lake_repository.write_transactions(lake, table.slice(0, half), batch_key="first")
        lake_repository.write_transactions(lake, table.slice(half), batch_key="second")
    assert max(pq.read_metadata(path).num_row_groups for path in lake.root.rglob("*.parquet")) > 3
    for month in ("2025-01", "2025-02", "2025-03"):
        balances = pa.table(
            {
                "customer_id": [c for c in CUSTOMERS for _ in range(2)],
                "category": ["deposit", "fund"] * len(CUSTOMERS),
                "balance": [Decimal(f"{c}{month[-1]}.25") for c in CUSTOMERS for _ in range(2)],
            }
        )
        lake_repository.write_balances(lake, month, balances, batch_key=f"bal-{month}")
    return lake


def _reference(
    lake: Lake, query: TransactionQuery, *, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    clauses = [f"customer_id IN ({', '.join('?' * len(query.customer_ids))})"]
    params: list[Any] = list(query.customer_ids)
    if query.date_from:
        clauses.append("booked_at >= ?")
        params.append(datetime.combine(query.date_from, datetime.min.time(), BUSINESS_TZ))
    if query.date_to:
        clauses.append("booked_at < ?")
        params.append(datetime.combine(query.date_to + timedelta(days=1), datetime.min.time(), BUSINESS_TZ))
    for column, value, op in (
        ("amount", query.min_amount, ">="),
        ("amount", query.max_amount, "<="),
        ("direction", query.direction, "="),
        ("category", query.category, "="),
        ("channel", query.channel, "="),
    ):
        if value is not None:
            clauses.append(f"{column} {op} ?")
            params.append(value)
    columns = ", ".join(lake_repository.TRANSACTION_COLUMNS)
    source = lake.scan_expression(lake_repository.TRANSACTIONS)
    where = " AND ".join(clauses)
    with lake.cursor() as duck:
        total = duck.execute(f"SELECT count(*) FROM {source} WHERE {where}", params).fetchone()
        cursor = duck.execute(
            f"SELECT {columns} FROM {source} WHERE {where} "
            "ORDER BY booked_at DESC, txn_id DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        rows = [dict(zip(lake_repository.TRANSACTION_COLUMNS, row, strict=True)) for row in cursor.fetchall()]
    return rows, int(total[0] if total else 0)


def _comparable(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [tuple(row[c] for c in lake_repository.TRANSACTION_COLUMNS) for row in rows]


def _same_page(lake: Lake, query: TransactionQuery, *, offset: int, limit: int) -> None:
    rows, total = lake_repository.transactions(lake, query, offset=offset, limit=limit)
    expected_rows, expected_total = _reference(lake, query, offset=offset, limit=limit)
    assert total == expected_total
    assert _comparable(rows) == _comparable(expected_rows)


def test_pages_of_one_customer_match_a_full_scan_with_ties_decided_by_id(lake: Lake) -> None:
    query = TransactionQuery(customer_ids=(39,))
    for offset in (0, 1, 2, 19, 20, 1000, 2580, 2599, 2600):
        _same_page(lake, query, offset=offset, limit=20)


def test_each_filter_matches_a_full_scan(lake: Lake) -> None:
    queries = [
        TransactionQuery(customer_ids=(71,), date_from=date(2025, 3, 1)),
        TransactionQuery(customer_ids=(71,), date_to=date(2025, 2, 28)),
        TransactionQuery(customer_ids=(71,), date_from=date(2025, 2, 1), date_to=date(2025, 2, 1)),
        TransactionQuery(customer_ids=(71,), min_amount=Decimal("4000")),
        TransactionQuery(customer_ids=(71,), max_amount=Decimal("12.345")),
        TransactionQuery(customer_ids=(71,), direction="in"),
        TransactionQuery(customer_ids=(71,), category="salary", channel="counter"),
        TransactionQuery(customer_ids=(71,), channel="nothing-like-this"),
        TransactionQuery(customer_ids=(7, 71)),
    ]
    for query in queries:
        for offset in (0, 40):
            _same_page(lake, query, offset=offset, limit=20)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    customer=st.sampled_from(CUSTOMERS),
    day_from=st.none() | st.integers(0, 120),
    span=st.none() | st.integers(0, 60),
    min_amount=st.none() | st.decimals(0, 5000, places=2),
    direction=st.none() | st.sampled_from(["in", "out"]),
    offset=st.integers(0, 2700),
    limit=st.integers(1, 60),
)
def test_any_filter_and_page_matches_a_full_scan(  # type: ignore[no-untyped-def]
    lake: Lake, customer, day_from, span, min_amount, direction, offset, limit
) -> None:
    since = date(2025, 1, 31) + timedelta(days=day_from) if day_from is not None else None
    until = (since or date(2025, 2, 15)) + timedelta(days=span) if span is not None else None
    query = TransactionQuery(
        customer_ids=(customer,), date_from=since, date_to=until, min_amount=min_amount, direction=direction
    )
    _same_page(lake, query, offset=offset, limit=limit)


def test_a_customer_absent_from_the_files_has_no_history(lake: Lake) -> None:
    assert lake_repository.transactions(lake, TransactionQuery(customer_ids=(103,)), offset=0, limit=20) == (
        [],
        0,
    )
    assert lake_repository.transactions(lake, TransactionQuery(customer_ids=(8,)), offset=0, limit=20) == (
        [],
        0,
    )


def test_monthly_balances_sum_per_month_and_category_from_the_month_asked(lake: Lake) -> None:
    assert lake_repository.monthly_balances(lake, 39, since_month="2025-02") == [
        ("2025-02", "deposit", Decimal("392.25")),
        ("2025-02", "fund", Decimal("392.25")),
        ("2025-03", "deposit", Decimal("393.25")),
        ("2025-03", "fund", Decimal("393.25")),
    ]
    assert lake_repository.monthly_balances(lake, 40, since_month="2025-01") == []


def test_an_empty_lake_has_no_history(tmp_path: Path) -> None:
    empty = Lake(tmp_path)
    assert lake_repository.transactions(empty, TransactionQuery(customer_ids=(7,)), offset=0, limit=20) == (
        [],
        0,
    )
    assert lake_repository.monthly_balances(empty, 7, since_month="2025-01") == []
