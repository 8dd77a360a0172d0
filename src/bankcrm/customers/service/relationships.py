"""Relationships between customers (household, corporate affiliation, guarantees) and household totals."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from bankcrm.audit import service as audit
from bankcrm.core.errors import ValidationFailed
from bankcrm.core.i18n import N_
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.customers import repository as repo
from bankcrm.customers.models import Relationship
from bankcrm.customers.schemas import HouseholdOut, RelationshipIn, RelationshipOut
from bankcrm.customers.service.common import readable_customer, scope_of, shown_name
from bankcrm.customers.service.errors import RelationshipNotFound

HOUSEHOLD_KINDS = frozenset({"spouse", "parent", "child", "household"})
CORPORATE_KINDS = frozenset({"parent_company", "subsidiary", "shareholder", "affiliate"})


def add_relationship(
    session: Session, principal: Principal, *, customer_id: int, data: RelationshipIn
) -> RelationshipOut:
    principal.require(Permission.CUSTOMER_WRITE)
    scope = scope_of(session, principal)
    source = readable_customer(session, scope, customer_id)
    target = readable_customer(session, scope, data.to_customer_id)
    if source.id == target.id:
        raise ValidationFailed.single(
            "to_customer_id", "relationship.self", N_("A customer cannot be related to itself."), target.id
        )
    if data.kind in HOUSEHOLD_KINDS and (source.kind != "individual" or target.kind != "individual"):
        raise ValidationFailed.single(
            "kind",
            "relationship.household_individuals",
            N_("Family links join individual customers."),
            data.kind,
        )
    if data.kind in CORPORATE_KINDS and source.kind != "corporate" and data.kind != "shareholder":
        raise ValidationFailed.single(
            "kind", "relationship.corporate", N_("This link starts at a corporate customer."), data.kind
        )
    for existing in repo.relationships_of(session, source.id, scope.today):
        if {existing.from_customer_id, existing.to_customer_id} == {
            source.id,
            target.id,
        } and existing.kind == data.kind:
            raise ValidationFailed.single(
                "kind", "relationship.exists", N_("This link already exists."), data.kind
            )
    link = Relationship(
        from_customer_id=source.id,
        to_customer_id=target.id,
        kind=data.kind,
        share_pct=data.share_pct,
        valid_from=scope.today,
        created_by=principal.user_id,
    )
    repo.add(session, link)
    session.flush()
    audit.record_change(
        session,
        principal.actor,
        entity_type="relationship",
        entity_id=link.id,
        action="create",
        before={},
        after={"from": source.id, "to": target.id, "kind": data.kind},
    )
    return relationships(session, principal, customer_id=source.id, only_id=link.id)[0]


def end_relationship(
    session: Session, principal: Principal, *, customer_id: int, relationship_id: int, reason: str
) -> None:
    principal.require(Permission.CUSTOMER_WRITE)
    scope = scope_of(session, principal)
    readable_customer(session, scope, customer_id)
    link = repo.get_relationship(session, relationship_id)
    # Another customer's link answers like a missing one: its id says nothing about who it joins.
    if link is None or customer_id not in (link.from_customer_id, link.to_customer_id):
        raise RelationshipNotFound(id=relationship_id, customer_id=customer_id)
    if link.valid_to:
        raise ValidationFailed.single(
            "relationship_id", "relationship.current", N_("There is no such current link."), relationship_id
        )
    link.valid_to = scope.today
    session.flush()
    audit.record_change(
        session,
        principal.actor,
        entity_type="relationship",
        entity_id=link.id,
        action="end",
        before={"valid_to": None},
        after={"valid_to": scope.today.isoformat()},
        reason=reason,
    )


def relationships(
    session: Session, principal: Principal, *, customer_id: int, only_id: int | None = None
) -> list[RelationshipOut]:
    """Current links; the other party's name is shown only when it is within the viewer's scope."""
    principal.require(Permission.CUSTOMER_READ)
    scope = scope_of(session, principal)
    readable_customer(session, scope, customer_id)
    links = [r for r in repo.relationships_of(session, customer_id, scope.today) if only_id in (None, r.id)]
    others = {r.to_customer_id if r.from_customer_id == customer_id else r.from_customer_id for r in links}
    visible = repo.readable_ids(session, scope, others)
    people = {c.id: c for c in repo.customers_by_ids(session, others)}
    out = []
    for link in links:
        outgoing = link.from_customer_id == customer_id
        other_id = link.to_customer_id if outgoing else link.from_customer_id
        other = people[other_id]
        shown = other_id in visible
        hidden_id = None if shown else other_id
        out.append(
            RelationshipOut(
                id=link.id,
                from_customer_id=None if link.from_customer_id == hidden_id else link.from_customer_id,
                to_customer_id=None if link.to_customer_id == hidden_id else link.to_customer_id,
                other_customer_id=other_id if shown else None,
                other_name=shown_name(principal, other.name) if shown else "—",
                other_customer_no=other.customer_no if shown else "—",
                kind=link.kind,
                direction="out" if outgoing else "in",
                share_pct=link.share_pct,
                other_visible=shown,
            )
        )
    return out


def household(session: Session, principal: Principal, *, customer_id: int) -> HouseholdOut:
    """The customer's household (family links, followed transitively) and the total AUM of the
    members the viewer may see."""
    principal.require(Permission.CUSTOMER_READ)
    scope = scope_of(session, principal)
    readable_customer(session, scope, customer_id)
    members = {customer_id}
    frontier = {customer_id}
    while frontier and len(members) < 50:
        links = [
            r
            for r in repo.all_relationships_of(session, frontier)
            if r.kind in HOUSEHOLD_KINDS and (r.valid_to is None or r.valid_to > scope.today)
        ]
        found = {r.from_customer_id for r in links} | {r.to_customer_id for r in links}
        frontier = found - members
        members |= found
    # Members outside the viewer's scope are counted, never shown or summed: their assets would
    # otherwise be one subtraction away.
    visible = repo.readable_ids(session, scope, members)
    customers = repo.customers_by_ids(session, visible)
    total = sum((c.aum for c in customers if c.status == "active"), Decimal("0"))
    return HouseholdOut(
        members=sorted(visible),
        total_aum=total,
        visible_members=len(visible),
        hidden_members=len(members - visible),
    )
