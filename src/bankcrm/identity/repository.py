"""All SQL of identity. Reads of users and org units go through ``readable_by(principal)``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    String,
    bindparam,
    case,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from bankcrm.core.db import PlainRow, StatementCache, read_rows
from bankcrm.core.pagination import PagedQuery, PageRequest, PageRows, fetch_page, paged
from bankcrm.core.principal import DataScope, Principal
from bankcrm.identity.models import (
    ApiToken,
    KnownPermission,
    OrgUnit,
    OrgUnitMove,
    Role,
    RolePermission,
    User,
    UserSession,
    new_permissions_stamp,
)

# ---------------------------------------------------------------- scopes


def users_readable_by(principal: Principal) -> ColumnElement[bool]:
    """Own scope sees only oneself; subtree scope the users of one's unit and below; all sees all."""
    return principal.readable(owner_column=User.id, org_path_column=User.org_path)


def org_units_readable_by(principal: Principal) -> ColumnElement[bool]:
    if principal.scope is DataScope.OWN:
        return OrgUnit.id == principal.org_unit_id
    return principal.readable(owner_column=None, org_path_column=OrgUnit.path)


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# ---------------------------------------------------------------- org units


def get_org_unit(session: Session, unit_id: int) -> OrgUnit | None:
    return session.get(OrgUnit, unit_id)


def find_readable_org_unit(session: Session, principal: Principal, unit_id: int) -> OrgUnit | None:
    stmt = select(OrgUnit).where(OrgUnit.id == unit_id, org_units_readable_by(principal))
    return session.execute(stmt).scalar_one_or_none()


def find_org_unit_by_code(session: Session, code: str) -> OrgUnit | None:
    return session.execute(select(OrgUnit).where(OrgUnit.code == code)).scalar_one_or_none()


def _org_units_query(
    principal: Principal, search: str | None, kind: str | None, active: bool | None
) -> Select[OrgUnit]:
    stmt = select(OrgUnit).where(org_units_readable_by(principal))
    if search:
        pattern = _like_pattern(search)
        stmt = stmt.where(
            or_(
                OrgUnit.name.ilike(pattern, escape="\\"),
                OrgUnit.code.ilike(pattern, escape="\\"),
                OrgUnit.name_en.ilike(pattern, escape="\\"),
            )
        )
    if kind:
        stmt = stmt.where(OrgUnit.kind == kind)
    if active is not None:
        stmt = stmt.where(OrgUnit.is_active.is_(active))
    return stmt


def count_org_units(
    session: Session, principal: Principal, *, search: str | None, kind: str | None, active: bool | None
) -> int:
    stmt = _org_units_query(principal, search, kind, active)
    return int(session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one())


def list_org_units(
    session: Session,
    principal: Principal,
    *,
    search: str | None,
    kind: str | None,
    active: bool | None,
    offset: int,
    limit: int,
) -> list[OrgUnit]:
    stmt = (
        _org_units_query(principal, search, kind, active).order_by(OrgUnit.path).offset(offset).limit(limit)
    )
    return list(session.execute(stmt).scalars())


def list_all_org_units(session: Session, principal: Principal) -> list[OrgUnit]:
    stmt = select(OrgUnit).where(org_units_readable_by(principal)).order_by(OrgUnit.path)
    return list(session.execute(stmt).scalars())


def subtree(session: Session, unit: OrgUnit) -> list[OrgUnit]:
    stmt = select(OrgUnit).where(OrgUnit.path.startswith(unit.path, autoescape=True)).order_by(OrgUnit.depth)
    return list(session.execute(stmt).scalars())


def count_active_children(session: Session, unit_id: int) -> int:
    stmt = select(func.count()).where(OrgUnit.parent_id == unit_id, OrgUnit.is_active.is_(True))
    return int(session.execute(stmt).scalar_one())


def count_active_users_in(session: Session, unit_id: int) -> int:
    stmt = select(func.count()).where(User.org_unit_id == unit_id, User.is_active.is_(True))
    return int(session.execute(stmt).scalar_one())


