"""Signing in and out, sessions with idle and absolute timeouts, and resolving who is asking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bankcrm.audit import service as audit
from bankcrm.core.config import Settings
from bankcrm.core.context import Actor, Origin
from bankcrm.core.db import utcnow
from bankcrm.core.errors import FieldProblem, ValidationFailed
from bankcrm.core.formatting import format_datetime
from bankcrm.core.i18n import N_
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import DataScope, Principal
from bankcrm.core.security import new_token, token_digest
from bankcrm.core.validation import without_control_characters
from bankcrm.identity import repository as repo
from bankcrm.identity.models import UserSession
from bankcrm.identity.passwords import password_problems
from bankcrm.identity.repository import CredentialHolder
from bankcrm.identity.schemas import PasswordChange
from bankcrm.identity.service.common import password_hashing

ENTITY = "session"
# Seen-at (and a token's last use) is refreshed at most once a minute: enough for a minutes-long
# idle timeout without a database write on every click or API call.
TOUCH_EVERY = timedelta(seconds=60)
PASSWORD_CHANGE_ONLY = frozenset({Permission.PROFILE_EDIT.value})


@dataclass(frozen=True)
class LoginResult:
    ok: bool
    token: str | None = None
    message: str | None = None  # msgid shown on the form when not ok
    params: dict[str, str] | None = None
    must_change_password: bool = False
    user_id: int | None = None


def login(
    session: Session,
    *,
    username: str,
    password: str,
    origin: Origin,
    settings: Settings,
    previous_token: str | None = None,
) -> LoginResult:
    """Verify the password and open a new session (a fresh token at every sign-in).

    A wrong password counts towards the lockout; the same message is shown for an unknown user
    and a wrong password, so the form does not reveal which usernames exist.
    """
    now = utcnow()
    typed = username.strip().lower()[:64]
    username = without_control_characters(typed)  # what the audit trail (and PostgreSQL) can hold
    user = repo.find_user_by_username(session, username) if username == typed else None
    hashing = password_hashing(settings)
    if user is not None and user.locked_until and user.locked_until > now:
        audit.record_event(
            session,
            Actor.anonymous(origin, username),
            action="login_refused",
            entity_type="user",
            entity_id=user.id,
            details={"why": "locked"},
        )
        return LoginResult(
            ok=False,
            message=N_(
                "This account is locked after too many failed sign-ins. "
                "Try again after %(until)s or ask an administrator."
            ),
            params={"until": format_datetime(user.locked_until)},
        )
    password_ok = hashing.verify(user.password_hash if user else None, password)
    role = repo.get_role(session, user.role_id) if user else None
    if user is None or not password_ok or not user.is_active or role is None or role.is_api_client:
        if user is not None and not password_ok:
            repo.record_failed_login(
                session,
                user.id,
                threshold=settings.lockout_threshold,
                lock_until=now + timedelta(minutes=settings.lockout_minutes),
            )
        why = "unknown_user" if user is None else ("bad_password" if not password_ok else "not_allowed")
        audit.record_event(
            session,
            Actor.anonymous(origin, username),
            action="login_failed",
            entity_type="user",
            entity_id=user.id if user else None,
            details={"why": why},
        )
        return LoginResult(ok=False, message=N_("Wrong username or password."))
    if previous_token:
        _end_session_by_token(session, previous_token, now=now, reason="replaced")
    token = new_token()
    record = UserSession(
        token_digest=token_digest(token),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=settings.session_absolute_hours),
        ip=origin.ip,
        user_agent=origin.user_agent,
    )
    repo.add(session, record)
    rehashed = (
        hashing.hash(password) if user.password_hash and hashing.needs_rehash(user.password_hash) else None
    )
    repo.record_sign_in(session, user.id, at=now, password_hash=rehashed)
    session.flush()
    audit.record_event(
        session,
        Actor(user_id=user.id, username=user.username, role=role.code, origin=origin),
        action="login",
        entity_type=ENTITY,
        entity_id=record.id,
    )
    return LoginResult(ok=True, token=token, must_change_password=user.must_change_password, user_id=user.id)


def _end_session_by_token(session: Session, token: str, *, now: datetime, reason: str) -> UserSession | None:
    record = repo.find_session_by_digest(session, token_digest(token))
    if record is not None and record.ended_at is None:
        record.ended_at = now
        record.end_reason = reason
    return record


def logout(session: Session, *, token: str, origin: Origin) -> None:
    record = _end_session_by_token(session, token, now=utcnow(), reason="logout")
    if record is None:
        return
    user = repo.get_user(session, record.user_id)
    role = repo.get_role(session, user.role_id) if user else None
    actor = Actor(
        user_id=record.user_id,
        username=user.username if user else "?",
        role=role.code if role else "?",
        origin=origin,
    )
    session.flush()
    audit.record_event(session, actor, action="logout", entity_type=ENTITY, entity_id=record.id)


@dataclass(frozen=True)
class ResolvedSession:
    principal: Principal
    needs_touch: bool


# (role id, permissions stamp) -> permissions. Every process keeps its own; a change to a role's
# permissions gives it a new stamp, which the credential query reads with the role on every request.
_ROLE_PERMISSIONS: dict[tuple[int, str], frozenset[str]] = {}
_ROLE_PERMISSIONS_KEPT = 512


def _permissions_of(session: Session, role_id: int, stamp: str) -> frozenset[str]:
    key = (role_id, stamp)
    cached = _ROLE_PERMISSIONS.get(key)
    if cached is None:
        if len(_ROLE_PERMISSIONS) >= _ROLE_PERMISSIONS_KEPT:
            _ROLE_PERMISSIONS.clear()  # stamps of past edits; cheaper to forget all than to track age
        cached = _ROLE_PERMISSIONS[key] = frozenset(repo.role_permissions(session, role_id))
    return cached


def _principal_for(
    session: Session,
    holder: CredentialHolder,
    *,
    origin: Origin,
    auth_method: str,
    session_id: int | None,
    allowed: set[str] | None = None,
) -> Principal:
    permissions = set(_permissions_of(session, holder.role_id, holder.permissions_stamp))
    if allowed is not None:
        permissions &= allowed
    if holder.must_change_password and auth_method == "session":
        permissions &= PASSWORD_CHANGE_ONLY
    return Principal(
        user_id=holder.user_id,
        username=holder.username,
        display_name=holder.display_name,
        role=holder.role_code,
        org_unit_id=holder.org_unit_id,
        org_path=holder.org_path,
        org_unit_name=holder.org_unit_name,
        scope=DataScope(holder.data_scope),
        permissions=frozenset(permissions),
        origin=origin,
        auth_method=auth_method,
        session_id=session_id,
        must_change_password=holder.must_change_password,
    )


def resolve_session(
    session: Session, *, token: str, origin: Origin, settings: Settings
) -> ResolvedSession | None:
    """The principal behind a session cookie, or None when it is unknown, ended or timed out."""
    found = repo.find_session_holder(session, token_digest(token))
    now = utcnow()
    if found is None:
        return None
    record, holder = found
    if record.ended_at is not None or record.expires_at <= now:
        return None
    if record.last_seen_at + timedelta(minutes=settings.session_idle_minutes) <= now:
        return None
    if not holder.is_active:
        return None
    principal = _principal_for(session, holder, origin=origin, auth_method="session", session_id=record.id)
    return ResolvedSession(principal=principal, needs_touch=now - record.last_seen_at >= TOUCH_EVERY)


def touch_session(session: Session, session_id: int) -> None:
    repo.touch_session(session, session_id, utcnow())


@dataclass(frozen=True)
class ResolvedToken:
    principal: Principal
    needs_touch: bool  # last use not recorded for a minute: record it after the request


def resolve_bearer(session: Session, *, token: str, origin: Origin) -> ResolvedToken | None:
    """The principal behind an API token: the token's scopes, never more than its user's role allows."""
    found = repo.find_token_holder(session, token_digest(token))
    now = utcnow()
    if found is None:
        return None
    record, holder = found
    if record.revoked_at is not None or (record.expires_at and record.expires_at <= now):
        return None
    if not holder.is_active:
        return None
    principal = _principal_for(
        session,
        holder,
        origin=origin,
        auth_method="token",
        session_id=None,
        allowed=set(record.scopes.split()),
    )
    # Like a session's seen-at, last use is kept to the minute, so API reads stay free of writes.
    needs_touch = record.last_used_at is None or now - record.last_used_at >= TOUCH_EVERY
    return ResolvedToken(principal=principal, needs_touch=needs_touch)


def change_password(
    session: Session, principal: Principal, *, data: PasswordChange, settings: Settings
) -> None:
    """Change one's own password; every other session of the user ends."""
    principal.require(Permission.PROFILE_EDIT)
    user = repo.get_user(session, principal.user_id)
    assert user is not None
    hashing = password_hashing(settings)
    if not hashing.verify(user.password_hash, data.current_password):
        raise ValidationFailed.single(
            "current_password", "password.current", N_("The current password is wrong.")
        )
    problems = password_problems(
        data.new_password,
        min_length=settings.password_min_length,
        username=user.username,
        display_name=user.display_name,
        field="new_password",
    )
    if data.new_password == data.current_password:
        problems.append(
            FieldProblem(
                "new_password", "password.reuse", N_("Choose a password different from the current one.")
            )
        )
    if problems:
        raise ValidationFailed(problems)
    user.password_hash = hashing.hash(data.new_password)
    user.password_changed_at = utcnow()
    user.must_change_password = False
    repo.end_sessions_of(
        session, user.id, now=utcnow(), reason="password_changed", except_id=principal.session_id
    )
    session.flush()
    audit.record_event(
        session, principal.actor, action="change_password", entity_type="user", entity_id=user.id
    )
