"""The scoring run end to end: operational profile and lake history in, features by date in the
lake and the key scores written back; running it again for a date gives the same result."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy.orm import Session

from bankcrm.core.context import Actor
from bankcrm.core.lake import Lake
from bankcrm.customers import lake_repository
from bankcrm.customers.service import holdings, scoring, view360
from bankcrm.segmentation.jobs import BREAKDOWN, FEATURES, compute_features, store_breakdown, store_features
from tests.customers.conftest import unit_id
from tests.segmentation.bank import credit_account

AS_OF = date(2026, 10, 31)


def _history(lake: Lake, customer_id: int) -> None:
    rows = [
        {
            "txn_id": f"S{customer_id}-{i}",
            "customer_id": customer_id,
            "account_no": "6222020200005678",
            "booked_at": datetime(2026, 10, 1 + i, 2, 0, tzinfo=UTC),
            "direction": "out",
            "amount": Decimal("100.00"),
            "currency": "CNY",
            "category": "groceries",
            "channel": "mobile",
            "counterparty": None,
            "description": None,
        }
        for i in range(4)
    ]
    table = pa.Table.from_pylist(rows, schema=lake_repository.TRANSACTION_SCHEMA)
    lake_repository.write_transactions(lake, table, batch_key="t1")
    for month, amount in (("2026-07", "40000"), ("2026-10", "50000")):
        balances = pa.table(
            {"customer_id": [customer_id], "category": ["deposit"], "balance": [Decimal(amount)]}
        )
        lake_repository.write_balances(lake, month, balances, batch_key="b1")


def _with_products(db: Session, customer_id: int) -> None:
    system = Actor.system("test")
    holdings.ensure_product(db, code="DEP", name="活期储蓄", category="deposit")
    holdings.ensure_product(db, code="FUND-A", name="沪深300指数基金", category="fund", risk_level="R4")
    holdings.record_account(
        db,
        system,
        customer_id=customer_id,
        account_no="6222020200005678",
        product_code="DEP",
        kind="savings",
        balance=Decimal("50000.00"),
        opened_on=date(2019, 3, 1),
        org_unit_id=unit_id(db, "BJ-HD"),
    )
    holdings.record_holding(
        db,
        system,
        customer_id=customer_id,
        product_code="FUND-A",
        units=Decimal("1000"),
        cost=Decimal("4000"),
        market_value=Decimal("4321.00"),
        valued_on=date(2026, 10, 30),
        acquired_on=date(2024, 1, 2),
    )


def test_a_run_stores_features_by_date_and_writes_the_key_scores_back(
    db: Session, lake: Lake, make_customer
) -> None:  # type: ignore[no-untyped-def]
    person = make_customer(name="李四")
    _with_products(db, person.id)
    _history(lake, person.id)

    features = compute_features(db, lake, as_of=AS_OF)
    store_features(db, lake, features, as_of=AS_OF)

    stored = pq.read_table(lake.dataset_dir(FEATURES) / f"as_of={AS_OF.isoformat()}")
    row = next(r for r in stored.to_pylist() if r["customer_id"] == person.id)
    assert row["aum"] == Decimal("50000.00")
    assert row["txn_out_count_1m"] == 4
    assert row["product_count"] == 2  # the savings account and the fund position
    assert row["product_breadth"] == 2
    assert row["tenure_months"] == (2026 - 2019) * 12 + (10 - 3)
    assert row["aum_change_3m"] == 0.25
    score = scoring.latest_score(db, person.id)
    assert score is not None
    assert score.as_of == AS_OF
    assert score.frequency_12m == 4
    assert score.monetary_12m == Decimal("400.00")
    assert score.product_breadth == 2


def test_a_run_keeps_the_credit_status_of_open_loans_and_cards(
    db: Session, lake: Lake, make_customer
) -> None:  # type: ignore[no-untyped-def]
    borrower, saver = make_customer(name="赵贷"), make_customer(name="钱存")
    _with_products(db, saver.id)
    credit_account(db, borrower.id, "L-1", "loan", 100, "5000.00")
    credit_account(db, borrower.id, "C-1", "credit_card", 20, "800.00")
    credit_account(db, borrower.id, "L-0", "loan", 400, "9000.00", status="closed")  # not held any more
    rows = {row["customer_id"]: row for row in compute_features(db, lake, as_of=AS_OF).to_pylist()}
    assert [rows[borrower.id][k] for k in ("credit_products", "overdue_days_max", "overdue_amount")] == [
        2,
        100,
        Decimal("5800.00"),
    ]
    assert [rows[saver.id][k] for k in ("credit_products", "overdue_days_max", "overdue_amount")] == [
        0,
        0,
        Decimal("0.00"),
    ]


def test_running_again_for_the_same_date_gives_the_same_result(
    db: Session, lake: Lake, make_customer
) -> None:  # type: ignore[no-untyped-def]
    person = make_customer(name="王五")
    _with_products(db, person.id)
    _history(lake, person.id)
    first = compute_features(db, lake, as_of=AS_OF)
    store_features(db, lake, first, as_of=AS_OF)
    again = compute_features(db, lake, as_of=AS_OF)
    store_features(db, lake, again, as_of=AS_OF)

    assert again.equals(first)
    folder = lake.dataset_dir(FEATURES) / f"as_of={AS_OF.isoformat()}"
    assert len(list(folder.glob("*.parquet"))) == 1  # replaced, not added
    assert pq.read_table(folder).num_rows == first.num_rows


def test_each_date_is_kept_so_history_can_train_and_test_models(
    db: Session, lake: Lake, make_customer
) -> None:  # type: ignore[no-untyped-def]
    person = make_customer(name="赵六")
    _history(lake, person.id)
    for as_of in (date(2026, 9, 30), AS_OF):
        store_features(db, lake, compute_features(db, lake, as_of=as_of), as_of=as_of)
    dates = sorted(path.name for path in lake.dataset_dir(FEATURES).iterdir())
    assert dates == ["as_of=2026-09-30", "as_of=2026-10-31"]
    score = scoring.latest_score(db, person.id)
    assert score is not None
    assert score.as_of == AS_OF  # the operational store keeps the latest run


def test_a_bank_without_history_scores_its_customers_with_zeros(
    db: Session, lake: Lake, make_customer
) -> None:  # type: ignore[no-untyped-def]
    person = make_customer(name="孙七")
    features = compute_features(db, lake, as_of=AS_OF)
    row = next(r for r in features.to_pylist() if r["customer_id"] == person.id)
    assert row["aum"] == Decimal("0.00")
    assert row["frequency_12m"] == 0
    assert row["recency_days"] is None


def test_the_360_view_shows_the_written_back_figures_with_their_date(
    db: Session, lake: Lake, make_customer, as_user
) -> None:  # type: ignore[no-untyped-def]
    person = make_customer(name="周八")  # rm.zhang's customer
    _with_products(db, person.id)
    _history(lake, person.id)
    before = {s.name: s for s in view360.scores(db, as_user("rm.zhang"), customer_id=person.id)}
    assert "Monthly daily average AUM" not in before  # nothing shown before the run

    store_features(db, lake, compute_features(db, lake, as_of=AS_OF), as_of=AS_OF)

    shown = {s.name: s for s in view360.scores(db, as_user("rm.zhang"), customer_id=person.id)}
    assert shown["Transactions in the last 12 months"].value == "4"
    assert shown["AUM change over 3 months"].value == "+25%"
    assert shown["Digital share of transactions (3 months)"].value == "100%"
    assert shown["Monthly daily average AUM"].computed_on == AS_OF
    # The only customer scored: the lowest value is also the highest, so every score is 1.
    assert (shown["RFM segment"].value, shown["RFM segment"].segment) == ("R1 F1 M1", "general_winback")
    assert shown["RFM segment"].computed_on == AS_OF
    assert shown["Lifetime value"].value is None  # one customer cannot fit the CLV models: not invented


def test_the_scores_section_names_the_segment_and_the_runs_date(
    db: Session, lake: Lake, make_customer, signed_in
) -> None:  # type: ignore[no-untyped-def]
    person = make_customer(name="吴九")
    _history(lake, person.id)
    rm = signed_in("rm.zhang")
    empty = rm.client.get(f"/customers/{person.id}/sections/scores")
    assert "尚未计算" in empty.text
    assert "截至" not in empty.text

    store_features(db, lake, compute_features(db, lake, as_of=AS_OF), as_of=AS_OF)

    section = rm.client.get(f"/customers/{person.id}/sections/scores")
    assert section.status_code == 200
    assert 'data-segment="general_winback">一般挽留客户</span>R1 F1 M1' in section.text
    assert "截至 2026-10-31" in section.text
    assert "月日均资产" in section.text


def test_the_breakdown_by_category_and_channel_is_kept_by_date(
    db: Session, lake: Lake, make_customer
) -> None:  # type: ignore[no-untyped-def]
    person = make_customer(name="郑十")
    _history(lake, person.id)
    assert store_breakdown(lake, as_of=AS_OF) == 2  # groceries, and mobile
    assert store_breakdown(lake, as_of=AS_OF) == 2  # again: replaced, the same
    stored = pq.read_table(lake.dataset_dir(BREAKDOWN) / f"as_of={AS_OF.isoformat()}").to_pylist()
    assert sorted((r["dimension"], r["value"], r["count_1m"]) for r in stored) == [
        ("category", "groceries", 4),
        ("channel", "mobile", 4),
    ]
