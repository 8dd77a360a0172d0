"""Relationship-manager portfolios: effective-dated assignments and maker-checker handovers."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from bankcrm.audit import service as audit
from bankcrm.core.db import utcnow
from bankcrm.core.errors import PermissionDenied, ProblemCollector, ValidationFailed
from bankcrm.core.formatting import business_today
from bankcrm.core.i18n import N_
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.customers import repository as repo
from bankcrm.customers.models import PortfolioHandover, RmAssignment
from bankcrm.customers.schemas import AssignmentOut, HandoverIn, HandoverOut
from bankcrm.customers.service.common import readable_customer, scope_of
from bankcrm.customers.service.errors import HandoverNotFound
from bankcrm.identity.service import orgs, users

ENTITY = "portfolio_handover"


def start_primary_assignment(
    session: Session, *, customer_id: int, rm_id: int, on: date, handover_id: int | None
) -> None:
    repo.end_primary_assignment(session, customer_id, on)
    repo.add(
        session,
        RmAssignment(
            customer_id=customer_id, user_id=rm_id, role="primary", valid_from=on, handover_id=handover_id
        ),
    )


def assignments(session: Session, principal: Principal, *, customer_id: int) -> list[AssignmentOut]:
    principal.require(Permission.CUSTOMER_READ)
    scope = scope_of(session, principal)
    readable_customer(session, scope, customer_id)
    rows = repo.current_assignments(session, customer_id, scope.today)
    names = users.display_names(session, {row.user_id for row in rows})
    return [
        AssignmentOut(
            user_id=row.user_id,
            user_name=names.get(row.user_id, "?"),
            role=row.role,
            valid_from=row.valid_from,
            valid_to=row.valid_to,
        )
        for row in rows
    ]


def add_assistant(session: Session, principal: Principal, *, customer_id: int, user_id: int) -> None:
    principal.require(Permission.CUSTOMER_WRITE)
    scope = scope_of(session, principal)
    customer = readable_customer(session, scope, customer_id)
    owner = users.portfolio_owner(session, user_id)
    if owner is None or not owner.is_active:
        raise ValidationFailed.single(
            "user_id",
            "customer.rm_role",
            N_("User %(id)s cannot hold a customer portfolio."),
            user_id,
            id=user_id,
        )
    if not (
        users.is_visible_to(session, principal, user_id)
        or orgs.in_one_line(session, owner.org_unit_id, customer.org_unit_id)
    ):
        # An assistant reads the customer as its RM does, so naming one is granting access: a
        # manager may name anyone within their scope; anyone else only a colleague of the
        # customer's own unit or a unit above or below it, never across branches.
        raise ValidationFailed.single(
            "user_id",
            "customer.assistant_unit",
            N_("User %(id)s works outside this customer's branch and outside your data scope."),
            user_id,
            id=user_id,
        )
    if any(a.user_id == user_id for a in repo.current_assignments(session, customer.id, scope.today)):
        return
    repo.add(
        session,
        RmAssignment(customer_id=customer.id, user_id=user_id, role="assistant", valid_from=scope.today),
    )
    session.flush()
    audit.record_event(
        session,
        principal.actor,
        action="add_assistant",
        entity_type="customer",
        entity_id=customer.id,
        details={"user_id": user_id},
    )


def _out(session: Session, row: PortfolioHandover) -> HandoverOut:
    names = users.display_names(session, {row.from_rm_id, row.to_rm_id})
    return HandoverOut(
        id=row.id,
        from_rm_id=row.from_rm_id,
        from_rm_name=names.get(row.from_rm_id, "?"),
        to_rm_id=row.to_rm_id,
        to_rm_name=names.get(row.to_rm_id, "?"),
        customer_count=len(row.customer_ids.split()),
        effective_date=row.effective_date,
        status=row.status,
        reason=row.reason,
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
    )


def request_handover(session: Session, principal: Principal, *, data: HandoverIn) -> HandoverOut:
    """Ask to move an RM's customers (all, or a selection) to another RM; a second user approves."""
    principal.require(Permission.HANDOVER_REQUEST)
    scope = scope_of(session, principal)
    problems = ProblemCollector()
    source = users.portfolio_owner(session, data.from_rm_id)
    target = users.portfolio_owner(session, data.to_rm_id)
    if source is None:
        problems.add(
            "from_rm_id",
            "customer.rm_role",
            N_("User %(id)s cannot hold a customer portfolio."),
            data.from_rm_id,
            id=data.from_rm_id,
        )
    if target is None:
        problems.add(
            "to_rm_id",
            "customer.rm_role",
            N_("User %(id)s cannot hold a customer portfolio."),
            data.to_rm_id,
            id=data.to_rm_id,
        )
    elif not target.is_active:
        problems.add(
            "to_rm_id",
            "handover.target_active",
            N_("The receiving relationship manager is disabled."),
            data.to_rm_id,
        )
    if data.from_rm_id == data.to_rm_id:
        problems.add(
            "to_rm_id", "handover.same_rm", N_("Choose a different relationship manager."), data.to_rm_id
        )
    owned = set(repo.customer_ids_of_rm(session, data.from_rm_id))
    wanted = set(data.customer_ids) if data.customer_ids else owned
    readable = repo.readable_ids(session, scope, wanted)
    outside = wanted - readable
    if outside:
        # No count and no value: how many would tell the size of a portfolio the user may not see.
        problems.add(
            "customer_ids",
            "handover.scope",
            N_("Some of the customers are outside your data scope."),
            None,
        )
    not_owned = readable - owned
    if not_owned:
        problems.add(
            "customer_ids",
            "handover.not_owned",
            N_("%(count)s of the customers are not in this RM's portfolio."),
            len(not_owned),
            count=len(not_owned),
        )
    if not wanted:
        problems.add("customer_ids", "handover.empty", N_("There are no customers to hand over."))
    problems.raise_if_any()
    row = PortfolioHandover(
        from_rm_id=data.from_rm_id,
        to_rm_id=data.to_rm_id,
        customer_ids=" ".join(str(i) for i in sorted(wanted)),
        effective_date=scope.today,
        reason=data.reason,
        requested_by=principal.user_id,
    )
    repo.add(session, row)
    session.flush()
    audit.record_event(
        session,
        principal.actor,
        action="request",
        entity_type=ENTITY,
        entity_id=row.id,
        details={"from": data.from_rm_id, "to": data.to_rm_id, "customers": len(wanted)},
        reason=data.reason,
    )
    return _out(session, row)


