"""Staff users: create, edit, disable, reset passwords, reveal their personal data with a reason."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, TypeAdapter
from sqlalchemy.orm import Session

from bankcrm.audit import service as audit
from bankcrm.core.config import get_settings
from bankcrm.core.context import Actor
from bankcrm.core.db import utcnow
from bankcrm.core.errors import PermissionDenied, ProblemCollector, ValidationFailed
from bankcrm.core.i18n import N_
from bankcrm.core.masking import MaskKind, mask_mobile
from bankcrm.core.pagination import TOTAL_COLUMN, AnyRow, Page, PageRequest
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import DataScope, Principal
from bankcrm.core.validation import IdentifierError, normalise_email, normalise_mobile
from bankcrm.identity import repository as repo
from bankcrm.identity.models import OrgUnit, Role, User
from bankcrm.identity.passwords import password_problems
from bankcrm.identity.schemas import PasswordReset, RevealIn, RevealOut, UserCreate, UserOut, UserUpdate
from bankcrm.identity.service.common import check_version, password_hashing
from bankcrm.identity.service.errors import UserNotFound

ENTITY = "user"
SENSITIVE = {"mobile": MaskKind.MOBILE}


def _snapshot(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "email": user.email,
        "mobile": user.mobile,
        "employee_no": user.employee_no,
        "org_unit_id": user.org_unit_id,
        "role_id": user.role_id,
        "is_active": user.is_active,
    }


# The User attributes UserOut shows, besides the unit's name and the role's code.
_SHOWN_FIELDS = (
    "id",
    "username",
    "display_name",
    "email",
    "mobile",
    "employee_no",
    "org_unit_id",
    "is_active",
    "locked_until",
    "must_change_password",
    "last_login_at",
    "version",
)
# A page of users is validated in one call: 25 calls of UserOut.model_validate cost 60% more.
_LISTED_USERS = TypeAdapter(list[UserOut])


def _shown(fields: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A user's fields as the API and the pages show them: the mobile masked, the lock as a flag."""
    mobile = fields["mobile"]
    fields["mobile"] = mask_mobile(mobile) if mobile else None
    locked_until = fields.pop("locked_until")
    fields["is_locked"] = bool(locked_until and locked_until > now)
    return fields


def to_out(user: User, *, org_unit_name: str, role_code: str) -> UserOut:
    fields = {name: getattr(user, name) for name in _SHOWN_FIELDS}
    return UserOut.model_validate(
        _shown({**fields, "org_unit_name": org_unit_name, "role": role_code}, utcnow())
    )


def _listed_out(rows: Sequence[AnyRow]) -> list[UserOut]:
    """Rows of the users list: ``User``'s attribute names plus ``org_unit_name`` and ``role``. Made
    into dicts by zipping with the names once: naming a row's attributes one by one, or its
    ``_asdict()``, cost more than validating the models."""
    if not rows:
        return []
    now = utcnow()
    names = rows[0]._fields
    shown = []
    for row in rows:
        fields = dict(zip(names, row, strict=True))
        del fields[TOTAL_COLUMN]
        shown.append(_shown(fields, now))
    return _LISTED_USERS.validate_python(shown)


def _out(session: Session, user: User) -> UserOut:
    names = repo.org_unit_names(session, [user.org_unit_id])
    codes = repo.role_codes(session)
    return to_out(
        user, org_unit_name=names.get(user.org_unit_id, "?"), role_code=codes.get(user.role_id, "?")
    )


def _readable(session: Session, principal: Principal, user_id: int) -> User:
    user = repo.find_readable_user(session, principal, user_id)
    if user is None:
        raise UserNotFound(id=user_id)
    return user


def _manageable(session: Session, principal: Principal, user_id: int) -> User:
    """A user the principal may act for (reset, enable, disable, unlock): one they can see, whose role
    reaches no further than their own. Otherwise a branch's user administrator could reset the
    password of a bank-wide account placed in the branch and sign in as it."""
    user = _readable(session, principal, user_id)
    role = repo.get_role(session, user.role_id)
    if role is not None and DataScope(role.data_scope).wider_than(principal.scope):
        raise PermissionDenied(N_("You cannot manage an account whose data scope is wider than your own."))
    return user


def get_user(session: Session, principal: Principal, *, user_id: int) -> UserOut:
    principal.require(Permission.USER_READ)
    return _out(session, _readable(session, principal, user_id))


