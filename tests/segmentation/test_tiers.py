"""Value tiers from the kept monthly daily averages: up at once, down only after the grace period."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import duckdb
import ibis
import pyarrow as pa
import pytest
from sqlalchemy.orm import Session

from bankcrm.core.config import Settings
from bankcrm.core.lake import Lake
from bankcrm.customers.service import scoring
from bankcrm.segmentation.features import Month
from bankcrm.segmentation.jobs import FEATURES, compute_features, store_features
from bankcrm.segmentation.tiers import tier_decisions

THRESHOLDS = Settings(secret_key="x" * 40).tier_thresholds  # DOMAIN.md's defaults
MONTH = Month(2026, 10)


def _decide(
    history: list[tuple[int, str, str, str]], current: dict[int, str], grace: int = 3
) -> dict[int, dict[str, Any]]:
    """history: (customer, balance month, as-of date, aum_mda)."""
    runs = pa.table(
        {
            "customer_id": pa.array([h[0] for h in history], pa.int64()),
            "balance_month": [h[1] for h in history],
            "as_of": pa.array([date.fromisoformat(h[2]) for h in history], pa.date32()),
            "aum_mda": pa.array([Decimal(h[3]) for h in history], pa.decimal128(20, 2)),
        }
    )
    tiers = pa.table({"customer_id": pa.array(list(current), pa.int64()), "tier": list(current.values())})
    decided = tier_decisions(
        ibis.memtable(runs), ibis.memtable(tiers), month=MONTH, grace_months=grace, thresholds=THRESHOLDS
    )
    backend = ibis.duckdb.from_connection(duckdb.connect())
    return {row["customer_id"]: row for row in backend.to_pyarrow(decided).to_pylist()}


def _months(customer: int, *amounts: str) -> list[tuple[int, str, str, str]]:
    """Amounts for October, September, August … (latest first), each scored at its month end."""
    ends = {
        "2026-10": "2026-10-31",
        "2026-09": "2026-09-30",
        "2026-08": "2026-08-31",
        "2026-07": "2026-07-31",
    }
    return [(customer, month, ends[month], amount) for month, amount in zip(ends, amounts, strict=False)]


def test_a_month_above_the_tier_moves_the_customer_up_at_once() -> None:
    decided = _decide(_months(1, "60000.00"), {1: "mass"})
    assert (decided[1]["from_tier"], decided[1]["to_tier"], decided[1]["reason"]) == (
        "mass",
        "affluent",
        "upgrade",
    )
    assert (decided[1]["aum_mda"], decided[1]["balance_month"]) == (Decimal("60000.00"), "2026-10")


def test_a_customer_falls_only_when_every_month_of_the_grace_period_was_below() -> None:
    decided = _decide(
        [
            *_months(1, "300000.00", "200000.00", "100000.00"),  # three months below VIP
            *_months(2, "300000.00", "600000.00", "100000.00"),  # one month still VIP
            *_months(3, "300000.00", "200000.00"),  # two months only: too soon to tell
        ],
        {1: "vip", 2: "vip", 3: "vip"},
    )
    assert (decided[1]["to_tier"], decided[1]["reason"]) == ("affluent", "downgrade")  # the best of the three
    assert 2 not in decided
    assert 3 not in decided


def test_a_month_scored_twice_counts_with_its_latest_run() -> None:
    history = [
        (1, "2026-10", "2026-11-01", "40000.00"),
        (1, "2026-10", "2026-11-15", "70000.00"),  # the balances were delivered again, corrected
    ]
    assert _decide(history, {1: "mass"})[1]["to_tier"] == "affluent"


def test_nothing_moves_for_a_customer_within_the_tier() -> None:
    assert _decide(_months(1, "120000.00", "80000.00", "300000.00"), {1: "affluent"}) == {}


def test_the_grace_period_and_the_thresholds_are_configuration() -> None:
    shorter = _decide(_months(1, "300000.00"), {1: "vip"}, grace=1)
    assert shorter[1]["to_tier"] == "affluent"
    with pytest.raises(ValueError, match="tier thresholds must rise"):
        Settings(secret_key="x" * 40, tier_vip_from=Decimal("40000"))


def test_the_scoring_run_moves_customers_and_keeps_each_move_with_its_input(
    db: Session, lake: Lake, make_customer
) -> None:  # type: ignore[no-untyped-def]
    from tests.segmentation.test_scoring_run import _history

    person = make_customer(name="冯一")
    _history(lake, person.id)  # October ends at 50,000 after four small payments: affluent
    as_of = date(2026, 10, 31)
    store_features(db, lake, compute_features(db, lake, as_of=as_of), as_of=as_of)

    tiers = {row["customer_id"]: row["tier"] for row in scoring.current_tiers(db).to_pylist()}
    assert tiers[person.id] == "affluent"
    change = scoring.last_tier_change(db, person.id)
    assert change is not None
    assert (change.from_tier, change.to_tier, change.reason, change.balance_month) == (
        "mass",
        "affluent",
        "upgrade",
        "2026-10",
    )
    # 50,000 at the month end, 100 paid on each of 1-4 October: the earlier days held more.
    # 50,000 + 100 x (0 + 1 + 2 + 3) / 31 days, to the fen.
    assert change.aum_mda == Decimal("50019.35")
    assert (lake.dataset_dir(FEATURES) / "as_of=2026-10-31").is_dir()


def test_once_tiered_a_days_balance_no_longer_moves_the_tier(db: Session, lake: Lake, make_customer) -> None:  # type: ignore[no-untyped-def]
    from bankcrm.core.context import Actor
    from bankcrm.customers.service import holdings
    from tests.customers.conftest import unit_id
    from tests.segmentation.test_scoring_run import _history

    person = make_customer(name="陈二")
    _history(lake, person.id)
    as_of = date(2026, 10, 31)
    store_features(db, lake, compute_features(db, lake, as_of=as_of), as_of=as_of)
    holdings.ensure_product(db, code="DEP", name="活期储蓄", category="deposit")
    holdings.record_account(
        db,
        Actor.system("test"),
        customer_id=person.id,
        account_no="6222020200009999",
        product_code="DEP",
        kind="savings",
        balance=Decimal("900000.00"),  # a VIP's balance for a day
        opened_on=date(2026, 11, 2),
        org_unit_id=unit_id(db, "BJ-HD"),
    )
    tiers = {row["customer_id"]: row["tier"] for row in scoring.current_tiers(db).to_pylist()}
    assert tiers[person.id] == "affluent"  # the monthly daily average decides, at the next run
