"""Organisation units: the tree of head office, branches, sub-branches and teams."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from bankcrm.audit import service as audit
from bankcrm.core.context import Actor
from bankcrm.core.db import utcnow
from bankcrm.core.errors import ValidationFailed
from bankcrm.core.formatting import business_today
from bankcrm.core.i18n import N_
from bankcrm.core.pagination import Page, PageRequest
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.identity import repository as repo
from bankcrm.identity.models import OrgUnit, OrgUnitMove
from bankcrm.identity.roles import ALLOWED_CHILDREN
from bankcrm.identity.schemas import (
    OrgUnitCreate,
    OrgUnitMoveIn,
    OrgUnitMoveOut,
    OrgUnitOut,
    OrgUnitUpdate,
)
from bankcrm.identity.service.common import check_version
from bankcrm.identity.service.errors import OrgUnitNotFound

ENTITY = "org_unit"


def _snapshot(unit: OrgUnit) -> dict[str, object]:
    return {
        "code": unit.code,
        "name": unit.name,
        "name_en": unit.name_en,
        "kind": unit.kind,
        "parent_id": unit.parent_id,
        "is_active": unit.is_active,
    }


def get_org_unit(session: Session, principal: Principal, *, unit_id: int) -> OrgUnitOut:
    principal.require(Permission.ORG_READ)
    return OrgUnitOut.model_validate(_readable(session, principal, unit_id))


def _readable(session: Session, principal: Principal, unit_id: int) -> OrgUnit:
    unit = repo.find_readable_org_unit(session, principal, unit_id)
    if unit is None:
        raise OrgUnitNotFound(id=unit_id)
    return unit


def list_org_units(
    session: Session,
    principal: Principal,
    *,
    page: PageRequest,
    search: str | None = None,
    kind: str | None = None,
    active: bool | None = None,
) -> Page[OrgUnitOut]:
    principal.require(Permission.ORG_READ)
    total = repo.count_org_units(session, principal, search=search, kind=kind, active=active)
    rows = repo.list_org_units(
        session, principal, search=search, kind=kind, active=active, offset=page.offset, limit=page.size
    )
    return Page(
        items=[OrgUnitOut.model_validate(row) for row in rows], total=total, page=page.page, size=page.size
    )


def org_unit_choices(session: Session, principal: Principal) -> list[OrgUnitOut]:
    """Every unit the principal can see, in tree order, for pickers."""
    return [OrgUnitOut.model_validate(row) for row in repo.list_all_org_units(session, principal)]


def _check_parent(
    session: Session, principal: Principal, parent_id: int | None, kind: str, field: str
) -> OrgUnit | None:
    if parent_id is None:
        if kind != "head_office":
            raise ValidationFailed.single(
                field, "org.parent_required", N_("Choose the unit this one belongs to.")
            )
        return None
    parent = repo.find_readable_org_unit(session, principal, parent_id)
    if parent is None:
        raise ValidationFailed.single(
            field,
            "org.parent_exists",
            N_("Parent unit %(id)s does not exist or is outside your data scope."),
            parent_id,
            id=parent_id,
        )
    if not parent.is_active:
        raise ValidationFailed.single(field, "org.parent_active", N_("The parent unit is closed."), parent_id)
    if kind not in ALLOWED_CHILDREN[parent.kind]:
        raise ValidationFailed.single(
            "kind",
            "org.kind_under_parent",
            N_("A %(kind)s cannot sit under a %(parent_kind)s."),
            kind,
            kind=kind,
            parent_kind=parent.kind,
        )
    return parent


def create_org_unit(session: Session, principal: Principal, *, data: OrgUnitCreate) -> OrgUnitOut:
    principal.require(Permission.ORG_WRITE)
    if repo.find_org_unit_by_code(session, data.code) is not None:
        raise ValidationFailed.single(
            "code", "org.code_unique", N_("The code %(code)s is already used."), data.code, code=data.code
        )
    if data.kind == "head_office" and data.parent_id is not None:
        raise ValidationFailed.single(
            "parent_id", "org.head_office_root", N_("The head office has no parent.")
        )
    if data.kind == "head_office" and repo.count_all_org_units(session) > 0:
        raise ValidationFailed.single("kind", "org.single_head_office", N_("There is already a head office."))
    parent = _check_parent(session, principal, data.parent_id, data.kind, "parent_id")
    unit = OrgUnit(
        code=data.code,
        name=data.name,
        name_en=data.name_en,
        kind=data.kind,
        parent_id=parent.id if parent else None,
        path="/",
        depth=(parent.depth + 1) if parent else 0,
    )
    repo.add(session, unit)
    session.flush()  # the id is part of the path
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    audit.record_change(
        session,
        principal.actor,
        entity_type=ENTITY,
        entity_id=unit.id,
        action="create",
        before={},
        after=_snapshot(unit),
    )
    return OrgUnitOut.model_validate(unit)


def bootstrap_org_unit(
    session: Session,
    actor: Actor,
    *,
    code: str,
    name: str,
    name_en: str | None,
    kind: str,
    parent: OrgUnit | None,
) -> OrgUnit:
    """Create a unit outside any request (demo data, first installation)."""
    unit = OrgUnit(
        code=code,
        name=name,
        name_en=name_en,
        kind=kind,
        parent_id=parent.id if parent else None,
        path="/",
        depth=(parent.depth + 1) if parent else 0,
    )
    repo.add(session, unit)
    session.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    audit.record_change(
        session,
        actor,
        entity_type=ENTITY,
        entity_id=unit.id,
        action="create",
        before={},
        after=_snapshot(unit),
    )
    return unit


def update_org_unit(
    session: Session, principal: Principal, *, unit_id: int, data: OrgUnitUpdate
) -> OrgUnitOut:
    principal.require(Permission.ORG_WRITE)
    unit = _readable(session, principal, unit_id)
    check_version(unit.version, data.version)
    before = _snapshot(unit)
    unit.name = data.name
    unit.name_en = data.name_en
    session.flush()
    audit.record_change(
        session,
        principal.actor,
        entity_type=ENTITY,
        entity_id=unit.id,
        action="update",
        before=before,
        after=_snapshot(unit),
    )
    return OrgUnitOut.model_validate(unit)


def move_org_unit(
    session: Session, principal: Principal, *, unit_id: int, data: OrgUnitMoveIn
) -> OrgUnitMoveOut:
    """Move a unit (with everything below it) under a new parent, now or on a future date."""
    principal.require(Permission.ORG_WRITE)
    unit = _readable(session, principal, unit_id)
    today = business_today()
    effective = data.effective_date or today
    if effective < today:
        raise ValidationFailed.single(
            "effective_date",
            "org.move_in_past",
            N_("A move cannot take effect in the past."),
            effective.isoformat(),
        )
    if unit.parent_id is None:
        raise ValidationFailed.single(
            "to_parent_id", "org.head_office_fixed", N_("The head office cannot be moved.")
        )
    target = _check_parent(session, principal, data.to_parent_id, unit.kind, "to_parent_id")
    assert target is not None
    if target.path.startswith(unit.path):
        raise ValidationFailed.single(
            "to_parent_id",
            "org.move_cycle",
            N_("A unit cannot move under itself or one of its own sub-units."),
            data.to_parent_id,
        )
    if target.id == unit.parent_id:
        raise ValidationFailed.single(
            "to_parent_id",
            "org.move_same_parent",
            N_("The unit already belongs to that parent."),
            data.to_parent_id,
        )
    move = OrgUnitMove(
        org_unit_id=unit.id,
        from_parent_id=unit.parent_id,
        to_parent_id=target.id,
        effective_date=effective,
        requested_by=principal.user_id,
        reason=data.reason,
    )
    repo.add(session, move)
    session.flush()
    audit.record_event(
        session,
        principal.actor,
        action="schedule_move",
        entity_type=ENTITY,
        entity_id=unit.id,
        details={"to_parent_id": target.id, "effective_date": effective.isoformat()},
        reason=data.reason,
    )
    if effective <= today:
        _apply_move(session, principal.actor, move)
    return OrgUnitMoveOut.model_validate(move)


def _apply_move(session: Session, actor: Actor, move: OrgUnitMove) -> None:
    unit = repo.get_org_unit(session, move.org_unit_id)
    target = repo.get_org_unit(session, move.to_parent_id)
    if unit is None or target is None or not target.is_active or target.path.startswith(unit.path):
        move.status = "cancelled"
        audit.record_event(
            session,
            actor,
            action="cancel_move",
            entity_type=ENTITY,
            entity_id=move.org_unit_id,
            details={"move_id": move.id, "why": "target closed or would form a cycle"},
        )
        return
    before = _snapshot(unit)
    old_prefix, new_prefix = unit.path, f"{target.path}{unit.id}/"
    depth_shift = target.depth + 1 - unit.depth
    for member in repo.subtree(session, unit):
        member.path = new_prefix + member.path[len(old_prefix) :]
        member.depth += depth_shift
    unit.parent_id = target.id
    repo.rewrite_user_paths(session, old_prefix, new_prefix)
    move.status = "applied"
    move.applied_at = utcnow()
    session.flush()
    audit.record_change(
        session,
        actor,
        entity_type=ENTITY,
        entity_id=unit.id,
        action="move",
        before=before,
        after=_snapshot(unit),
        reason=move.reason,
    )


def apply_due_moves(session: Session, actor: Actor, *, today: date | None = None) -> int:
    """Apply every scheduled move whose date has come (run daily by the scheduler or CLI)."""
    moves = repo.due_moves(session, today or business_today())
    for move in moves:
        _apply_move(session, actor, move)
    return len(moves)


def moves_of(session: Session, principal: Principal, *, unit_id: int) -> list[OrgUnitMoveOut]:
    principal.require(Permission.ORG_READ)
    _readable(session, principal, unit_id)
    return [OrgUnitMoveOut.model_validate(row) for row in repo.moves_of(session, unit_id)]


def set_org_unit_active(
    session: Session, principal: Principal, *, unit_id: int, active: bool, reason: str
) -> OrgUnitOut:
    """Close (or reopen) a unit. A unit with open sub-units or active staff cannot close."""
    principal.require(Permission.ORG_WRITE)
    unit = _readable(session, principal, unit_id)
    if unit.is_active == active:
        return OrgUnitOut.model_validate(unit)
    if not active:
        if unit.parent_id is None:
            raise ValidationFailed.single(
                "id", "org.head_office_fixed", N_("The head office cannot be closed.")
            )
        if repo.count_active_children(session, unit.id):
            raise ValidationFailed.single(
                "id", "org.close_children", N_("Close or move its sub-units first."), unit.id
            )
        if repo.count_active_users_in(session, unit.id):
            raise ValidationFailed.single(
                "id", "org.close_users", N_("Move or disable its active users first."), unit.id
            )
    else:
        parent = repo.get_org_unit(session, unit.parent_id) if unit.parent_id else None
        if parent is not None and not parent.is_active:
            raise ValidationFailed.single(
                "id", "org.parent_active", N_("The parent unit is closed."), unit.id
            )
    before = _snapshot(unit)
    unit.is_active = active
    session.flush()
    audit.record_change(
        session,
        principal.actor,
        entity_type=ENTITY,
        entity_id=unit.id,
        action="reopen" if active else "close",
        before=before,
        after=_snapshot(unit),
        reason=reason,
    )
    return OrgUnitOut.model_validate(unit)


def find_unit_by_code(session: Session, code: str) -> OrgUnit | None:
    """For set-up jobs (demo data, createuser) that address units by code, outside any data scope."""
    return repo.find_org_unit_by_code(session, code)


def scope_unit_ids(session: Session, principal: Principal) -> tuple[int, ...] | None:
    """The ids of the units a subtree reader reaches; None for whole-bank readers.

    Other modules scope their rows by unit id with this list, so a unit that moves takes its
    rows along without any rewrite outside identity.
    """
    if principal.scope.value == "all":
        return None
    return tuple(unit.id for unit in repo.list_all_org_units(session, principal))


def unit_names(session: Session, ids: list[int] | set[int] | tuple[int, ...]) -> dict[int, str]:
    return repo.org_unit_names(session, list(ids))


def is_open_unit(session: Session, unit_id: int) -> bool:
    unit = repo.get_org_unit(session, unit_id)
    return bool(unit and unit.is_active)


def in_one_line(session: Session, unit_id: int, other_id: int) -> bool:
    """Whether two units are the same, or one is above the other (their paths nest)."""
    unit, other = repo.get_org_unit(session, unit_id), repo.get_org_unit(session, other_id)
    if unit is None or other is None:
        return False
    return unit.path.startswith(other.path) or other.path.startswith(unit.path)
