"""Interactions logged by RMs and agents, and the follow-ups they promise."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from bankcrm.audit import service as audit
from bankcrm.core.db import utcnow
from bankcrm.core.errors import PermissionDenied, ValidationFailed
from bankcrm.core.i18n import N_
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.customers import repository as repo
from bankcrm.customers.models import Interaction
from bankcrm.customers.schemas import InteractionIn, InteractionOut
from bankcrm.customers.service.common import readable_customer, scope_of, shown_name
from bankcrm.customers.service.errors import InteractionNotFound
from bankcrm.identity.service import users

ENTITY = "interaction"


def _outs(
    session: Session, principal: Principal, rows: list[Interaction], *, with_customer: bool = False
) -> list[InteractionOut]:
    names = users.display_names(session, {row.user_id for row in rows})
    customers = (
        {c.id: c for c in repo.customers_by_ids(session, {r.customer_id for r in rows})}
        if with_customer
        else {}
    )
    return [
        InteractionOut(
            id=row.id,
            customer_id=row.customer_id,
            customer_name=shown_name(principal, customers[row.customer_id].name) if with_customer else None,
            user_id=row.user_id,
            user_name=names.get(row.user_id, "?"),
            kind=row.kind,
            channel=row.channel,
            occurred_at=row.occurred_at,
            summary=row.summary,
            next_step=row.next_step,
            follow_up_on=row.follow_up_on,
            follow_up_done_at=row.follow_up_done_at,
        )
        for row in rows
    ]


def log_interaction(
    session: Session, principal: Principal, *, customer_id: int, data: InteractionIn
) -> InteractionOut:
    principal.require(Permission.INTERACTION_WRITE)
    scope = scope_of(session, principal)
    customer = readable_customer(session, scope, customer_id)
    now = utcnow()
    occurred = data.occurred_at or now
    if occurred.tzinfo is None:
        raise ValidationFailed.single(
            "occurred_at",
            "datetime.timezone",
            N_("Give the time with its time zone, e.g. 2026-11-29T10:30+08:00."),
            occurred.isoformat(),
        )
    if occurred > now + timedelta(minutes=5):
        raise ValidationFailed.single(
            "occurred_at", "date.future", N_("An interaction cannot be in the future."), occurred.isoformat()
        )
    if data.follow_up_on and data.follow_up_on < scope.today:
        raise ValidationFailed.single(
            "follow_up_on",
            "date.past",
            N_("A follow-up date cannot be in the past."),
            data.follow_up_on.isoformat(),
        )
    row = Interaction(
        customer_id=customer.id,
        user_id=principal.user_id,
        kind=data.kind,
        channel=data.channel,
        occurred_at=occurred,
        summary=data.summary,
        next_step=data.next_step,
        follow_up_on=data.follow_up_on,
    )
    repo.add(session, row)
    session.flush()
    audit.record_event(
        session,
        principal.actor,
        action="log",
        entity_type=ENTITY,
        entity_id=row.id,
        details={"customer_id": customer.id, "kind": data.kind},
    )
    return _outs(session, principal, [row])[0]


def list_interactions(
    session: Session, principal: Principal, *, customer_id: int, limit: int = 50
) -> list[InteractionOut]:
    principal.require(Permission.CUSTOMER_READ)
    readable_customer(session, scope_of(session, principal), customer_id)
    return _outs(session, principal, repo.interactions(session, customer_id, limit=limit))


def follow_ups_due(
    session: Session, principal: Principal, *, days_ahead: int = 0, limit: int = 20
) -> list[InteractionOut]:
    """The principal's open follow-ups due by today (+ days ahead), for the home page."""
    scope = scope_of(session, principal)
    rows = repo.open_follow_ups(
        session, principal.user_id, until=scope.today + timedelta(days=days_ahead), limit=limit
    )
    visible = repo.readable_ids(session, scope, {r.customer_id for r in rows})
    return _outs(session, principal, [r for r in rows if r.customer_id in visible], with_customer=True)


def complete_follow_up(session: Session, principal: Principal, *, interaction_id: int) -> InteractionOut:
    principal.require(Permission.INTERACTION_WRITE)
    row = repo.get_interaction(session, interaction_id)
    scope = scope_of(session, principal)
    if row is None or not repo.readable_ids(session, scope, [row.customer_id]):
        raise InteractionNotFound(id=interaction_id)
    if row.user_id != principal.user_id:
        raise PermissionDenied(N_("Only the person who promised a follow-up can mark it done."))
    if row.follow_up_done_at is None:
        row.follow_up_done_at = utcnow()
        session.flush()
        audit.record_event(
            session, principal.actor, action="follow_up_done", entity_type=ENTITY, entity_id=row.id
        )
    return _outs(session, principal, [row])[0]
