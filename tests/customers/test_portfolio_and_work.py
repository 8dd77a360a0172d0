"""Portfolio handovers, interactions and follow-ups, tags and lists, relationships and households."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bankcrm.audit.models import AuditEvent
from bankcrm.core.context import Actor
from bankcrm.core.errors import PermissionDenied, ValidationFailed
from bankcrm.core.formatting import business_today
from bankcrm.core.pagination import PageRequest
from bankcrm.customers.schemas import (
    CorporateContactIn,
    CustomerFilter,
    GroupIn,
    HandoverIn,
    InteractionIn,
    RelationshipIn,
    TagIn,
)
from bankcrm.customers.service import (
    contacts,
    customers,
    holdings,
    interactions,
    portfolio,
    relationships,
    tags,
)
from bankcrm.customers.service.errors import ContactNotFound, CustomerNotFound, RelationshipNotFound
from bankcrm.identity.service import users as user_service
from tests.customers.conftest import unit_id, uscc, user_id


def test_handover_moves_customers_after_a_second_user_approves(db: Session, as_user, make_customer) -> None:  # type: ignore[no-untyped-def]
    a = make_customer("rm.zhang", name="客户甲")
    b = make_customer("rm.zhang", name="客户乙")
    request = portfolio.request_handover(
        db,
        as_user("rm.zhang"),
        data=HandoverIn(
            from_rm_id=user_id(db, "rm.zhang"), to_rm_id=user_id(db, "rm.chen"), reason="rm.zhang moves to HQ"
        ),
    )
    assert request.customer_count == 2
    with pytest.raises(PermissionDenied):
        portfolio.decide_handover(db, as_user("rm.zhang"), handover_id=request.id, approve=True, note="ok")
    done = portfolio.decide_handover(
        db, as_user("bm.beijing"), handover_id=request.id, approve=True, note="approved at branch meeting"
    )
    assert done.status == "approved"
    chen = as_user("rm.chen")
    visible = {
        c.id
        for c in customers.list_customers(
            db, chen, filters=CustomerFilter(mine=True), page=PageRequest(1, 10)
        ).items
    }
    assert visible == {a.id, b.id}
    with pytest.raises(CustomerNotFound):
        customers.get_customer(db, as_user("rm.zhang"), customer_id=a.id)
    history = portfolio.assignments(db, chen, customer_id=a.id)
    assert [(x.user_name, x.role) for x in history] == [("陈思远", "primary")]


def test_handover_to_a_disabled_rm_is_refused(db: Session, as_user, make_customer) -> None:  # type: ignore[no-untyped-def]
    make_customer("rm.zhang")
    user_service.set_user_active(
        db, as_user("admin"), user_id=user_id(db, "rm.chen"), active=False, reason="left"
    )
    with pytest.raises(ValidationFailed) as caught:
        portfolio.request_handover(
            db,
            as_user("sbm.haidian"),
            data=HandoverIn(
                from_rm_id=user_id(db, "rm.zhang"), to_rm_id=user_id(db, "rm.chen"), reason="cover for leave"
            ),
        )
    assert caught.value.problems[0].rule == "handover.target_active"


def test_interactions_and_follow_ups_reach_the_rms_home(db: Session, as_user, make_customer) -> None:  # type: ignore[no-untyped-def]
    customer = make_customer("rm.zhang", name="周先生")
    rm = as_user("rm.zhang")
    today = business_today()
    logged = interactions.log_interaction(
        db,
        rm,
        customer_id=customer.id,
        data=InteractionIn(
            kind="visit",
            channel="branch",
            summary="介绍养老理财",
            next_step="送产品说明书",
            follow_up_on=today,
        ),
    )
    due = interactions.follow_ups_due(db, rm)
    assert [(f.id, f.customer_name) for f in due] == [(logged.id, "周先生")]
    interactions.complete_follow_up(db, rm, interaction_id=logged.id)
    assert interactions.follow_ups_due(db, rm) == []
    with pytest.raises(ValidationFailed) as caught:
        interactions.log_interaction(
            db,
            rm,
            customer_id=customer.id,
            data=InteractionIn(
                kind="call", channel="phone", summary="x" * 3, follow_up_on=today - timedelta(days=1)
            ),
        )
    assert caught.value.problems[0].rule == "date.past"


def test_tags_and_lists_in_bulk_from_a_search_result(db: Session, as_user, make_customer) -> None:  # type: ignore[no-untyped-def]
    rm = as_user("rm.zhang")
    found = [make_customer(name=f"客户{i}") for i in range(3)]
    tag = tags.create_tag(db, as_user("admin"), data=TagIn(code="pension", name="养老规划"))
    assert tags.tag_customers(db, rm, tag_id=tag.id, customer_ids=[c.id for c in found], add=True) == 3
    assert tags.tag_customers(db, rm, tag_id=tag.id, customer_ids=[c.id for c in found], add=True) == 0
    tagged = customers.list_customers(db, rm, filters=CustomerFilter(tag_id=tag.id), page=PageRequest(1, 10))
    assert tagged.total == 3
    assert tags.tags_of(db, rm, customer_id=found[0].id)[0].added_by == "张晓明"
    group = tags.create_group(db, rm, data=GroupIn(name="重阳节回访"))
    tags.set_group_membership(db, rm, group_id=group.id, customer_ids=[found[0].id, found[1].id], add=True)
    listed = customers.list_customers(
        db, rm, filters=CustomerFilter(group_id=group.id), page=PageRequest(1, 10)
    )
    assert listed.total == 2
    stranger = make_customer("rm.liu")
    with pytest.raises(CustomerNotFound):
        tags.tag_customers(db, rm, tag_id=tag.id, customer_ids=[found[0].id, stranger.id], add=True)


def test_list_membership_changes_are_audited_with_the_customers_they_concern(
    db: Session, as_user, make_customer
) -> None:  # type: ignore[no-untyped-def]
    rm = as_user("rm.zhang")
    first, second = make_customer(name="甲"), make_customer(name="乙")
    group = tags.create_group(db, rm, data=GroupIn(name="季度回访"))
    ids = [first.id, second.id]
    tags.set_group_membership(db, rm, group_id=group.id, customer_ids=ids, add=True)
    tags.set_group_membership(db, rm, group_id=group.id, customer_ids=[second.id], add=False)
    events = db.execute(
        select(AuditEvent)
        .where(AuditEvent.entity_type == "customer_group", AuditEvent.entity_id == str(group.id))
        .order_by(AuditEvent.seq)
    ).scalars()
    trail = [(e.action, json.loads(e.changes)) for e in events]
    assert trail[1:] == [
        ("add_members", {"changed": 2, "customer_ids": ids}),
        ("remove_members", {"changed": 1, "customer_ids": [second.id]}),
    ]


def test_filtering_by_someone_elses_list_finds_nothing(db: Session, as_user, make_customer) -> None:  # type: ignore[no-untyped-def]
    """Lists are personal: another's list cannot be used to learn which customers it holds."""
    customer = make_customer("rm.chen", name="名单里的客户")
    manager, rm = as_user("bm.beijing"), as_user("rm.chen")
    group = tags.create_group(db, manager, data=GroupIn(name="分行关注"))
    tags.set_group_membership(db, manager, group_id=group.id, customer_ids=[customer.id], add=True)
    by_list = CustomerFilter(group_id=group.id)
    assert customers.list_customers(db, manager, filters=by_list, page=PageRequest(1, 10)).total == 1
    assert customers.list_customers(db, rm, filters=by_list, page=PageRequest(1, 10)).total == 0
    assert customers.list_customers(db, rm, filters=CustomerFilter(), page=PageRequest(1, 10)).total == 1


