"""Figures for the home pages, each limited to the principal's data scope."""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel
from sqlalchemy.orm import Session

from bankcrm.core.db import read_memo, utcnow
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
    counts = _user_counts(session, principal)
    return SecurityOverview(
        active_users=sum(count.users for count in counts if count.is_active),
        disabled_users=sum(count.users for count in counts if not count.is_active),
        locked_users=sum(count.locked for count in counts),
        active_sessions=repo.count_active_sessions(session, principal, now),
    )


def org_overview(session: Session, principal: Principal) -> OrgOverview:
    """Units by kind and active users by role within the principal's scope."""
    principal.require(Permission.ORG_READ)
    units = repo.list_all_org_units(session, principal)
    by_kind = Counter(unit.kind for unit in units if unit.is_active)
    by_role: Counter[str] = Counter()
    if principal.can(Permission.USER_READ):
        codes = repo.role_codes(session)
        for count in _user_counts(session, principal):
            if count.is_active:
                by_role[codes.get(count.role_id, "?")] += count.users
    return OrgOverview(units_by_kind=dict(by_kind), users_by_role=dict(by_role))


def _user_counts(session: Session, principal: Principal) -> list[repo.UserCount]:
    """Counted once per transaction: the security and organisation figures share them."""
    memo = read_memo(session, "identity.user_counts")
    key = principal.scope_key
    if key not in memo:
        memo[key] = repo.count_readable_users_by_state(session, principal, utcnow())
    counts: list[repo.UserCount] = memo[key]
    return counts
