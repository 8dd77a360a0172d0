"""Source values for many customers at once give what one call per customer gives."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bankcrm.audit.models import AuditEvent
from bankcrm.core.context import Actor
from bankcrm.customers.models import Address, ContactPoint, Customer, CustomerSearchKey
from bankcrm.customers.service import customers, sourcing
from bankcrm.customers.service import merge as customer_merge

JOB = Actor.system("test-sourcing")
CHANGES = [  # the second customer changes twice: the later change must see the earlier one
    (0, {"mobile": "13711112222", "email": "a@new.cn", "address": "北京市东城区1号"}, "first"),
    (1, {"occupation": "教师", "risk_level": "C2", "risk_assessed_on": "2026-05-01"}, "second"),
    (1, {"mobile": "13733334444", "name": "李四", "occupation": "教师"}, "third"),
    (2, {"name": "王五", "email": ""}, "blank values are ignored"),
]


def state_of(db: Session, ids: list[int]) -> dict[str, Any]:
    db.flush()
    audit = db.execute(
        select(AuditEvent).where(AuditEvent.action == "update_from_source").order_by(AuditEvent.seq)
    ).scalars()
    return {
        "values": [customers.golden_values(db, i).values for i in ids],  # type: ignore[union-attr]
        "versions": [db.get(Customer, i).version for i in ids],  # type: ignore[union-attr]
        "contacts": sorted(
            (c.customer_id, c.kind, c.value, c.is_primary, c.valid_to, c.source)
            for c in db.execute(select(ContactPoint).where(ContactPoint.customer_id.in_(ids))).scalars()
        ),
        "addresses": sorted(
            (a.customer_id, a.kind, a.line, a.valid_to, a.source)
            for a in db.execute(select(Address).where(Address.customer_id.in_(ids))).scalars()
        ),
        "keys": sorted(
            (k.customer_id, k.key)
            for k in db.execute(
                select(CustomerSearchKey).where(CustomerSearchKey.customer_id.in_(ids))
            ).scalars()
        ),
        "audit": [(a.entity_id, a.changes, a.reason) for a in audit],
    }


@pytest.mark.usefixtures("demo")
def test_source_values_for_many_customers_change_rows_and_audit_as_one_call_per_change(
    db: Session,
    make_customer,  # type: ignore[no-untyped-def]
) -> None:
    ids = [make_customer(email="old@crm.cn", address="北京市海淀区9号").id for _ in range(3)]
    one_by_one_results, many_results = [], []
    savepoint = db.begin_nested()
    for index, values, reason in CHANGES:
        one_by_one_results.append(
            customers.apply_source_values(db, JOB, customer_id=ids[index], values=values, reason=reason)
        )
    one_by_one = state_of(db, ids)
    savepoint.rollback()
    many_results = sourcing.apply_source_values_many(
        db, JOB, [sourcing.SourceValues(ids[index], values, reason) for index, values, reason in CHANGES]
    )
    assert many_results == one_by_one_results
    assert state_of(db, ids) == one_by_one
    assert many_results[2] == ["mobile", "name"]  # the occupation was already changed by the second


@pytest.mark.usefixtures("demo")
def test_current_ids_and_aliases_of_many_follow_merges_as_for_one(
    db: Session,
    make_customer,  # type: ignore[no-untyped-def]
) -> None:
    first, second, third, alone = (make_customer().id for _ in range(4))
    customer_merge.system_merge(db, JOB, survivor_id=second, merged_id=first, reason="same person")
    customer_merge.system_merge(db, JOB, survivor_id=third, merged_id=second, reason="same person")
    ids = [first, second, third, alone, 10**9]
    assert sourcing.current_customer_ids(db, ids) == {i: customers.current_customer_id(db, i) for i in ids}
    assert sourcing.current_customer_ids(db, [first])[first] == third
    aliases = sourcing.merged_aliases_of(db, ids)
    assert {i: sorted(a) for i, a in aliases.items()} == {
        i: sorted(customers.merged_aliases(db, i)) for i in ids
    }
    assert sorted(aliases[third]) == sorted([first, second])


@pytest.mark.usefixtures("demo")
def test_golden_values_of_many_read_as_rows_are_those_of_one_customer_at_a_time(
    db: Session,
    make_customer,  # type: ignore[no-untyped-def]
) -> None:
    ids = [make_customer(email="old@crm.cn", address="北京市海淀区9号").id for _ in range(3)]
    ids.append(make_customer().id)  # no e-mail, no address
    # Newer e-mails and addresses, blank values, a risk level with its date, an unsaved change.
    sourcing.apply_source_values_many(
        db, JOB, [sourcing.SourceValues(ids[index], values, reason) for index, values, reason in CHANGES]
    )
    db.get(Customer, ids[3]).occupation = "医生"  # type: ignore[union-attr]
    many = sourcing.golden_values_of(db, [*ids, 10**9])
    assert set(many) == set(ids)
    for customer_id in ids:
        one = customers.golden_values(db, customer_id)
        assert many[customer_id] == one
        assert list(many[customer_id].values) == list(one.values)  # type: ignore[union-attr]
    assert many[ids[3]].values["occupation"] == "医生"
    assert many[ids[1]].values["risk_assessed_on"] == "2026-05-01"


@pytest.mark.usefixtures("demo")
def test_contacts_and_addresses_a_source_sets_say_they_were_loaded(
    db: Session,
    make_customer,  # type: ignore[no-untyped-def]
) -> None:
    """What survivorship writes is the sources' value, not a CRM user's entry: the 360° view and
    the next survivorship decision both tell the two apart by the row's source."""
    one, many = (make_customer(email="old@crm.cn", address="北京市海淀区9号").id for _ in range(2))
    values = {"email": "new@bank.cn", "address": "上海市浦东新区世纪大道100号"}
    customers.apply_source_values(db, JOB, customer_id=one, values=values, reason="survivorship")
    sourcing.apply_source_values_many(db, JOB, [sourcing.SourceValues(many, values, "survivorship")])
    db.flush()
    for customer_id in (one, many):
        address = db.execute(
            select(Address).where(Address.customer_id == customer_id, Address.valid_to.is_(None))
        ).scalar_one()
        email = db.execute(
            select(ContactPoint).where(
                ContactPoint.customer_id == customer_id,
                ContactPoint.kind == "email",
                ContactPoint.valid_to.is_(None),
            )
        ).scalar_one()
        assert (address.line, address.source) == (values["address"], "load")
        assert (email.value, email.source) == (values["email"], "load")