def test_household_rolls_up_family_assets(db: Session, as_user, make_customer) -> None:  # type: ignore[no-untyped-def]
    rm = as_user("rm.zhang")
    father = make_customer(name="父亲")
    mother = make_customer(name="母亲")
    child = make_customer(name="孩子")
    holdings.ensure_product(db, code="DEP", name="活期", category="deposit")
    for person, amount in ((father, "100000"), (mother, "50000"), (child, "1000")):
        holdings.record_account(
            db,
            Actor.system("t"),
            customer_id=person.id,
            account_no=f"6222{person.id:012d}",
            product_code="DEP",
            kind="savings",
            balance=Decimal(amount),
            opened_on=date(2020, 1, 1),
            org_unit_id=unit_id(db, "BJ-HD"),
        )
    relationships.add_relationship(
        db, rm, customer_id=father.id, data=RelationshipIn(to_customer_id=mother.id, kind="spouse")
    )
    relationships.add_relationship(
        db, rm, customer_id=mother.id, data=RelationshipIn(to_customer_id=child.id, kind="parent")
    )
    household = relationships.household(db, rm, customer_id=child.id)
    assert set(household.members) == {father.id, mother.id, child.id}
    assert household.total_aum == Decimal("151000")
    with pytest.raises(ValidationFailed):
        relationships.add_relationship(
            db, rm, customer_id=father.id, data=RelationshipIn(to_customer_id=father.id, kind="spouse")
        )


