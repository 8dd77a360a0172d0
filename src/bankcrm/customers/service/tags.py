"""Manual tags and static customer lists, one at a time or in bulk from a search result."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from bankcrm.audit import service as audit
from bankcrm.core.context import Actor
from bankcrm.core.db import utcnow
from bankcrm.core.errors import ValidationFailed
from bankcrm.core.i18n import N_
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.customers import repository as repo
from bankcrm.customers.models import CustomerGroup, CustomerGroupMember, CustomerTag, Tag
from bankcrm.customers.schemas import CustomerTagOut, GroupIn, GroupOut, TagEventOut, TagIn, TagOut
from bankcrm.customers.service.common import readable_customer, scope_of
from bankcrm.customers.service.errors import CustomerNotFound, GroupNotFound, TagNotFound
from bankcrm.identity.service import users


def create_tag(session: Session, principal: Principal, *, data: TagIn, kind: str = "manual") -> TagOut:
    """A tag in the catalogue: manual (set by people), or rule / model (set by the scoring run,
    which the segmentation module creates with their rule)."""
    principal.require(Permission.TAG_MANAGE)
    if repo.find_tag_by_code(session, data.code) is not None:
        raise ValidationFailed.single(
            "code", "tag.code_unique", N_("The code %(code)s is already used."), data.code, code=data.code
        )
    tag = Tag(
        code=data.code,
        name=data.name,
        category=data.category,
        description=data.description,
        kind=kind,
        owner_id=principal.user_id,
    )
    repo.add(session, tag)
    session.flush()
    audit.record_change(
        session,
        principal.actor,
        entity_type="tag",
        entity_id=tag.id,
        action="create",
        before={},
        after={**data.model_dump(), "kind": kind},
    )
    return TagOut(id=tag.id, code=tag.code, name=tag.name, category=tag.category, kind=tag.kind)


def list_tags(session: Session, principal: Principal) -> list[TagOut]:
    principal.require(Permission.CUSTOMER_READ)
    return [
        TagOut(id=t.id, code=t.code, name=t.name, category=t.category, kind=t.kind)
        for t in repo.tags(session)
    ]


def tags_of(session: Session, principal: Principal, *, customer_id: int) -> list[CustomerTagOut]:
    principal.require(Permission.CUSTOMER_READ)
    readable_customer(session, scope_of(session, principal), customer_id)
    rows = repo.tags_of(session, customer_id)
    names = users.display_names(session, {ct.added_by for ct, _tag in rows if ct.added_by})
    return [
        CustomerTagOut(
            id=t.id,
            code=t.code,
            name=t.name,
            category=t.category,
            kind=t.kind,
            added_by=names.get(ct.added_by) if ct.added_by else None,
            added_at=ct.added_at,
        )
        for ct, t in rows
    ]


def _manual_tag(session: Session, tag_id: int) -> Tag:
    tag = repo.find_tag(session, tag_id)
    if tag is None:
        raise TagNotFound(id=tag_id)
    if tag.kind != "manual":
        raise ValidationFailed.single(
            "tag_id",
            "tag.manual_only",
            N_("Rule and model tags are set by the scoring pipeline, not by hand."),
            tag_id,
        )
    return tag


def _readable_all(session: Session, principal: Principal, customer_ids: list[int]) -> list[int]:
    scope = scope_of(session, principal)
    visible = repo.readable_ids(session, scope, customer_ids)
    missing = sorted(set(customer_ids) - visible)
    if missing:
        raise CustomerNotFound(id=missing[0])
    return sorted(visible)


def tag_customers(
    session: Session, principal: Principal, *, tag_id: int, customer_ids: list[int], add: bool
) -> int:
    """Add or remove a manual tag on one or many customers; returns how many changed."""
    principal.require(Permission.CUSTOMER_TAG)
    tag = _manual_tag(session, tag_id)
    changed: list[int] = []
    for customer_id in _readable_all(session, principal, customer_ids):
        existing = repo.get_customer_tag(session, customer_id, tag.id)
        if add and existing is None:
            repo.add(session, CustomerTag(customer_id=customer_id, tag_id=tag.id, added_by=principal.user_id))
            changed.append(customer_id)
        elif not add and existing is not None:
            session.delete(existing)
            changed.append(customer_id)
    session.flush()
    repo.add_tag_events(
        session,
        [
            {
                "customer_id": c,
                "tag_id": tag.id,
                "change": "gained" if add else "lost",
                "at": utcnow(),
                "as_of": None,
                "reason": "manual",
                "actor_id": principal.user_id,
            }
            for c in changed
        ],
    )
    # One row per customer changed, so each customer's own history (and 360° timeline) shows it,
    # also when the tag was set from a search result for many customers at once.
    audit.record_many(
        session,
        principal.actor,
        [
            audit.event_entry(
                action="tag" if add else "untag",
                entity_type="customer",
                entity_id=customer_id,
                details={"tag": tag.code},
            )
            for customer_id in changed
        ],
    )
    return len(changed)


def create_group(session: Session, principal: Principal, *, data: GroupIn) -> GroupOut:
    principal.require(Permission.CUSTOMER_TAG)
    if repo.find_group_by_name(session, principal.user_id, data.name) is not None:
        raise ValidationFailed.single(
            "name", "group.name_unique", N_("You already have a list with this name."), data.name
        )
    group = CustomerGroup(name=data.name, description=data.description, owner_id=principal.user_id)
    repo.add(session, group)
    session.flush()
    audit.record_change(
        session,
        principal.actor,
        entity_type="customer_group",
        entity_id=group.id,
        action="create",
        before={},
        after=data.model_dump(),
    )
    return GroupOut(
        id=group.id, name=group.name, description=group.description, owner_id=group.owner_id, member_count=0
    )


def my_groups(session: Session, principal: Principal) -> list[GroupOut]:
    principal.require(Permission.CUSTOMER_READ)
    return [
        GroupOut(id=g.id, name=g.name, description=g.description, owner_id=g.owner_id, member_count=n)
        for g, n in repo.groups_owned_by(session, principal.user_id)
    ]


def _own_group(session: Session, principal: Principal, group_id: int) -> CustomerGroup:
    group = repo.find_group(session, group_id)
    if group is None or group.owner_id != principal.user_id:
        raise GroupNotFound(id=group_id)
    return group


def set_group_membership(
    session: Session, principal: Principal, *, group_id: int, customer_ids: list[int], add: bool
) -> int:
    principal.require(Permission.CUSTOMER_TAG)
    group = _own_group(session, principal, group_id)
    changed: list[int] = []
    for customer_id in _readable_all(session, principal, customer_ids):
        existing = repo.get_group_member(session, group.id, customer_id)
        if add and existing is None:
            repo.add(
                session,
                CustomerGroupMember(group_id=group.id, customer_id=customer_id, added_by=principal.user_id),
            )
            changed.append(customer_id)
        elif not add and existing is not None:
            session.delete(existing)
            changed.append(customer_id)
    session.flush()
    if changed:
        # Which customers, not only how many: the trail must answer "who put this customer on a
        # list, and when". One row on the list (lists are personal, so not on each customer's
        # own history, which other staff read).
        audit.record_event(
            session,
            principal.actor,
            action="add_members" if add else "remove_members",
            entity_type="customer_group",
            entity_id=group.id,
            details={"changed": len(changed), "customer_ids": changed},
        )
    return len(changed)


def groups_of(session: Session, principal: Principal, *, customer_id: int) -> list[GroupOut]:
    """The principal's own lists that contain this customer."""
    principal.require(Permission.CUSTOMER_READ)
    readable_customer(session, scope_of(session, principal), customer_id)
    return [
        GroupOut(id=g.id, name=g.name, description=g.description, owner_id=g.owner_id, member_count=0)
        for g in repo.groups_of(session, customer_id)
        if g.owner_id == principal.user_id
    ]


