"""The 360° view: assets, accounts, lake transactions, timeline, scores; JSON for other systems."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from bankcrm.core.config import Settings
from bankcrm.core.context import Actor
from bankcrm.core.lake import Lake
from bankcrm.core.pagination import PageRequest
from bankcrm.customers import lake_repository
from bankcrm.customers.schemas import InteractionIn, RevealIn, TagIn, TransactionFilter
from bankcrm.customers.service import customers, holdings, interactions, tags, view360
from tests.customers.conftest import unit_id


@pytest.fixture
def lake(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Lake:
    monkeypatch.setattr(settings, "lake_dir", tmp_path / "lake")
    return Lake(settings.lake_root)


def transactions_for(customer_id: int, count: int, start: datetime) -> pa.Table:
    rows = [
        {
            "txn_id": f"T{customer_id}-{i:06d}",
            "customer_id": customer_id,
            "account_no": "6222020200001234",
            "booked_at": start + timedelta(hours=7 * i),
            "direction": "in" if i % 5 == 0 else "out",
            "amount": Decimal("15000.00") if i % 5 == 0 else Decimal(f"{(i % 97) + 1}.50"),
            "currency": "CNY",
            "category": "salary" if i % 5 == 0 else "groceries",
            "channel": "mobile" if i % 2 else "pos",
            "counterparty": "某某超市",
            "description": None,
        }
        for i in range(count)
    ]
    return pa.Table.from_pylist(rows, schema=lake_repository.TRANSACTION_SCHEMA)


@pytest.fixture
def rich_customer(db: Session, make_customer, lake: Lake):  # type: ignore[no-untyped-def]
    person = make_customer(name="钱多多")
    system = Actor.system("t")
    holdings.ensure_product(db, code="DEP", name="活期储蓄", category="deposit")
    holdings.ensure_product(db, code="FUND-A", name="沪深300指数基金", category="fund", risk_level="R4")
    holdings.ensure_product(db, code="LOAN-HOUSE", name="个人住房贷款", category="loan")
    holdings.record_account(
        db,
        system,
        customer_id=person.id,
        account_no="6222020200001234",
        product_code="DEP",
        kind="savings",
        balance=Decimal("88000.00"),
        opened_on=date(2019, 3, 1),
        org_unit_id=unit_id(db, "BJ-HD"),
    )
    holdings.record_account(
        db,
        system,
        customer_id=person.id,
        account_no="9558800000000001",
        product_code="LOAN-HOUSE",
        kind="loan",
        balance=Decimal("-1200000.00"),
        opened_on=date(2021, 6, 1),
        overdue_days=35,
        overdue_amount=Decimal("8200.00"),
        org_unit_id=unit_id(db, "BJ-HD"),
    )
    holdings.record_holding(
        db,
        system,
        customer_id=person.id,
        product_code="FUND-A",
        units=Decimal("10000"),
        cost=Decimal("40000"),
        market_value=Decimal("43210.00"),
        valued_on=date(2026, 11, 27),
        acquired_on=date(2024, 1, 2),
    )
    start = datetime(2025, 12, 1, tzinfo=UTC)
    lake_repository.write_transactions(lake, transactions_for(person.id, 10_000, start), batch_key="b1")
    lake_repository.write_transactions(lake, transactions_for(person.id + 1000, 50, start), batch_key="b2")
    for month, amount in (("2026-09", "100000"), ("2026-10", "120000"), ("2026-11", "131210")):
        lake_repository.write_balances(
            lake,
            month,
            pa.table({"customer_id": [person.id], "category": ["deposit"], "balance": [Decimal(amount)]}),
            batch_key="bal",
        )
    return person


def test_assets_sum_deposits_and_investments_and_show_the_trend(db: Session, as_user, rich_customer) -> None:  # type: ignore[no-untyped-def]
    assets = view360.assets(db, as_user("rm.zhang"), customer_id=rich_customer.id)
    assert assets.aum == Decimal("131210.00")
    assert assets.by_category == {"deposit": Decimal("88000.00"), "fund": Decimal("43210.00")}
    assert assets.liabilities == Decimal("1200000.00")
    assert [month for month, _ in assets.trend] == ["2026-09", "2026-10", "2026-11"]


def test_accounts_are_masked_and_loans_show_overdue(db: Session, as_user, rich_customer) -> None:  # type: ignore[no-untyped-def]
    accounts = view360.accounts(db, as_user("rm.zhang"), customer_id=rich_customer.id)
    loan = next(a for a in accounts if a.kind == "loan")
    assert loan.overdue_days == 35
    assert all("*" in a.account_no for a in accounts)


def test_counterparties_are_masked_like_names_for_roles_that_may_not_see_names(
    db: Session, as_user, rich_customer
) -> None:  # type: ignore[no-untyped-def]
    def counterparties(username: str) -> set[str | None]:
        page = view360.transactions(
            db,
            as_user(username),
            customer_id=rich_customer.id,
            filters=TransactionFilter(),
            page=PageRequest(1, 5),
        )
        return {t.counterparty for t in page.items}

    assert counterparties("rm.zhang") == {"某某超市"}
    assert counterparties("analyst") == {"某某**"}


def test_ten_thousand_transactions_page_newest_first_and_filter(db: Session, as_user, rich_customer) -> None:  # type: ignore[no-untyped-def]
    rm = as_user("rm.zhang")
    first = view360.transactions(
        db, rm, customer_id=rich_customer.id, filters=TransactionFilter(), page=PageRequest(1, 50)
    )
    assert first.total == 10_000
    assert len(first.items) == 50
    times = [t.booked_at for t in first.items]
    assert times == sorted(times, reverse=True)
    last = view360.transactions(
        db, rm, customer_id=rich_customer.id, filters=TransactionFilter(), page=PageRequest(200, 50)
    )
    assert len(last.items) == 50
    salaries = view360.transactions(
        db,
        rm,
        customer_id=rich_customer.id,
        filters=TransactionFilter(direction="in", min_amount=Decimal("10000")),
        page=PageRequest(1, 10),
    )
    assert salaries.total == 2000
    assert all(t.category == "salary" for t in salaries.items)
    one_day = view360.transactions(
        db,
        rm,
        customer_id=rich_customer.id,
        filters=TransactionFilter(date_from=date(2025, 12, 2), date_to=date(2025, 12, 2)),
        page=PageRequest(1, 50),
    )
    assert 0 < one_day.total <= 4


def test_a_customer_whose_bucket_has_no_history_yet_has_no_transactions(  # type: ignore[no-untyped-def]
    db: Session, as_user, make_customer, lake: Lake
) -> None:
    person = make_customer(name="袁新")
    other = person.id + 1 if (person.id + 1) % lake_repository.BUCKETS else person.id + 2
    lake_repository.write_transactions(
        lake, transactions_for(other, 3, datetime(2026, 1, 5, tzinfo=UTC)), batch_key="other"
    )
    page = view360.transactions(
        db, as_user("rm.zhang"), customer_id=person.id, filters=TransactionFilter(), page=PageRequest(1, 25)
    )
    assert (page.items, page.total) == ([], 0)


def test_timeline_merges_interactions_and_changes(db: Session, as_user, rich_customer) -> None:  # type: ignore[no-untyped-def]
    rm = as_user("rm.zhang")
    interactions.log_interaction(
        db,
        rm,
        customer_id=rich_customer.id,
        data=InteractionIn(kind="meeting", channel="branch", summary="资产配置复盘"),
    )
    items = view360.timeline(db, rm, customer_id=rich_customer.id)
    kinds = {item.kind for item in items}
    assert kinds == {"interaction", "change"}
    created = next(item for item in items if item.title == "create")
    assert {"name", "mobile", "primary_rm_id"} <= set(created.fields)


def test_tagging_many_customers_at_once_shows_on_each_timeline_with_the_tag_and_author(  # type: ignore[no-untyped-def]
    db: Session, as_user, make_customer
) -> None:
    rm = as_user("rm.zhang")
    found = [make_customer(name=f"批量客户{i}") for i in range(2)]
    tag = tags.create_tag(db, as_user("admin"), data=TagIn(code="pension", name="养老规划"))
    tags.tag_customers(db, rm, tag_id=tag.id, customer_ids=[c.id for c in found], add=True)
    tags.tag_customers(db, rm, tag_id=tag.id, customer_ids=[found[1].id], add=False)
    for customer, actions in ((found[0], ["tag"]), (found[1], ["untag", "tag"])):
        events = [i for i in view360.timeline(db, rm, customer_id=customer.id) if i.title in {"tag", "untag"}]
        assert [event.title for event in events] == actions
        assert {(event.subject, event.actor) for event in events} == {("养老规划", "张晓明")}


def test_a_reveal_on_the_timeline_names_the_field_shown(db: Session, as_user, rich_customer) -> None:  # type: ignore[no-untyped-def]
    rm = as_user("rm.zhang")
    customers.reveal(
        db, rm, customer_id=rich_customer.id, data=RevealIn(field="mobile", reason="核实来电身份")
    )
    shown = next(
        item for item in view360.timeline(db, rm, customer_id=rich_customer.id) if item.title == "unmask"
    )
    assert shown.fields == ["mobile"]


def test_scores_are_not_invented(db: Session, as_user, rich_customer) -> None:  # type: ignore[no-untyped-def]
    assert all(
        score.value is None for score in view360.scores(db, as_user("rm.zhang"), customer_id=rich_customer.id)
    )


def test_json_360_for_other_systems_and_404_out_of_scope(
    signed_in, client: TestClient, rich_customer
) -> None:  # type: ignore[no-untyped-def]
    signed_in("rm.zhang")
    document = client.get(f"/api/v1/customers/{rich_customer.id}/360")
    assert document.status_code == 200, document.text
    body = document.json()
    assert body["customer"]["name"] == "钱多多"
    assert len(body["recent_transactions"]) == 20
    assert body["assets"]["aum"] == "131210.00"
    signed_in("rm.chen")
    assert client.get(f"/api/v1/customers/{rich_customer.id}/360").status_code == 404
    assert client.get(f"/api/v1/customers/{rich_customer.id}/transactions").status_code == 404