def rewrite_user_paths(session: Session, old_prefix: str, new_prefix: str) -> None:
    """Keep the users' copy of their unit's path in step after a move."""
    users = session.execute(
        select(User).where(User.org_path.startswith(old_prefix, autoescape=True))
    ).scalars()
    for user in users:
        user.org_path = new_prefix + user.org_path[len(old_prefix) :]


def add(session: Session, row: object) -> None:
    session.add(row)


def due_moves(session: Session, today: date) -> list[OrgUnitMove]:
    stmt = (
        select(OrgUnitMove)
        .where(OrgUnitMove.status == "scheduled", OrgUnitMove.effective_date <= today)
        .order_by(OrgUnitMove.effective_date, OrgUnitMove.id)
    )
    return list(session.execute(stmt).scalars())


def moves_of(session: Session, unit_id: int) -> list[OrgUnitMove]:
    stmt = select(OrgUnitMove).where(OrgUnitMove.org_unit_id == unit_id).order_by(OrgUnitMove.id.desc())
    return list(session.execute(stmt).scalars())


def count_all_org_units(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(OrgUnit)).scalar_one())


# ---------------------------------------------------------------- roles


def list_roles(session: Session) -> list[Role]:
    return list(session.execute(select(Role).order_by(Role.id)).scalars())


def find_role_by_code(session: Session, code: str) -> Role | None:
    return session.execute(select(Role).where(Role.code == code)).scalar_one_or_none()


def get_role(session: Session, role_id: int) -> Role | None:
    return session.get(Role, role_id)


def role_permissions(session: Session, role_id: int) -> set[str]:
    stmt = select(RolePermission.permission).where(RolePermission.role_id == role_id)
    return set(session.execute(stmt).scalars())


def set_role_permissions(session: Session, role_id: int, permissions: set[str]) -> None:
    current = role_permissions(session, role_id)
    if current != permissions:
        restamp_permissions(session, role_id)
    for permission in current - permissions:
        row = session.get(RolePermission, (role_id, permission))
        if row is not None:
            session.delete(row)
    for permission in permissions - current:
        session.add(RolePermission(role_id=role_id, permission=permission))


def restamp_permissions(session: Session, role_id: int) -> None:
    role = session.get(Role, role_id)
    assert role is not None
    role.permissions_stamp = new_permissions_stamp()


def known_permissions(session: Session) -> set[str]:
    return set(session.execute(select(KnownPermission.permission)).scalars())


def user_counts_by_role(session: Session) -> dict[int, int]:
    stmt = select(User.role_id, func.count()).where(User.is_active.is_(True)).group_by(User.role_id)
    return {int(role_id): int(count) for role_id, count in session.execute(stmt).all()}


# ---------------------------------------------------------------- users


def get_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def find_readable_user(session: Session, principal: Principal, user_id: int) -> User | None:
    stmt = select(User).where(User.id == user_id, users_readable_by(principal))
    return session.execute(stmt).scalar_one_or_none()


def find_user_by_username(session: Session, username: str) -> User | None:
    return session.execute(select(User).where(User.username == username)).scalar_one_or_none()


def find_user_by_employee_no(session: Session, employee_no: str) -> User | None:
    return session.execute(select(User).where(User.employee_no == employee_no)).scalar_one_or_none()


def _users_query(
    principal: Principal,
    search: str | None,
    role_id: int | None,
    org_unit_id: int | None,
    active: bool | None,
) -> Select[User]:
    stmt = select(User).where(users_readable_by(principal))
    if search:
        pattern = _like_pattern(search)
        stmt = stmt.where(_user_search(pattern))
    if role_id:
        stmt = stmt.where(User.role_id == role_id)
    if org_unit_id:
        stmt = stmt.where(User.org_unit_id == org_unit_id)
    if active is not None:
        stmt = stmt.where(User.is_active.is_(active))
    return stmt


def _user_search(pattern: str | BindParameter[str]) -> ColumnElement[bool]:
    return or_(
        User.username.ilike(pattern, escape="\\"),
        User.display_name.ilike(pattern, escape="\\"),
        User.employee_no.ilike(pattern, escape="\\"),
    )


