"""Tables of identity: organisation units, roles and their permissions, users, sessions, API tokens."""

from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bankcrm.core.db import Base, utcnow


class OrgUnit(Base):
    """Head office → branches → sub-branches → teams.

    ``path`` is the materialised path of ids (``/1/4/9/``), so "this unit and everything below it"
    is one indexed prefix query; it is rewritten for the whole subtree when a unit moves.
    """

    __tablename__ = "org_unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # head_office | branch | sub_branch | team
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    path: Mapped[str] = mapped_column(String(400), index=True)
    depth: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads this


class OrgUnitMove(Base):
    """An effective-dated move of a unit to a new parent; applied on its date (or at once if due)."""

    __tablename__ = "org_unit_move"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    from_parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    to_parent_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    effective_date: Mapped[date]
    status: Mapped[str] = mapped_column(String(16), default="scheduled")  # scheduled | applied | cancelled
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    applied_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(String(500))


def new_permissions_stamp() -> str:
    return secrets.token_hex(16)


class Role(Base):
    __tablename__ = "role"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    data_scope: Mapped[str] = mapped_column(String(16))  # own | subtree | all
    is_api_client: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A new random stamp whenever the role's permissions change: resolving a principal caches the
    # permissions per (role, stamp), so no request reads them twice and no process serves stale ones.
    # Random rather than a counter, so a rolled-back change can never reuse a stamp for other content.
    permissions_stamp: Mapped[str] = mapped_column(String(32), default=new_permissions_stamp)


class RolePermission(Base):
    """The role → permission map, as data the administrator edits."""

    __tablename__ = "role_permission"

    role_id: Mapped[int] = mapped_column(ForeignKey("role.id", ondelete="CASCADE"), primary_key=True)
    permission: Mapped[str] = mapped_column(String(64), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)


class KnownPermission(Base):
    """Permissions this deployment has already seen.

    When a new release adds a permission, its default grants are applied once; a grant the
    administrator later removes stays removed, because the permission is then already known.
    """

    __tablename__ = "known_permission"

    permission: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    mobile: Mapped[str | None] = mapped_column(String(20))
    employee_no: Mapped[str | None] = mapped_column(String(32), unique=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    org_path: Mapped[str] = mapped_column(String(400), index=True)  # copy of the unit's path, for scoping
    role_id: Mapped[int] = mapped_column(ForeignKey("role.id"))
    preferred_locale: Mapped[str | None] = mapped_column(String(8))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    password_changed_at: Mapped[datetime | None]
    must_change_password: Mapped[bool] = mapped_column(default=False)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads this
    # Leads with the role (the users list's filter, the foreign key); the rest answers the home
    # page's figures (users by role, active or not, locked) from the index alone.
    __table_args__ = (Index("ix_app_user_role_state", "role_id", "is_active", "locked_until"),)


class UserSession(Base):
    """A signed-in browser. Only the SHA-256 of the cookie token is stored."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]  # absolute timeout
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(32))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))

    __table_args__ = (Index("ix_user_session_active", "user_id", "ended_at"),)


class ApiToken(Base):
    """A bearer token for another bank system, shown once, stored as a digest, scoped, revocable."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    token_prefix: Mapped[str] = mapped_column(String(12))
    scopes: Mapped[str] = mapped_column(String(2000))  # space-separated permissions
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_api_token_user_name"),)
