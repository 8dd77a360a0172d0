"""HTML routes of identity: sign-in, home pages, and administration of users, roles, units, tokens."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request

from bankcrm.core.i18n import N_
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.identity.pages import orgs, roles, session, tokens, users
from bankcrm.identity.roles import MOVE_STATUS_LABELS, ORG_KIND_LABELS, ROLE_LABELS, SCOPE_LABELS
from bankcrm.web.auth import PrincipalRoute
from bankcrm.web.render import Navigation, NavItem, Renderer

router = APIRouter(include_in_schema=False, route_class=PrincipalRoute)
for module in (session, users, roles, orgs, tokens):
    router.include_router(module.router)

ADMIN = N_("Administration")


def register_navigation(navigation: Navigation) -> None:
    navigation.register(
        NavItem("home", N_("Home"), "/", Permission.HOME_VIEW, icon="home", order=0),
        NavItem(
            "users", N_("Users"), "/admin/users", Permission.USER_READ, icon="users", section=ADMIN, order=90
        ),
        NavItem(
            "roles",
            N_("Roles and permissions"),
            "/admin/roles",
            Permission.ROLE_READ,
            icon="shield-lock",
            section=ADMIN,
            order=90,
        ),
        NavItem(
            "org",
            N_("Organisation"),
            "/admin/org-units",
            Permission.ORG_READ,
            icon="sitemap",
            section=ADMIN,
            order=90,
        ),
        NavItem(
            "tokens",
            N_("API tokens"),
            "/admin/api-tokens",
            Permission.API_TOKEN_MANAGE,
            icon="key",
            section=ADMIN,
            order=90,
        ),
    )


def identity_context(request: Request, principal: Principal | None) -> Mapping[str, Any]:
    del request, principal
    return {
        "role_label": lambda code: ROLE_LABELS.get(code, code),
        "org_kind_label": lambda kind: ORG_KIND_LABELS.get(kind, kind),
        "move_status_label": lambda status: MOVE_STATUS_LABELS.get(status, status),
        "scope_label": lambda scope: SCOPE_LABELS.get(scope, scope),
        "role_labels": ROLE_LABELS,
        "org_kind_labels": ORG_KIND_LABELS,
    }


# What identity writes to the audit trail, in words (Renderer.audit_labels).
AUDIT_LABELS = {
    "actions": {
        "move": N_("Moved"),
        "schedule_move": N_("Move scheduled"),
        "cancel_move": N_("Move cancelled"),
        "issue": N_("Issued"),
        "revoke": N_("Revoked"),
        "login": N_("Signed in"),
        "logout": N_("Signed out"),
        "login_failed": N_("Sign-in failed"),
        "login_refused": N_("Sign-in refused"),
        "change_password": N_("Changed own password"),
        "reset_password": N_("Temporary password set"),
        "unlock": N_("Unlocked"),
        "grant_defaults": N_("Default permissions granted"),
        "update_permissions": N_("Permissions changed"),
    },
    "entities": {
        "user": N_("User"),
        "session": N_("Session"),
        "org_unit": N_("Org unit"),
        "role": N_("Role"),
        "api_token": N_("API token"),
    },
    "fields": {
        "username": N_("Username"),
        "display_name": N_("Name"),
        "name": N_("Name"),
        "name_en": N_("English name"),
        "email": N_("Work e-mail"),
        "mobile": N_("Mobile"),
        "employee_no": N_("Employee number"),
        "is_active": N_("Active"),
        "org_unit_id": N_("Organisation unit"),
        "parent_id": N_("Belongs to"),
        "role_id": N_("Role"),
        "role": N_("Role"),
        "code": N_("Code"),
        "kind": N_("Kind"),
        "scopes": N_("Scopes"),
        "permissions": N_("Permissions"),
        "user_id": N_("User"),
    },
}


def register_context(renderer: Renderer) -> None:
    renderer.add_context_processor(identity_context)
    renderer.audit_labels.add(**AUDIT_LABELS)