def test_a_link_or_contact_that_is_not_the_customers_own_answers_like_a_missing_one(
    db: Session, as_user, make_customer
) -> None:  # type: ignore[no-untyped-def]
    """Ending needs the customer's own link or contact: another's id is 404 (not a form error), an
    already ended one is refused as a rule."""
    rm = as_user("rm.zhang")
    one, two, other = make_customer(name="甲"), make_customer(name="乙"), make_customer(name="丙")
    company = make_customer(kind="corporate", name="矩阵公司", id_type="uscc", id_number=uscc())
    link = relationships.add_relationship(
        db, rm, customer_id=one.id, data=RelationshipIn(to_customer_id=two.id, kind="spouse")
    )
    person = contacts.add_contact(
        db, rm, customer_id=company.id, data=CorporateContactIn(role="finance", name="财务")
    )
    with pytest.raises(RelationshipNotFound):
        relationships.end_relationship(
            db, rm, customer_id=other.id, relationship_id=link.id, reason="测试结束"
        )
    with pytest.raises(RelationshipNotFound):
        relationships.end_relationship(db, rm, customer_id=one.id, relationship_id=987654, reason="测试结束")
    with pytest.raises(ContactNotFound):
        contacts.end_contact(db, rm, customer_id=one.id, contact_id=person.id, reason="测试结束")
    with pytest.raises(ContactNotFound):
        contacts.end_contact(db, rm, customer_id=company.id, contact_id=987654, reason="测试结束")
    relationships.end_relationship(db, rm, customer_id=two.id, relationship_id=link.id, reason="测试结束")
    contacts.end_contact(db, rm, customer_id=company.id, contact_id=person.id, reason="测试结束")
    with pytest.raises(ValidationFailed):
        relationships.end_relationship(db, rm, customer_id=one.id, relationship_id=link.id, reason="测试结束")
    with pytest.raises(ValidationFailed):
        contacts.end_contact(db, rm, customer_id=company.id, contact_id=person.id, reason="测试结束")


def test_household_totals_leave_out_members_outside_the_scope(db: Session, as_user, make_customer) -> None:  # type: ignore[no-untyped-def]
    """An out-of-scope member is counted, never listed or summed (its AUM would be one subtraction away)."""
    mine = make_customer("rm.zhang", name="本人")
    theirs = make_customer("rm.chen", name="配偶")
    holdings.ensure_product(db, code="DEP", name="活期", category="deposit")
    for person, amount in ((mine, "20000"), (theirs, "700000")):
        holdings.record_account(
            db,
            Actor.system("t"),
            customer_id=person.id,
            account_no=f"6222{person.id:012d}",
            product_code="DEP",
            kind="savings",
            balance=Decimal(amount),
            opened_on=date(2020, 1, 1),
            org_unit_id=unit_id(db, "BJ-HD"),
        )
    manager = as_user("bm.beijing")
    relationships.add_relationship(
        db, manager, customer_id=mine.id, data=RelationshipIn(to_customer_id=theirs.id, kind="spouse")
    )
    seen_by_rm = relationships.household(db, as_user("rm.zhang"), customer_id=mine.id)
    assert (seen_by_rm.members, seen_by_rm.total_aum, seen_by_rm.hidden_members) == ([mine.id], 20000, 1)
    seen_by_manager = relationships.household(db, manager, customer_id=mine.id)
    assert seen_by_manager.total_aum == Decimal("720000")
    assert seen_by_manager.hidden_members == 0


def test_aum_sets_the_tier(db: Session, as_user, make_customer) -> None:  # type: ignore[no-untyped-def]
    person = make_customer()
    holdings.ensure_product(db, code="TD-1Y", name="一年定期", category="time_deposit")
    holdings.record_account(
        db,
        Actor.system("t"),
        customer_id=person.id,
        account_no="6222000011112222333",
        product_code="TD-1Y",
        kind="time_deposit",
        balance=Decimal("600000"),
        opened_on=date(2025, 1, 1),
        maturity_date=date(2026, 12, 31),
        org_unit_id=unit_id(db, "BJ-HD"),
    )
    assert customers.get_customer(db, as_user("rm.zhang"), customer_id=person.id).tier == "vip"


def test_an_approved_handover_shows_in_each_customers_own_trail(db: Session, as_user, make_customer) -> None:  # type: ignore[no-untyped-def]
    a = make_customer("rm.zhang", name="客户甲")
    b = make_customer("rm.zhang", name="客户乙")
    zhang, chen = user_id(db, "rm.zhang"), user_id(db, "rm.chen")
    request = portfolio.request_handover(
        db,
        as_user("rm.zhang"),
        data=HandoverIn(from_rm_id=zhang, to_rm_id=chen, reason="rm.zhang moves to HQ"),
    )
    portfolio.decide_handover(
        db, as_user("bm.beijing"), handover_id=request.id, approve=True, note="同意移交"
    )
    trail = db.execute(select(AuditEvent).where(AuditEvent.action == "handover")).scalars().all()
    assert sorted(int(e.entity_id) for e in trail if e.entity_type == "customer") == sorted([a.id, b.id])
    changes = json.loads(trail[0].changes)
    assert changes["primary_rm_id"] == {"before": zhang, "after": chen}
    assert trail[0].reason == f"handover {request.id}: 同意移交"
