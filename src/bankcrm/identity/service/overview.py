"""Figures for the home pages, each limited to the principal's data scope."""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel
from sqlalchemy.orm import Session

from bankcrm.core.db import utcnow
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.identity import repository as repo


class SecurityOverview(BaseModel):
    active_users: int
    disabled_users: int
    locked_users: int
    active_sessions: int


class OrgOverview(BaseModel):
    units_by_kind: dict[str, int]
    users_by_role: dict[str, int]


def security_overview(session: Session, principal: Principal) -> SecurityOverview:
    """Users and sessions within the principal's data scope, like every other figure here."""
    principal.require(Permission.USER_READ)
    now = utcnow()
    return SecurityOverview(
        active_users=repo.count_readable_users(session, principal, active=True),
        disabled_users=repo.count_readable_users(session, principal, active=False),
        locked_users=repo.count_locked_users(session, principal, now),
        active_sessions=repo.count_active_sessions(session, principal, now),
    )


def org_overview(session: Session, principal: Principal) -> OrgOverview:
    """Units by kind and active users by role within the principal's scope."""
    principal.require(Permission.ORG_READ)
    units = repo.list_all_org_units(session, principal)
    by_kind = Counter(unit.kind for unit in units if unit.is_active)
    by_role: dict[str, int] = {}
    if principal.can(Permission.USER_READ):
        by_role = repo.count_active_users_by_role(session, principal)
    return OrgOverview(units_by_kind=dict(by_kind), users_by_role=by_role)