USER_SORTS = {
    "username": User.username,
    "display_name": User.display_name,
    "last_login_at": User.last_login_at,
    "created_at": User.created_at,
}


def list_users(
    session: Session,
    principal: Principal,
    *,
    search: str | None,
    role_id: int | None,
    org_unit_id: int | None,
    active: bool | None,
    sort: str,
    descending: bool,
    offset: int,
    limit: int,
) -> list[User]:
    column = USER_SORTS.get(sort, User.username)
    order = column.desc() if descending else column.asc()
    stmt = _users_query(principal, search, role_id, org_unit_id, active).order_by(order, User.id)
    return list(session.execute(stmt.offset(offset).limit(limit)).scalars())


# What the users list shows of each user: plain columns rather than User objects, whose loading
# (every column, identity map, change tracking) cost three times the query for a page of 25.
_LISTED_USER_COLUMNS = (
    User.id,
    User.username,
    User.display_name,
    User.email,
    User.mobile,
    User.employee_no,
    User.org_unit_id,
    User.is_active,
    User.locked_until,
    User.must_change_password,
    User.last_login_at,
    User.version,
    OrgUnit.name.label("org_unit_name"),
    Role.code.label("role"),
)


@dataclass(frozen=True)
class _UsersListShape:
    """Everything the users list's statement is built from; the filter values are bound later."""

    scope: tuple[DataScope, str | None, int | None]
    search: bool
    role: bool
    org_unit: bool
    active: bool | None
    sort: str
    descending: bool


_USERS_LISTS: StatementCache[_UsersListShape, PagedQuery] = StatementCache()


def _users_list(principal: Principal, shape: _UsersListShape) -> PagedQuery:
    matches = select(User).where(users_readable_by(principal))
    if shape.search:
        matches = matches.where(_user_search(bindparam("pattern", type_=String)))
    if shape.role:
        matches = matches.where(User.role_id == bindparam("role_id"))
    if shape.org_unit:
        matches = matches.where(User.org_unit_id == bindparam("org_unit_id"))
    if shape.active is not None:
        matches = matches.where(User.is_active.is_(shape.active))
    column = USER_SORTS.get(shape.sort, User.username)
    query = (
        matches.with_only_columns(*_LISTED_USER_COLUMNS)
        .join(OrgUnit, OrgUnit.id == User.org_unit_id)
        .join(Role, Role.id == User.role_id)
        .order_by(column.desc() if shape.descending else column.asc(), User.id)
    )
    return paged(query, matches=matches)


def page_of_users(
    session: Session,
    principal: Principal,
    *,
    search: str | None,
    role_id: int | None,
    org_unit_id: int | None,
    active: bool | None,
    sort: str,
    descending: bool,
    page: PageRequest,
) -> PageRows:
    """A page of the users list, with each user's unit name and role code, and how many users match,
    in one query built once per shape. Rows carry the names of ``User``'s attributes plus
    ``org_unit_name`` and ``role``."""
    shape = _UsersListShape(
        scope=principal.scope_key,
        search=bool(search),
        role=bool(role_id),
        org_unit=bool(org_unit_id),
        active=active,
        sort=sort if sort in USER_SORTS else "username",
        descending=descending,
    )
    query = _USERS_LISTS.get(shape, lambda: _users_list(principal, shape))
    params = {"pattern": _like_pattern(search or ""), "role_id": role_id, "org_unit_id": org_unit_id}
    return fetch_page(session, query, page, params)


def org_unit_names(session: Session, ids: Sequence[int]) -> dict[int, str]:
    if not ids:
        return {}
    stmt = select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(set(ids)))
    return {int(unit_id): str(name) for unit_id, name in session.execute(stmt).all()}


def role_codes(session: Session) -> dict[int, str]:
    return {int(role_id): str(code) for role_id, code in session.execute(select(Role.id, Role.code)).all()}


def count_users_total(session: Session, *, active: bool | None = None) -> int:
    stmt = select(func.count()).select_from(User)
    if active is not None:
        stmt = stmt.where(User.is_active.is_(active))
    return int(session.execute(stmt).scalar_one())