def decide_handover(
    session: Session, principal: Principal, *, handover_id: int, approve: bool, note: str
) -> HandoverOut:
    """Approve (customers move to the new RM, effective-dated) or reject. Never by the requester."""
    principal.require(Permission.HANDOVER_APPROVE)
    scope = scope_of(session, principal)
    row = repo.get_handover(session, handover_id)
    if row is None:
        raise HandoverNotFound(id=handover_id)
    ids = [int(i) for i in row.customer_ids.split()]
    if repo.readable_ids(session, scope, ids) != set(ids):
        raise HandoverNotFound(id=handover_id)
    if row.requested_by == principal.user_id:
        raise PermissionDenied(
            N_("The requester of a handover cannot decide it; another authorised user must.")
        )
    if row.status != "pending":
        raise ValidationFailed.single(
            "status", "handover.not_pending", N_("This handover was already decided."), row.status
        )
    target = users.portfolio_owner(session, row.to_rm_id)
    if approve and (target is None or not target.is_active):
        raise ValidationFailed.single(
            "to_rm_id",
            "handover.target_active",
            N_("The receiving relationship manager is disabled."),
            row.to_rm_id,
        )
    row.status = "approved" if approve else "rejected"
    row.decided_by = principal.user_id
    row.decided_at = utcnow()
    row.decision_note = note
    moved: list[int] = []
    if approve:
        # A handover takes effect the day it is approved; the assignment history keeps both RMs' periods.
        effective = business_today()
        row.effective_date = effective
        for customer in repo.customers_by_ids(session, ids):
            if customer.primary_rm_id == row.from_rm_id:
                customer.primary_rm_id = row.to_rm_id
                start_primary_assignment(
                    session, customer_id=customer.id, rm_id=row.to_rm_id, on=effective, handover_id=row.id
                )
                moved.append(customer.id)
    session.flush()
    audit.record_event(
        session,
        principal.actor,
        action="approve" if approve else "reject",
        entity_type=ENTITY,
        entity_id=row.id,
        details={"customers": len(ids)},
        reason=note,
    )
    # Each customer's own trail shows its new RM, as an edit of the RM would.
    audit.record_many(
        session,
        principal.actor,
        [
            audit.change_entry(
                entity_type="customer",
                entity_id=customer_id,
                action="handover",
                before={"primary_rm_id": row.from_rm_id},
                after={"primary_rm_id": row.to_rm_id},
                reason=f"handover {row.id}: {note}",
            )
            for customer_id in sorted(moved)
        ],
    )
    return _out(session, row)


def list_handovers(session: Session, principal: Principal, *, status: str | None = None) -> list[HandoverOut]:
    """Handovers whose customers the principal can all see."""
    principal.require(Permission.CUSTOMER_READ)
    scope = scope_of(session, principal)
    visible = []
    for row in repo.list_handovers(session, status=status, limit=200):
        ids = {int(i) for i in row.customer_ids.split()}
        if repo.readable_ids(session, scope, ids) == ids or row.from_rm_id == principal.user_id:
            visible.append(_out(session, row))
    return visible
