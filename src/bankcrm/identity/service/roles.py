"""Roles and the role -> permission map the administrator edits."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bankcrm.audit import service as audit
from bankcrm.core.context import Actor
from bankcrm.core.errors import ValidationFailed
from bankcrm.core.i18n import N_
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.identity import repository as repo
from bankcrm.identity.models import KnownPermission, Role, RolePermission
from bankcrm.identity.roles import DEFAULT_ROLE_PERMISSIONS, ROLE_LABELS, ROLE_SCOPES
from bankcrm.identity.schemas import RoleOut, RolePermissionsUpdate
from bankcrm.identity.service.errors import RoleNotFound

ENTITY = "role"
# The administrator role must keep these, or nobody could ever repair the permission map again.
ADMIN_ESSENTIALS = {Permission.ROLE_READ.value, Permission.ROLE_WRITE.value, Permission.USER_WRITE.value}
# Source systems' batches, rejected records and match pairs belong to no branch: they show and
# change data of the whole bank, so only a role whose data scope is the whole bank may hold them.
WHOLE_BANK_ONLY = {
    Permission.INTEGRATION_READ.value,
    Permission.INTEGRATION_RUN.value,
    Permission.MATCH_REVIEW.value,
}


def sync_roles(session: Session, actor: Actor) -> list[str]:
    """Create missing built-in roles; grant default permissions for permissions never seen before.

    Returns the permissions that were new to this deployment. Safe to run on every start.
    """
    roles = {role.code: role for role in repo.list_roles(session)}
    for code, scope in ROLE_SCOPES.items():
        if code not in roles:
            role = Role(code=code, data_scope=scope.value, is_api_client=code == "api_client")
            repo.add(session, role)
            roles[code] = role
    session.flush()
    known = repo.known_permissions(session)
    new = [permission.value for permission in Permission if permission.value not in known]
    for permission in new:
        repo.add(session, KnownPermission(permission=permission))
        for code, defaults in DEFAULT_ROLE_PERMISSIONS.items():
            if Permission(permission) in defaults:
                repo.add(session, RolePermission(role_id=roles[code].id, permission=permission))
                repo.restamp_permissions(session, roles[code].id)
    session.flush()
    if new:
        audit.record_event(
            session, actor, action="grant_defaults", entity_type=ENTITY, details={"permissions": new}
        )
    return new


def _out(session: Session, role: Role, counts: dict[int, int]) -> RoleOut:
    return RoleOut(
        id=role.id,
        code=role.code,
        label=ROLE_LABELS.get(role.code, role.code),
        data_scope=role.data_scope,
        is_api_client=role.is_api_client,
        permissions=sorted(repo.role_permissions(session, role.id)),
        user_count=counts.get(role.id, 0),
    )


def list_roles(session: Session, principal: Principal) -> list[RoleOut]:
    principal.require(Permission.ROLE_READ)
    counts = repo.user_counts_by_role(session)
    return [_out(session, role, counts) for role in repo.list_roles(session)]


def role_codes(session: Session) -> list[str]:
    """For pickers; role codes are not sensitive."""
    return [role.code for role in repo.list_roles(session)]


def get_role(session: Session, principal: Principal, *, role_id: int) -> RoleOut:
    principal.require(Permission.ROLE_READ)
    role = repo.get_role(session, role_id)
    if role is None:
        raise RoleNotFound(id=role_id)
    return _out(session, role, repo.user_counts_by_role(session))


def update_role_permissions(
    session: Session, principal: Principal, *, role_id: int, data: RolePermissionsUpdate
) -> RoleOut:
    principal.require(Permission.ROLE_WRITE)
    role = repo.get_role(session, role_id)
    if role is None:
        raise RoleNotFound(id=role_id)
    valid = {permission.value for permission in Permission}
    unknown = sorted(set(data.permissions) - valid)
    if unknown:
        raise ValidationFailed.single(
            "permissions",
            "role.permission_exists",
            N_("Unknown permission: %(names)s."),
            ", ".join(unknown),
            names=", ".join(unknown),
        )
    wanted = set(data.permissions)
    if role.code == "admin" and not wanted >= ADMIN_ESSENTIALS:
        raise ValidationFailed.single(
            "permissions",
            "role.admin_essentials",
            N_("The administrator role must keep: %(names)s."),
            ", ".join(sorted(ADMIN_ESSENTIALS - wanted)),
            names=", ".join(sorted(ADMIN_ESSENTIALS)),
        )
    beyond_scope = sorted(wanted & WHOLE_BANK_ONLY) if role.data_scope != "all" else []
    if beyond_scope:
        raise ValidationFailed.single(
            "permissions",
            "role.whole_bank_only",
            N_(
                "These rights show data of the whole bank, so only a role whose data scope is the "
                "whole bank may hold them: %(names)s."
            ),
            ", ".join(beyond_scope),
            names=", ".join(beyond_scope),
        )
    before = repo.role_permissions(session, role.id)
    repo.set_role_permissions(session, role.id, wanted)
    session.flush()
    audit.record_change(
        session,
        principal.actor,
        entity_type=ENTITY,
        entity_id=role.id,
        action="update_permissions",
        before={"permissions": sorted(before)},
        after={"permissions": sorted(wanted)},
        reason=data.reason,
    )
    return _out(session, role, repo.user_counts_by_role(session))