@dataclass(frozen=True)
class UserCount:
    """How many readable users have this role and this active flag, and how many of them are locked."""

    role_id: int
    is_active: bool
    users: int
    locked: int


def count_readable_users_by_state(session: Session, principal: Principal, now: datetime) -> list[UserCount]:
    """The readable users counted by role and active flag, with those locked at ``now``, in one
    pass over the users: the home page's figures (active, disabled, locked, active by role) had
    been four statements, each reading every user row."""
    locked = func.sum(case((User.locked_until > now, 1), else_=0))
    stmt = (
        select(User.role_id, User.is_active, func.count(), locked)
        .where(users_readable_by(principal))
        .group_by(User.role_id, User.is_active)
    )
    return [
        UserCount(int(role_id), bool(active), int(users), int(locked_users or 0))
        for role_id, active, users, locked_users in session.execute(stmt).all()
    ]


def record_sign_in(session: Session, user_id: int, *, at: datetime, password_hash: str | None) -> None:
    """Sign-in bookkeeping as a plain UPDATE: it is no edit of the user, so the row's version stays
    and an administrator's open edit form is not made stale by the user signing in."""
    values: dict[str, object] = {"failed_logins": 0, "locked_until": None, "last_login_at": at}
    if password_hash is not None:
        values["password_hash"] = password_hash
    session.execute(
        update(User)
        .where(User.id == user_id)
        .values(**values)
        .execution_options(synchronize_session="evaluate")
    )


def record_failed_login(session: Session, user_id: int, *, threshold: int, lock_until: datetime) -> None:
    """Atomic increment, so concurrent wrong guesses cannot slip under the lockout threshold."""
    session.execute(update(User).where(User.id == user_id).values(failed_logins=User.failed_logins + 1))
    session.execute(
        update(User)
        .where(User.id == user_id, User.failed_logins >= threshold)
        .values(locked_until=lock_until, failed_logins=0)
        .execution_options(synchronize_session=False)
    )


# ---------------------------------------------------------------- sessions


@dataclass(frozen=True)
class CredentialHolder:
    """What a principal is built from: the user behind a session or token, their role and unit."""

    user_id: int
    username: str
    display_name: str
    is_active: bool
    must_change_password: bool
    role_id: int
    role_code: str
    data_scope: str
    permissions_stamp: str
    org_unit_id: int
    org_path: str
    org_unit_name: str


@dataclass(frozen=True)
class SessionRecord:
    id: int
    expires_at: datetime
    last_seen_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True)
class TokenRecord:
    id: int
    scopes: str
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


_SESSION_COLUMNS = (UserSession.id, UserSession.expires_at, UserSession.last_seen_at, UserSession.ended_at)
_TOKEN_COLUMNS = (
    ApiToken.id,
    ApiToken.scopes,
    ApiToken.expires_at,
    ApiToken.revoked_at,
    ApiToken.last_used_at,
)
_HOLDER_COLUMNS = (
    User.id,
    User.username,
    User.display_name,
    User.is_active,
    User.must_change_password,
    Role.id,
    Role.code,
    Role.data_scope,
    Role.permissions_stamp,
    OrgUnit.id,
    OrgUnit.path,
    OrgUnit.name,
)


def _holder_query(model: type[UserSession | ApiToken], columns: Sequence[Any]) -> Select[*tuple[Any, ...]]:
    """A session or token by digest, with its user and the user's role and unit, in one query.

    This runs on every authenticated request, so it is built once, with the digest as a bound
    parameter: building a select of 16 columns and three joins cost more than running it. And plain
    columns, not ORM objects: loading four entities with every column took three times as long.
    """
    return (
        select(*columns, *_HOLDER_COLUMNS)
        .select_from(model)
        .join(User, User.id == model.user_id)
        .join(Role, Role.id == User.role_id)
        .join(OrgUnit, OrgUnit.id == User.org_unit_id)
        .where(model.token_digest == bindparam("digest"))
    )


_SESSION_HOLDER = _holder_query(UserSession, _SESSION_COLUMNS)
_TOKEN_HOLDER = _holder_query(ApiToken, _TOKEN_COLUMNS)


