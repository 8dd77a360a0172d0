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


def register_context(renderer: Renderer) -> None:
    renderer.add_context_processor(identity_context)