def list_users(
    session: Session,
    principal: Principal,
    *,
    page: PageRequest,
    search: str | None = None,
    role: str | None = None,
    org_unit_id: int | None = None,
    active: bool | None = None,
    sort: str = "username",
    descending: bool = False,
) -> Page[UserOut]:
    principal.require(Permission.USER_READ)
    role_id = None
    if role:
        found = repo.find_role_by_code(session, role)
        if found is None:
            return Page(items=[], total=0, page=page.page, size=page.size)
        role_id = found.id
    listed = repo.page_of_users(
        session,
        principal,
        search=search,
        role_id=role_id,
        org_unit_id=org_unit_id,
        active=active,
        sort=sort,
        descending=descending,
        page=page,
    )
    return Page(items=_listed_out(listed.rows), total=listed.total, page=page.page, size=page.size)


def _validated_contacts(
    problems: ProblemCollector, email: str | None, mobile: str | None
) -> tuple[str | None, str | None]:
    clean_email = clean_mobile = None
    if email:
        try:
            clean_email = normalise_email(email)
        except IdentifierError as exc:
            problems.add("email", exc.rule, exc.message, email)
    if mobile:
        try:
            clean_mobile = normalise_mobile(mobile)
        except IdentifierError as exc:
            problems.add("mobile", exc.rule, exc.message, mobile)
    return clean_email, clean_mobile


def _validated_placement(
    session: Session, principal: Principal, problems: ProblemCollector, org_unit_id: int, role_code: str
) -> tuple[OrgUnit | None, Role | None]:
    unit = repo.find_readable_org_unit(session, principal, org_unit_id)
    if unit is None:
        problems.add(
            "org_unit_id",
            "user.org_unit_exists",
            N_("Organisation unit %(id)s does not exist or is outside your data scope."),
            org_unit_id,
            id=org_unit_id,
        )
    elif not unit.is_active:
        problems.add(
            "org_unit_id", "user.org_unit_active", N_("The organisation unit is closed."), org_unit_id
        )
    role = repo.find_role_by_code(session, role_code)
    if role is None:
        problems.add("role", "user.role_exists", N_("There is no role %(role)s."), role_code, role=role_code)
    return unit, role


def _check_role_within_scope(
    principal: Principal, problems: ProblemCollector, role: Role | None, role_code: str
) -> None:
    """Nobody hands out a data scope beyond their own: a branch's user administrator cannot
    create a head-office-wide account and then act through it."""
    if role is not None and DataScope(role.data_scope).wider_than(principal.scope):
        problems.add(
            "role",
            "user.role_scope",
            N_("You cannot give a role whose data scope is wider than your own."),
            role_code,
        )


def create_user(session: Session, principal: Principal, *, data: UserCreate) -> UserOut:
    principal.require(Permission.USER_WRITE)
    problems = ProblemCollector()
    if repo.find_user_by_username(session, data.username) is not None:
        problems.add(
            "username",
            "user.username_unique",
            N_("The username %(username)s is taken."),
            data.username,
            username=data.username,
        )
    if data.employee_no and repo.find_user_by_employee_no(session, data.employee_no) is not None:
        problems.add(
            "employee_no",
            "user.employee_no_unique",
            N_("The employee number is already used."),
            data.employee_no,
        )
    email, mobile = _validated_contacts(problems, data.email, data.mobile)
    unit, role = _validated_placement(session, principal, problems, data.org_unit_id, data.role)
    _check_role_within_scope(principal, problems, role, data.role)
    settings = get_settings()
    password_hash = None
    if role is not None and not role.is_api_client:
        if not data.password:
            problems.add("password", "password.required", N_("Give an initial password."))
        else:
            problems.problems.extend(
                password_problems(
                    data.password,
                    min_length=settings.password_min_length,
                    username=data.username,
                    display_name=data.display_name,
                )
            )
    problems.raise_if_any()
    if role is not None and not role.is_api_client and data.password:
        password_hash = password_hashing(settings).hash(data.password)
    assert unit is not None
    assert role is not None
    user = User(
        username=data.username,
        display_name=data.display_name,
        email=email,
        mobile=mobile,
        employee_no=data.employee_no,
        org_unit_id=unit.id,
        org_path=unit.path,
        role_id=role.id,
        password_hash=password_hash,
        password_changed_at=utcnow() if password_hash else None,
        must_change_password=password_hash is not None,
    )
    repo.add(session, user)
    session.flush()
    audit.record_change(
        session,
        principal.actor,
        entity_type=ENTITY,
        entity_id=user.id,
        action="create",
        before={},
        after=_snapshot(user),
        sensitive=SENSITIVE,
    )
    return _out(session, user)


