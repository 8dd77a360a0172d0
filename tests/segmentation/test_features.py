"""Each feature of the scoring run, checked against a customer computed by hand (issue 5, §1)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import duckdb
import ibis
import pyarrow as pa
import pytest

from bankcrm.segmentation.features import customer_features, transaction_breakdown

AS_OF = date(2026, 6, 30)
BEIJING = timezone(timedelta(hours=8))


def _booked(day: str, hh_mm: str) -> datetime:
    """A Beijing business time as the lake stores it (UTC)."""
    local = datetime.fromisoformat(f"{day}T{hh_mm}:00").replace(tzinfo=BEIJING)
    return local.astimezone(UTC)


TRANSACTIONS = [
    # customer, business day, time, direction, amount, category, channel
    (1, "2026-06-10", "09:00", "in", "10000.00", "salary", "online"),
    (1, "2026-06-20", "12:00", "out", "2000.00", "shopping", "mobile"),
    (1, "2026-06-30", "23:30", "out", "500.00", "dining", "pos"),  # the as-of day's last half hour
    (1, "2026-07-01", "00:30", "out", "999.00", "dining", "pos"),  # June in UTC, July in Beijing: after
    (1, "2026-04-15", "10:00", "in", "3000.00", "transfer", "counter"),
    (1, "2026-02-15", "10:00", "out", "400.00", "groceries", "mobile"),  # the 3 months before the last 3
    (1, "2025-12-01", "10:00", "out", "100.00", "utilities", "atm"),
]
BALANCES = [  # month, customer, category, month-end balance
    ("2026-06", 1, "deposit", "100000.00"),
    ("2026-06", 1, "wealth", "50000.00"),
    ("2026-06", 1, "loan", "300000.00"),  # a loan is no asset
    ("2026-05", 1, "deposit", "90000.00"),
    ("2026-04", 1, "deposit", "80000.00"),
    ("2026-03", 1, "deposit", "120000.00"),
]


def _tables() -> tuple[Any, Any, Any]:
    money = pa.decimal128(20, 2)
    transactions = pa.table(
        {
            "customer_id": pa.array([t[0] for t in TRANSACTIONS], pa.int64()),
            "booked_at": pa.array([_booked(t[1], t[2]) for t in TRANSACTIONS], pa.timestamp("us", tz="UTC")),
            "direction": [t[3] for t in TRANSACTIONS],
            "amount": pa.array([Decimal(t[4]) for t in TRANSACTIONS], money),
            "category": [t[5] for t in TRANSACTIONS],
            "channel": [t[6] for t in TRANSACTIONS],
        }
    )
    balances = pa.table(
        {
            "month": [b[0] for b in BALANCES],
            "customer_id": pa.array([b[1] for b in BALANCES], pa.int64()),
            "category": [b[2] for b in BALANCES],
            "balance": pa.array([Decimal(b[3]) for b in BALANCES], money),
        }
    )
    customers = pa.table(
        {
            "customer_id": pa.array([1, 2], pa.int64()),
            "birth_date": pa.array([date(1980, 7, 15), None], pa.date32()),
            "first_opened_on": pa.array([date(2020, 3, 31), None], pa.date32()),
            "product_count": pa.array([3, 0], pa.int64()),
            "product_breadth": pa.array([2, 0], pa.int64()),
            "credit_products": pa.array([1, 0], pa.int64()),
            "overdue_days_max": pa.array([45, 0], pa.int64()),
            "overdue_amount": pa.array([Decimal("1200.00"), None], pa.decimal128(20, 2)),
        }
    )
    return ibis.memtable(transactions), ibis.memtable(balances), ibis.memtable(customers)


@pytest.fixture(scope="module")
def features() -> dict[int, dict[str, Any]]:
    backend = ibis.duckdb.from_connection(duckdb.connect())
    transactions, balances, customers = _tables()
    table = backend.to_pyarrow(customer_features(transactions, balances, customers, as_of=AS_OF))
    return {row["customer_id"]: row for row in table.to_pylist()}


def test_aum_is_the_month_end_assets_without_loans(features) -> None:  # type: ignore[no-untyped-def]
    row = features[1]
    assert row["balance_month"] == "2026-06"
    assert row["aum"] == Decimal("150000.00")
    assert row["balance_deposit"] == Decimal("100000.00")
    assert row["balance_wealth"] == Decimal("50000.00")


def test_monthly_daily_average_follows_the_flows_of_the_month(features) -> None:  # type: ignore[no-untyped-def]
    # Days 1-9 end at 142,500, days 10-19 at 152,500, days 20-29 at 150,500, day 30 at 150,000.
    assert features[1]["aum_mda"] == Decimal("148750.00")


def test_quarterly_daily_average_weights_the_three_months_by_their_days(features) -> None:  # type: ignore[no-untyped-def]
    # June 148,750 (30 days), May 90,000 (31), April 80,000 - 3,000 x 14 / 30 = 78,600 (30).
    expected = (Decimal("148750") * 30 + Decimal("90000") * 31 + Decimal("78600") * 30) / 91
    assert abs(features[1]["aum_qda"] - expected) <= Decimal("0.01")


def test_counts_and_amounts_by_direction_over_1_3_and_12_months(features) -> None:  # type: ignore[no-untyped-def]
    row = features[1]
    assert (row["txn_in_count_1m"], row["txn_in_amount_1m"]) == (1, Decimal("10000.00"))
    assert (row["txn_out_count_1m"], row["txn_out_amount_1m"]) == (2, Decimal("2500.00"))
    assert (row["txn_in_count_3m"], row["txn_in_amount_3m"]) == (2, Decimal("13000.00"))
    assert (row["txn_out_count_3m"], row["txn_out_amount_3m"]) == (2, Decimal("2500.00"))
    assert (row["txn_out_count_12m"], row["txn_out_amount_12m"]) == (4, Decimal("3000.00"))


def test_recency_frequency_and_monetary_value(features) -> None:  # type: ignore[no-untyped-def]
    row = features[1]
    assert row["recency_days"] == 0  # the last half hour of the as-of day counts, the next day's not
    assert row["frequency_12m"] == 6
    assert row["monetary_12m"] == Decimal("16000.00")


def test_digital_share_and_three_month_trends(features) -> None:  # type: ignore[no-untyped-def]
    row = features[1]
    assert row["digital_txn_3m"] == 2  # online and mobile; counter and POS are not digital
    assert row["digital_share_3m"] == pytest.approx(0.5)
    assert row["aum_change_3m"] == pytest.approx(0.25)  # 120,000 at the end of March
    assert row["txn_count_change_3m"] == pytest.approx(3.0)  # 4 against 1 in the three months before


def test_tenure_age_and_products(features) -> None:  # type: ignore[no-untyped-def]
    row = features[1]
    assert row["tenure_months"] == 74  # 2020-03-31 to 2026-06-30: the 31st has not come in June
    assert row["age_years"] == 45  # the 46th birthday is on 15 July
    assert (row["product_count"], row["product_breadth"]) == (3, 2)


def test_the_credit_status_of_the_profile_is_kept_with_the_run(features) -> None:  # type: ignore[no-untyped-def]
    row = features[1]
    assert (row["credit_products"], row["overdue_days_max"], row["overdue_amount"]) == (
        1,
        45,
        Decimal("1200.00"),
    )
    assert (features[2]["overdue_days_max"], features[2]["overdue_amount"]) == (0, Decimal("0.00"))


def test_a_customer_without_history_has_zeros_and_unknowns_not_errors(features) -> None:  # type: ignore[no-untyped-def]
    row = features[2]
    assert row["aum"] == row["aum_mda"] == row["aum_qda"] == Decimal("0")
    assert row["frequency_12m"] == 0
    assert row["recency_days"] is None
    assert row["age_years"] is None
    assert row["tenure_months"] is None
    assert row["digital_share_3m"] is None
    assert row["aum_change_3m"] is None


def test_breakdown_by_category_and_channel_over_the_windows() -> None:
    backend = ibis.duckdb.from_connection(duckdb.connect())
    transactions, _, _ = _tables()
    rows = backend.to_pyarrow(transaction_breakdown(transactions, as_of=AS_OF)).to_pylist()
    by_key = {(r["dimension"], r["value"]): r for r in rows if r["customer_id"] == 1}
    salary = by_key[("category", "salary")]
    assert (salary["count_1m"], salary["amount_in_1m"], salary["amount_out_1m"]) == (
        1,
        Decimal("10000.00"),
        0,
    )
    mobile = by_key[("channel", "mobile")]
    assert (mobile["count_1m"], mobile["count_3m"], mobile["count_12m"]) == (1, 1, 2)  # June, and February
    assert mobile["amount_out_12m"] == Decimal("2400.00")
    assert ("category", "utilities") in by_key  # December: within 12 months
    assert all(r["as_of"] == AS_OF for r in rows)
    # The day after the as-of date is not counted anywhere.
    assert by_key[("channel", "pos")]["amount_out_12m"] == Decimal("500.00")


def test_a_daily_average_of_exactly_half_a_cent_rounds_up() -> None:
    # 100.05 out on 2 June and nothing left at the end: only June's first day ended with 100.05, so
    # the 30 days average 3.335. Rounded as a decimal (half up) on every engine, not as the double
    # nearest 3.335 would be (3.33).
    money = pa.decimal128(20, 2)
    transactions = pa.table(
        {
            "customer_id": pa.array([3], pa.int64()),
            "booked_at": pa.array([_booked("2026-06-02", "10:00")], pa.timestamp("us", tz="UTC")),
            "direction": ["out"],
            "amount": pa.array([Decimal("100.05")], money),
            "category": ["transfer"],
            "channel": ["online"],
        }
    )
    balances = pa.table(
        {
            "month": ["2026-06"],
            "customer_id": pa.array([3], pa.int64()),
            "category": ["deposit"],
            "balance": pa.array([Decimal("0.00")], money),
        }
    )
    customers = pa.table(
        {
            "customer_id": pa.array([3], pa.int64()),
            "birth_date": pa.array([None], pa.date32()),
            "first_opened_on": pa.array([None], pa.date32()),
            "product_count": pa.array([1], pa.int64()),
            "product_breadth": pa.array([1], pa.int64()),
            "credit_products": pa.array([0], pa.int64()),
            "overdue_days_max": pa.array([0], pa.int64()),
            "overdue_amount": pa.array([Decimal("0.00")], pa.decimal128(20, 2)),
        }
    )
    backend = ibis.duckdb.from_connection(duckdb.connect())
    expression = customer_features(
        ibis.memtable(transactions), ibis.memtable(balances), ibis.memtable(customers), as_of=AS_OF
    )
    (row,) = backend.to_pyarrow(expression).to_pylist()
    assert row["aum_mda"] == Decimal("3.34")
