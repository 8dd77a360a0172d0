"""Helpers shared by test packages that build their own bank (access matrix, API fuzzing)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bankcrm.core.config import Settings
from bankcrm.core.context import Origin
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.demo import seed
from bankcrm.identity.schemas import RolePermissionsUpdate
from bankcrm.identity.service import auth
from bankcrm.identity.service import roles as role_service

ORIGIN = Origin(ip="tests")
EVERY_PERMISSION = [permission.value for permission in Permission]


def sign_in_token(db: Session, settings: Settings, username: str) -> str:
    """A session token for a demo user, signed in through the real login service."""
    result = auth.login(db, username=username, password=seed.DEMO_PASSWORD, origin=ORIGIN, settings=settings)
    assert result.ok, f"{username} could not sign in: {result.message}"
    assert result.token is not None
    return result.token


def principal_of(db: Session, settings: Settings, session_token: str) -> Principal:
    resolved = auth.resolve_session(db, token=session_token, origin=ORIGIN, settings=settings)
    assert resolved is not None
    return resolved.principal


def signed_in_principal(db: Session, settings: Settings, username: str) -> Principal:
    return principal_of(db, settings, sign_in_token(db, settings, username))


def grant_every_permission(db: Session, admin: Principal, role_code: str) -> None:
    """Every permission the role may hold: those of whole-bank data only when its scope is the bank."""
    role = next(role for role in role_service.list_roles(db, admin) if role.code == role_code)
    allowed = [
        p for p in EVERY_PERMISSION if role.data_scope == "all" or p not in role_service.WHOLE_BANK_ONLY
    ]
    role_service.update_role_permissions(
        db, admin, role_id=role.id, data=RolePermissionsUpdate(permissions=allowed, reason="tests")
    )
