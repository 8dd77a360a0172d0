"""Merging duplicates under maker-checker; unmerge restores everything."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bankcrm.audit import service as audit
from bankcrm.core.context import Actor
from bankcrm.core.errors import PermissionDenied, ValidationFailed
from bankcrm.customers.models import (
    Account,
    Address,
    Consent,
    ContactPoint,
    Customer,
    CustomerGroupMember,
    CustomerTag,
    Holding,
    Interaction,
    Relationship,
    SourceXref,
)
from bankcrm.customers.schemas import (
    CustomerUpdate,
    GroupIn,
    InteractionIn,
    MergeRequestIn,
    RelationshipIn,
    TagIn,
)
from bankcrm.customers.service import customers, holdings, interactions, merge, relationships, tags
from bankcrm.customers.service.errors import CustomerNotFound, MergeConflict
from tests.customers.conftest import resident_id, unit_id

SYSTEM = Actor.system("test-loader")


def give_history(db: Session, customer_id: int, *, suffix: str) -> None:
    holdings.ensure_product(db, code="DEP-CUR", name="活期储蓄", category="deposit")
    holdings.ensure_product(db, code="WM-R2", name="稳健理财", category="wealth", risk_level="R2")
    holdings.record_account(
        db,
        SYSTEM,
        customer_id=customer_id,
        account_no=f"62220200000{suffix}",
        product_code="DEP-CUR",
        kind="savings",
        balance=Decimal("12000.50"),
        opened_on=date(2020, 1, 1),
        org_unit_id=unit_id(db, "BJ-HD"),
    )
    holdings.record_holding(
        db,
        SYSTEM,
        customer_id=customer_id,
        product_code="WM-R2",
        units=Decimal("1000"),
        cost=Decimal("1000"),
        market_value=Decimal("1021.30"),
        valued_on=date(2026, 11, 1),
        acquired_on=date(2026, 1, 5),
    )
    holdings.link_source_record(
        db, SYSTEM, customer_id=customer_id, source_system="core", source_customer_no=suffix
    )


def state(db: Session, ids: list[int]) -> dict[str, object]:
    """Everything a merge may touch, for before/after comparison."""

    def owners(model) -> list[tuple[int, int]]:  # type: ignore[no-untyped-def]
        return sorted(db.execute(select(model.id, model.customer_id).where(model.customer_id.in_(ids))).all())

    db.expire_all()
    return {
        "customers": sorted(
            db.execute(
                select(
                    Customer.id,
                    Customer.name,
                    Customer.status,
                    Customer.mobile,
                    Customer.merged_into_id,
                    Customer.aum,
                    Customer.occupation,
                ).where(Customer.id.in_(ids))
            ).all()
        ),
        **{m.__name__: owners(m) for m in (Account, Holding, Interaction, ContactPoint, Address, SourceXref)},
        "tags": sorted(
            db.execute(
                select(CustomerTag.customer_id, CustomerTag.tag_id).where(CustomerTag.customer_id.in_(ids))
            ).all()
        ),
        "lists": sorted(
            db.execute(
                select(CustomerGroupMember.customer_id, CustomerGroupMember.group_id).where(
                    CustomerGroupMember.customer_id.in_(ids)
                )
            ).all()
        ),
        "consents": sorted(
            db.execute(
                select(Consent.customer_id, Consent.channel, Consent.granted).where(
                    Consent.customer_id.in_(ids)
                )
            ).all()
        ),
        "links": sorted(
            db.execute(
                select(
                    Relationship.id,
                    Relationship.from_customer_id,
                    Relationship.to_customer_id,
                    Relationship.valid_to,
                )
            ).all()
        ),
    }


@pytest.fixture
def twins(db: Session, make_customer, as_user):  # type: ignore[no-untyped-def]
    """The same person twice (two systems, two records), each with its own history."""
    rm = as_user("rm.zhang")
    first = make_customer(name="陈静", mobile="13810000001", occupation="工程师")
    second = make_customer(
        name="陈静", mobile="13810000002", id_number=resident_id(date(1979, 5, 5), male=False)
    )
    spouse = make_customer(name="刘洋", mobile="13810000003")
    give_history(db, first.id, suffix="0001")
    give_history(db, second.id, suffix="0002")
    interactions.log_interaction(
        db,
        rm,
        customer_id=second.id,
        data=InteractionIn(kind="call", channel="phone", summary="询问理财产品到期"),
    )
    tag = tags.create_tag(db, as_user("admin"), data=TagIn(code="vip-care", name="重点维护"))
    tags.tag_customers(db, rm, tag_id=tag.id, customer_ids=[second.id], add=True)
    group = tags.create_group(db, rm, data=GroupIn(name="春节走访"))
    tags.set_group_membership(db, rm, group_id=group.id, customer_ids=[second.id], add=True)
    customers.set_consent(db, rm, customer_id=first.id, channel="sms", granted=True, source="branch form")
    customers.set_consent(db, rm, customer_id=second.id, channel="sms", granted=False, source="call centre")
    relationships.add_relationship(
        db, rm, customer_id=second.id, data=RelationshipIn(to_customer_id=spouse.id, kind="spouse")
    )
    relationships.add_relationship(
        db, rm, customer_id=first.id, data=RelationshipIn(to_customer_id=second.id, kind="household")
    )
    return first, second, spouse


def request(db: Session, principal, survivor: int, merged: int, **chosen: int):  # type: ignore[no-untyped-def]
    return merge.request_merge(
        db,
        principal,
        data=MergeRequestIn(
            survivor_id=survivor,
            merged_ids=[merged],
            chosen_values=chosen,
            reason="same person in two systems",
        ),
    )


def test_merge_moves_everything_to_the_survivor_and_unmerge_restores_it(db: Session, as_user, twins) -> None:  # type: ignore[no-untyped-def]
    first, second, spouse = twins
    ids = [first.id, second.id, spouse.id]
    before = state(db, ids)
    pending = request(db, as_user("rm.zhang"), first.id, second.id, mobile=second.id)
    approved = merge.approve_merge(db, as_user("sbm.haidian"), merge_id=pending.id, version=pending.version)
    assert approved.status == "approved"
    after = state(db, ids)
    assert all(owner == first.id for _row, owner in after["Account"])  # type: ignore[union-attr]
    assert all(owner == first.id for _row, owner in after["Interaction"])  # type: ignore[union-attr]
    assert (first.id, "sms", False) in after["consents"]  # type: ignore[operator]  # the later opt-out wins
    survivor = customers.get_customer(db, as_user("rm.zhang"), customer_id=first.id)
    assert survivor.aum == Decimal("26043.60")
    alias = customers.get_customer(db, as_user("rm.zhang"), customer_id=second.id)
    assert (alias.status, alias.merged_into_id) == ("merged", first.id)
    merge.unmerge(db, as_user("sbm.haidian"), merge_id=pending.id, reason="were two different people")
    assert state(db, ids) == before


def test_the_survivor_history_records_what_a_merge_did_to_it_and_its_undo(
    db: Session, as_user, twins
) -> None:  # type: ignore[no-untyped-def]
    first, second, _ = twins
    pending = request(db, as_user("rm.zhang"), first.id, second.id, mobile=second.id)
    merge.approve_merge(db, as_user("sbm.haidian"), merge_id=pending.id, version=pending.version)
    merge.unmerge(db, as_user("sbm.haidian"), merge_id=pending.id, reason="were two different people")
    rows = {
        event.action: event.changes
        for event in audit.entity_history(db, entity_type="customer", entity_id=first.id, limit=10)
    }
    absorbed, undone = rows["absorb"], rows["unmerge"]
    assert absorbed["absorbed"] == {"before": None, "after": [second.id]}
    assert set(absorbed) == {"absorbed", "mobile"}
    assert "*" in absorbed["mobile"]["after"]  # personal data masked in the trail
    assert undone["absorbed"] == {"before": [second.id], "after": None}
    assert undone["mobile"] == {"before": absorbed["mobile"]["after"], "after": absorbed["mobile"]["before"]}


def test_the_maker_can_never_approve_their_own_request(db: Session, as_user, twins) -> None:  # type: ignore[no-untyped-def]
    first, second, _ = twins
    manager = as_user("sbm.haidian")
    pending = request(db, manager, first.id, second.id)
    with pytest.raises(PermissionDenied):
        merge.approve_merge(db, manager, merge_id=pending.id, version=pending.version)


def test_editing_a_pending_request_voids_it(db: Session, as_user, twins) -> None:  # type: ignore[no-untyped-def]
    first, second, _ = twins
    rm = as_user("rm.zhang")
    pending = request(db, rm, first.id, second.id)
    replacement = merge.edit_merge(
        db,
        rm,
        merge_id=pending.id,
        data=MergeRequestIn(
            survivor_id=first.id,
            merged_ids=[second.id],
            chosen_values={"name": second.id},
            reason="pick second name",
        ),
    )
    assert merge.get_merge(db, rm, merge_id=pending.id).status == "void"
    with pytest.raises(ValidationFailed):
        merge.approve_merge(db, as_user("sbm.haidian"), merge_id=pending.id, version=pending.version)
    assert replacement.status == "pending"


def test_editing_a_customer_voids_pending_merges_involving_it(db: Session, as_user, twins) -> None:  # type: ignore[no-untyped-def]
    first, second, _ = twins
    rm = as_user("rm.zhang")
    pending = request(db, rm, first.id, second.id)
    stored = customers.readable_customer(db, customers.scope_of(db, rm), second.id)
    customers.update_customer(
        db,
        rm,
        customer_id=second.id,
        data=CustomerUpdate(
            name=stored.name,
            id_type=stored.id_type,
            id_number=stored.id_number,
            occupation="教师",
            version=stored.version,
        ),
    )
    assert merge.get_merge(db, rm, merge_id=pending.id).status == "void"


@pytest.mark.parametrize("case", ["itself", "deactivated", "other_scope"])
def test_impossible_merges_are_refused(db: Session, as_user, twins, make_customer, case: str) -> None:  # type: ignore[no-untyped-def]
    first, second, _ = twins
    rm = as_user("rm.zhang")
    if case == "itself":
        with pytest.raises(ValidationFailed) as caught:
            request(db, rm, first.id, first.id)
        assert caught.value.problems[0].rule == "merge.into_itself"
    elif case == "deactivated":
        customers.set_active(
            db, as_user("sbm.haidian"), customer_id=first.id, active=False, reason="closed all"
        )
        with pytest.raises(ValidationFailed) as caught:
            request(db, rm, first.id, second.id)
        assert caught.value.problems[0].rule == "merge.survivor_active"
    else:
        stranger = make_customer("rm.liu", name="陈静")
        with pytest.raises(CustomerNotFound):
            request(db, rm, first.id, stranger.id)


def test_a_customer_cannot_be_in_two_pending_merges(db: Session, as_user, twins) -> None:  # type: ignore[no-untyped-def]
    first, second, spouse = twins
    rm = as_user("rm.zhang")
    request(db, rm, first.id, second.id)
    with pytest.raises(MergeConflict):
        request(db, rm, spouse.id, second.id)


def test_maker_checker_cannot_be_bypassed_through_the_api(
    signed_in, client: TestClient, db: Session, twins
) -> None:  # type: ignore[no-untyped-def]
    first, second, _ = twins
    signed_in("sbm.haidian")
    made = client.post(
        "/api/v1/merge-requests",
        json={"survivor_id": first.id, "merged_ids": [second.id], "reason": "duplicate records"},
    )
    assert made.status_code == 201, made.text
    merge_id, version = made.json()["id"], made.json()["version"]
    own = client.post(f"/api/v1/merge-requests/{merge_id}/approve", json={"version": version})
    assert own.status_code == 403
    signed_in("rm.zhang")
    no_right = client.post(f"/api/v1/merge-requests/{merge_id}/approve", json={"version": version})
    assert no_right.status_code == 403
    signed_in("bm.beijing")
    stale = client.post(f"/api/v1/merge-requests/{merge_id}/approve", json={"version": version + 5})
    assert stale.status_code == 409
    done = client.post(f"/api/v1/merge-requests/{merge_id}/approve", json={"version": version})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "approved"