def _split(
    rows: Sequence[PlainRow], credential_columns: int
) -> tuple[tuple[Any, ...], CredentialHolder] | None:
    if not rows:
        return None  # the digest is unique: at most one row
    values = tuple(rows[0])
    return values[:credential_columns], CredentialHolder(*values[credential_columns:])


def find_session_holder(session: Session, digest: str) -> tuple[SessionRecord, CredentialHolder] | None:
    found = _split(read_rows(session, _SESSION_HOLDER, {"digest": digest}), len(_SESSION_COLUMNS))
    return None if found is None else (SessionRecord(*found[0]), found[1])


def find_token_holder(session: Session, digest: str) -> tuple[TokenRecord, CredentialHolder] | None:
    found = _split(read_rows(session, _TOKEN_HOLDER, {"digest": digest}), len(_TOKEN_COLUMNS))
    return None if found is None else (TokenRecord(*found[0]), found[1])


def find_session_by_digest(session: Session, digest: str) -> UserSession | None:
    return session.execute(select(UserSession).where(UserSession.token_digest == digest)).scalar_one_or_none()


def end_sessions_of(
    session: Session, user_id: int, *, now: datetime, reason: str, except_id: int | None = None
) -> int:
    stmt = update(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
    if except_id is not None:
        stmt = stmt.where(UserSession.id != except_id)
    result = session.execute(
        stmt.values(ended_at=now, end_reason=reason).execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def touch_session(session: Session, session_id: int, now: datetime) -> None:
    session.execute(update(UserSession).where(UserSession.id == session_id).values(last_seen_at=now))


def count_active_sessions(session: Session, principal: Principal, now: datetime) -> int:
    stmt = (
        select(func.count())
        .select_from(UserSession)
        .join(User, User.id == UserSession.user_id)
        .where(users_readable_by(principal), UserSession.ended_at.is_(None), UserSession.expires_at > now)
    )
    return int(session.execute(stmt).scalar_one())


# ---------------------------------------------------------------- API tokens


def find_token_by_digest(session: Session, digest: str) -> ApiToken | None:
    return session.execute(select(ApiToken).where(ApiToken.token_digest == digest)).scalar_one_or_none()


def _tokens_readable_by(principal: Principal) -> Select[ApiToken]:
    """A token is as visible as the API-client user it belongs to."""
    return select(ApiToken).join(User, User.id == ApiToken.user_id).where(users_readable_by(principal))


def find_readable_token(session: Session, principal: Principal, token_id: int) -> ApiToken | None:
    stmt = _tokens_readable_by(principal).where(ApiToken.id == token_id)
    return session.execute(stmt).scalar_one_or_none()


def find_token_by_name(session: Session, user_id: int, name: str) -> ApiToken | None:
    stmt = select(ApiToken).where(ApiToken.user_id == user_id, ApiToken.name == name)
    return session.execute(stmt).scalar_one_or_none()


def count_tokens(session: Session, principal: Principal) -> int:
    stmt = select(func.count()).select_from(_tokens_readable_by(principal).subquery())
    return int(session.execute(stmt).scalar_one())


def list_tokens(session: Session, principal: Principal, *, offset: int, limit: int) -> list[ApiToken]:
    stmt = _tokens_readable_by(principal).order_by(ApiToken.id.desc()).offset(offset).limit(limit)
    return list(session.execute(stmt).scalars())


def revoke_tokens_of(session: Session, user_id: int, now: datetime) -> None:
    session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )


def usernames(session: Session, ids: Sequence[int]) -> dict[int, str]:
    if not ids:
        return {}
    stmt = select(User.id, User.username).where(User.id.in_(set(ids)))
    return {int(user_id): str(name) for user_id, name in session.execute(stmt).all()}


def display_names(session: Session, ids: Sequence[int]) -> dict[int, str]:
    if not ids:
        return {}
    stmt = select(User.id, User.display_name).where(User.id.in_(set(ids)))
    return {int(user_id): str(name) for user_id, name in session.execute(stmt).all()}