def bootstrap_user(
    session: Session,
    actor: Actor,
    *,
    username: str,
    display_name: str,
    password: str | None,
    unit: OrgUnit,
    role_code: str,
    mobile: str | None = None,
    email: str | None = None,
    employee_no: str | None = None,
    must_change_password: bool = False,
) -> User:
    """Create a user outside a request (first administrator, demo data). Policy still applies.

    ``password=None`` creates staff who cannot sign in (synthetic data for volume tests).
    """
    role = repo.find_role_by_code(session, role_code)
    if role is None:
        raise ValidationFailed.single(
            "role", "user.role_exists", N_("There is no role %(role)s."), role_code, role=role_code
        )
    if repo.find_user_by_username(session, username) is not None:
        raise ValidationFailed.single(
            "username",
            "user.username_unique",
            N_("The username %(username)s is taken."),
            username,
            username=username,
        )
    settings = get_settings()
    password_hash = None
    if not role.is_api_client and password is not None:
        problems = password_problems(
            password, min_length=settings.password_min_length, username=username, display_name=display_name
        )
        if problems:
            raise ValidationFailed(problems)
        password_hash = password_hashing(settings).hash(password)
    user = User(
        username=username,
        display_name=display_name,
        email=email,
        mobile=mobile,
        employee_no=employee_no,
        org_unit_id=unit.id,
        org_path=unit.path,
        role_id=role.id,
        password_hash=password_hash,
        password_changed_at=utcnow() if password_hash else None,
        must_change_password=must_change_password,
    )
    repo.add(session, user)
    session.flush()
    audit.record_change(
        session,
        actor,
        entity_type=ENTITY,
        entity_id=user.id,
        action="create",
        before={},
        after=_snapshot(user),
        sensitive=SENSITIVE,
    )
    return user


def update_user(session: Session, principal: Principal, *, user_id: int, data: UserUpdate) -> UserOut:
    principal.require(Permission.USER_WRITE)
    user = _readable(session, principal, user_id)
    check_version(user.version, data.version)
    problems = ProblemCollector()
    if data.employee_no and data.employee_no != user.employee_no:
        other = repo.find_user_by_employee_no(session, data.employee_no)
        if other is not None and other.id != user.id:
            problems.add(
                "employee_no",
                "user.employee_no_unique",
                N_("The employee number is already used."),
                data.employee_no,
            )
    email, mobile = _validated_contacts(problems, data.email, data.mobile)
    if "mobile" not in data.model_fields_set:
        mobile = user.mobile  # PATCH: a field that was not sent keeps its value
    unit, role = _validated_placement(session, principal, problems, data.org_unit_id, data.role)
    if role is not None and user.id == principal.user_id and role.id != user.role_id:
        problems.add("role", "user.own_role", N_("You cannot change your own role."), data.role)
    if role is not None and role.id != user.role_id:
        _check_role_within_scope(principal, problems, role, data.role)
    problems.raise_if_any()
    assert unit is not None
    assert role is not None
    before = _snapshot(user)
    user.display_name = data.display_name
    user.email = email
    user.mobile = mobile
    user.employee_no = data.employee_no
    user.org_unit_id = unit.id
    user.org_path = unit.path
    user.role_id = role.id
    session.flush()
    audit.record_change(
        session,
        principal.actor,
        entity_type=ENTITY,
        entity_id=user.id,
        action="update",
        before=before,
        after=_snapshot(user),
        sensitive=SENSITIVE,
    )
    return _out(session, user)


def set_user_active(
    session: Session, principal: Principal, *, user_id: int, active: bool, reason: str
) -> UserOut:
    """Disable ends every session and revokes every API token of the user at once."""
    principal.require(Permission.USER_WRITE)
    user = _manageable(session, principal, user_id)
    if user.id == principal.user_id and not active:
        raise ValidationFailed.single(
            "id", "user.disable_self", N_("You cannot disable your own account."), user_id
        )
    if user.is_active == active:
        return _out(session, user)
    before = _snapshot(user)
    user.is_active = active
    now = utcnow()
    if not active:
        repo.end_sessions_of(session, user.id, now=now, reason="user_disabled")
        repo.revoke_tokens_of(session, user.id, now)
    else:
        user.failed_logins = 0
        user.locked_until = None
    session.flush()
    audit.record_change(
        session,
        principal.actor,
        entity_type=ENTITY,
        entity_id=user.id,
        action="enable" if active else "disable",
        before=before,
        after=_snapshot(user),
        reason=reason,
    )
    return _out(session, user)


