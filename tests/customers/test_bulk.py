"""Bulk loading: the same validation as the form, rejects reported per record, the rest loaded once."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from bankcrm.core.context import Actor
from bankcrm.core.pagination import PageRequest
from bankcrm.customers import repository
from bankcrm.customers.models import ContactPoint, Customer
from bankcrm.customers.schemas import CustomerFilter
from bankcrm.customers.service import bulk, customers, holdings
from tests.customers.conftest import resident_id, unit_id, user_id

LOADER = Actor.system("test-bulk")


def record(db: Session, **fields: object) -> bulk.CustomerRecord:
    values: dict[str, object] = {
        "kind": "individual",
        "name": "钱学森",
        "id_type": "resident_id",
        "id_number": resident_id(date(1971, 12, 11)),
        "mobile": "13901234567",
    }
    values.update(fields)
    return bulk.CustomerRecord(
        fields=values, org_unit_id=unit_id(db, "BJ-HD-T1"), primary_rm_id=user_id(db, "rm.zhang")
    )


def test_good_records_load_and_bad_ones_are_reported_with_field_and_rule(db: Session, as_user, demo) -> None:  # type: ignore[no-untyped-def]
    repeated = resident_id(date(1980, 5, 5))
    records = [
        record(db, name="赵一"),
        record(db, name="钱二", id_number="110101199002301234"),  # 30 February
        record(db, name="孙三", mobile="999"),
        record(db, name="李四", id_number=repeated),
        record(db, name="李四的重复", id_number=repeated),
        record(db, name="", id_number=resident_id(date(1990, 1, 1))),
    ]
    result = bulk.load_customers(db, LOADER, records, batch_label="test-1")
    assert len(result.loaded_ids) == 2
    assert {(r.index, r.field, r.rule) for r in result.rejected} == {
        (1, "id_number", "id.birth_date"),
        (2, "mobile", "mobile.format"),
        (4, "id_number", "customer.id_repeated"),
        (5, "name", "string_too_short"),
    }
    found = customers.list_customers(
        db, as_user("rm.zhang"), filters=CustomerFilter(q="zy"), page=PageRequest(1, 10)
    )
    assert [c.name for c in found.items] == ["赵一"]
    numbers = (
        db.execute(select(Customer.customer_no).where(Customer.id.in_(result.loaded_ids))).scalars().all()
    )
    assert all(n.startswith("C") and len(n) == 11 for n in numbers)


def test_loading_the_same_people_again_adds_nobody(db: Session, demo) -> None:  # type: ignore[no-untyped-def]
    records = [record(db, name=f"客户{i}", id_number=resident_id(date(1985, 1, i + 1))) for i in range(5)]
    first = bulk.load_customers(db, LOADER, records, batch_label="a")
    again = bulk.load_customers(db, LOADER, records, batch_label="a-rerun")
    assert len(first.loaded_ids) == 5
    assert again.loaded_ids == []
    assert {r.rule for r in again.rejected} == {"customer.id_unique"}
    assert db.execute(select(func.count()).select_from(Customer)).scalar_one() == 5


def test_numbers_from_bulk_and_single_creation_never_collide(db: Session, demo, make_customer) -> None:  # type: ignore[no-untyped-def]
    single = make_customer(name="单个")
    loaded = bulk.load_customers(
        db, LOADER, [record(db, name="批量", id_number=resident_id(date(1970, 3, 3)))], batch_label="b"
    )
    another = make_customer(name="又一个")
    numbers = {single.customer_no, another.customer_no, db.get(Customer, loaded.loaded_ids[0]).customer_no}  # type: ignore[union-attr]
    assert len(numbers) == 3


def test_ids_and_child_rows_follow_the_records_whatever_values_are_missing(db: Session, demo) -> None:  # type: ignore[no-untyped-def]
    """Records with different missing values (no mobile, no e-mail, no address) are inserted in
    one statement batch; every id must still belong to its record, and every contact to its owner."""
    records = []
    for i in range(40):
        fields: dict[str, object] = {
            "name": f"客户{i:02d}",
            "id_number": resident_id(date(1975, 1 + i % 12, 1 + i % 28)),
        }
        if i % 3 == 0:
            fields["mobile"] = None
        if i % 4 == 0:
            fields["email"] = f"c{i}@example.com"
        if i % 5 == 0:
            fields["address"] = f"北京市海淀区学院路{i}号"
        records.append(record(db, **fields))
    result = bulk.load_customers(db, LOADER, records, batch_label="mixed")
    assert result.rejected == []
    rows = {c.id: c for c in db.execute(select(Customer).where(Customer.id.in_(result.loaded_ids))).scalars()}
    assert [rows[i].name for i in result.loaded_ids] == [f"客户{i:02d}" for i in range(40)]
    assert [rows[i].mobile is None for i in result.loaded_ids] == [i % 3 == 0 for i in range(40)]
    contacts = db.execute(select(ContactPoint.customer_id, ContactPoint.kind, ContactPoint.value)).all()
    emails = {owner: value for owner, kind, value in contacts if kind == "email"}
    assert emails == {result.loaded_ids[i]: f"c{i}@example.com" for i in range(0, 40, 4)}
    assert {owner for owner, kind, _value in contacts if kind == "mobile"} == {
        result.loaded_ids[i] for i in range(40) if i % 3
    }


def test_a_record_with_known_assets_is_stored_with_that_aum_and_its_tier(db: Session, demo) -> None:  # type: ignore[no-untyped-def]
    amounts = [Decimal("0"), Decimal("49999.99"), Decimal("50000"), Decimal("600000"), Decimal("6000000")]
    records = [
        dataclasses.replace(
            record(db, name=f"资产{i}", id_number=resident_id(date(1966, 2, i + 1))), aum=amount
        )
        for i, amount in enumerate(amounts)
    ]
    result = bulk.load_customers(db, LOADER, records, batch_label="aum")
    rows = {c.id: c for c in db.execute(select(Customer).where(Customer.id.in_(result.loaded_ids))).scalars()}
    assert [(rows[i].aum, rows[i].tier) for i in result.loaded_ids] == [
        (Decimal("0"), "mass"),
        (Decimal("49999.99"), "mass"),
        (Decimal("50000"), "affluent"),
        (Decimal("600000"), "vip"),
        (Decimal("6000000"), "private"),
    ]


def test_generated_wealth_splits_into_holdings_that_add_up_to_its_aum() -> None:
    modest = holdings.split_wealth(30000.004)
    assert (modest.savings, modest.fixed, modest.invested) == (Decimal("10500.00"), 0, 0)
    rich = holdings.split_wealth(100000.0)
    assert (rich.savings, rich.fixed, rich.invested) == (
        Decimal("35000.00"),
        Decimal("25000.00"),
        Decimal("40000.00"),
    )
    assert rich.aum == Decimal("100000.00")


def test_the_id_holder_lookup_searches_the_digest_index_on_sqlite(db: Session) -> None:
    """A delivery looks up its ID holders 500 digests at a time. Asked with the status in SQL,
    SQLite (no planner statistics) read every active customer per chunk through the status index,
    which made linking a delivery grow with the size of the store."""
    if db.get_bind().dialect.name != "sqlite":
        pytest.skip("the query plan checked is SQLite's; PostgreSQL keeps its own statistics")
    statement = repository.holders_of(["a" * 64, "b" * 64]).compile(
        dialect=db.get_bind().dialect, compile_kwargs={"literal_binds": True}
    )
    plan = " ".join(str(row[-1]) for row in db.execute(text(f"EXPLAIN QUERY PLAN {statement}")))
    assert "USING INDEX ix_customer_id_digest" in plan, plan