@dataclass(frozen=True)
class TagSync:
    gained: int
    lost: int


def sync_tag_members(
    session: Session, actor: Actor, *, tag_id: int, customer_ids: Collection[int], as_of: date, reason: str
) -> TagSync:
    """The scoring run's side: make ``customer_ids`` exactly the holders of a rule or model tag, and
    keep who gained and who lost it, on which run and why (``reason``: the rule or band, briefly).
    A job's view: the whole bank, no scope; one audit row for the run, not one per customer."""
    tag = repo.find_tag(session, tag_id)
    if tag is None or tag.kind == "manual":
        raise TagNotFound(id=tag_id)
    wanted = set(customer_ids)
    held = repo.tag_member_ids(session, tag_id)
    gained, lost = sorted(wanted - held), sorted(held - wanted)
    repo.add_tag_members(session, tag_id, gained)
    repo.remove_tag_members(session, tag_id, lost)
    now = utcnow()
    repo.add_tag_events(
        session,
        [
            {
                "customer_id": c,
                "tag_id": tag_id,
                "change": change,
                "at": now,
                "as_of": as_of,
                "reason": reason[:300],
                "actor_id": None,
            }
            for change, ids in (("gained", gained), ("lost", lost))
            for c in ids
        ],
    )
    audit.record_event(
        session,
        actor,
        action="tags_recomputed",
        entity_type="tag",
        entity_id=tag_id,
        details={
            "as_of": as_of.isoformat(),
            "gained": len(gained),
            "lost": len(lost),
            "holders": len(wanted),
        },
    )
    return TagSync(gained=len(gained), lost=len(lost))


def tag_history(
    session: Session, principal: Principal, *, customer_id: int, limit: int = 50
) -> list[TagEventOut]:
    """When the customer gained or lost each tag, newest first, and why."""
    principal.require(Permission.CUSTOMER_READ)
    readable_customer(session, scope_of(session, principal), customer_id)
    rows = repo.tag_events_of(session, customer_id, limit=limit)
    names = users.display_names(session, {e.actor_id for e, _t in rows if e.actor_id})
    return [
        TagEventOut(
            tag_code=t.code,
            tag_name=t.name,
            kind=t.kind,
            change=e.change,
            at=e.at,
            as_of=e.as_of,
            reason=e.reason,
            actor=names.get(e.actor_id) if e.actor_id else None,
        )
        for e, t in rows
    ]


def find_tag_by_code(session: Session, code: str) -> TagOut | None:
    tag = repo.find_tag_by_code(session, code)
    if tag is None:
        return None
    return TagOut(id=tag.id, code=tag.code, name=tag.name, category=tag.category, kind=tag.kind)