def reset_password(session: Session, principal: Principal, *, user_id: int, data: PasswordReset) -> UserOut:
    """An administrator sets a temporary password; the user must change it at next sign-in."""
    principal.require(Permission.USER_WRITE)
    user = _manageable(session, principal, user_id)
    settings = get_settings()
    problems = password_problems(
        data.new_password,
        min_length=settings.password_min_length,
        username=user.username,
        display_name=user.display_name,
        field="new_password",
    )
    if problems:
        raise ValidationFailed(problems)
    user.password_hash = password_hashing(settings).hash(data.new_password)
    user.password_changed_at = utcnow()
    user.must_change_password = True
    user.failed_logins = 0
    user.locked_until = None
    repo.end_sessions_of(session, user.id, now=utcnow(), reason="password_reset")
    session.flush()
    audit.record_event(
        session,
        principal.actor,
        action="reset_password",
        entity_type=ENTITY,
        entity_id=user.id,
        reason=data.reason,
    )
    return _out(session, user)


def unlock_user(session: Session, principal: Principal, *, user_id: int, reason: str) -> UserOut:
    principal.require(Permission.USER_WRITE)
    user = _manageable(session, principal, user_id)
    user.failed_logins = 0
    user.locked_until = None
    session.flush()
    audit.record_event(
        session, principal.actor, action="unlock", entity_type=ENTITY, entity_id=user.id, reason=reason
    )
    return _out(session, user)


def reveal(session: Session, principal: Principal, *, user_id: int, data: RevealIn) -> RevealOut:
    """Show one masked field of one user, with a reason, and leave an audit row (DOMAIN.md, C2)."""
    principal.require(Permission.USER_READ)
    principal.require(Permission.PII_UNMASK)
    user = _readable(session, principal, user_id)
    value = getattr(user, data.field)
    audit.record_event(
        session,
        principal.actor,
        action="unmask",
        entity_type=ENTITY,
        entity_id=user.id,
        details={"field": data.field},
        reason=data.reason,
    )
    return RevealOut(field=data.field, value=value)


def count_all_users(session: Session) -> int:
    """For set-up jobs: is this a fresh installation?"""
    return repo.count_users_total(session)


def find_user_by_username(session: Session, username: str) -> User | None:
    """For set-up jobs and tests that address users by login name, outside any data scope."""
    return repo.find_user_by_username(session, username)


# Roles whose members can own a customer portfolio.
PORTFOLIO_ROLES = frozenset({"relationship_manager", "sub_branch_manager", "branch_manager"})


class UserBrief(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    org_unit_id: int
    is_active: bool


def display_names(session: Session, ids: list[int] | set[int] | tuple[int, ...]) -> dict[int, str]:
    """Names of staff for display next to records (not sensitive; no scope needed)."""
    return repo.display_names(session, list(ids))


def portfolio_owner(session: Session, user_id: int) -> UserBrief | None:
    """The user if they can hold a customer portfolio (an active RM or manager), else None."""
    user = repo.get_user(session, user_id)
    if user is None:
        return None
    codes = repo.role_codes(session)
    role = codes.get(user.role_id, "")
    if role not in PORTFOLIO_ROLES:
        return None
    return UserBrief(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=role,
        org_unit_id=user.org_unit_id,
        is_active=user.is_active,
    )


def is_visible_to(session: Session, principal: Principal, user_id: int) -> bool:
    """Whether the principal's data scope reaches the user (as the users list and pickers show)."""
    return repo.find_readable_user(session, principal, user_id) is not None


def portfolio_owners(session: Session, principal: Principal) -> list[UserBrief]:
    """Active RMs and managers the principal can see, for pickers."""
    codes = repo.role_codes(session)
    rows = repo.list_users(
        session,
        principal,
        search=None,
        role_id=None,
        org_unit_id=None,
        active=True,
        sort="display_name",
        descending=False,
        offset=0,
        limit=1000,
    )
    return [
        UserBrief(
            id=u.id,
            username=u.username,
            display_name=u.display_name,
            role=codes.get(u.role_id, ""),
            org_unit_id=u.org_unit_id,
            is_active=u.is_active,
        )
        for u in rows
        if codes.get(u.role_id, "") in PORTFOLIO_ROLES
    ]
