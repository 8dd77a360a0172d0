"""HTML routes of the customers module: list and search, 360° view, forms, merges, handovers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request

from bankcrm.core.i18n import N_
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.customers.pages import detail, forms, home, listing, workflow
from bankcrm.customers.pages.labels import LABELS
from bankcrm.web.auth import PrincipalRoute
from bankcrm.web.render import Navigation, NavItem, Renderer

router = APIRouter(include_in_schema=False, route_class=PrincipalRoute)
for module in (listing, workflow, forms, detail):
    router.include_router(module.router)

CUSTOMERS = N_("Customers")


def register_navigation(navigation: Navigation) -> None:
    navigation.register(
        NavItem(
            "customers",
            N_("Customers"),
            "/customers",
            Permission.CUSTOMER_READ,
            icon="users-group",
            section=CUSTOMERS,
            order=10,
        ),
        NavItem(
            "lists",
            N_("Lists and tags"),
            "/customers/lists",
            Permission.CUSTOMER_READ,
            icon="list-check",
            section=CUSTOMERS,
            order=10,
        ),
        NavItem(
            "merges",
            N_("Merge requests"),
            "/customers/merges",
            Permission.CUSTOMER_READ,
            icon="git-merge",
            section=CUSTOMERS,
            order=10,
        ),
        NavItem(
            "handovers",
            N_("Portfolio handovers"),
            "/customers/handovers",
            Permission.CUSTOMER_READ,
            icon="arrows-exchange",
            section=CUSTOMERS,
            order=10,
        ),
    )


def customer_context(request: Request, principal: Principal | None) -> Mapping[str, Any]:
    del request
    return {
        "label": lambda group, value: LABELS.get(group, {}).get(value, value) if value else "—",
        "show_customer_search": bool(principal and principal.can(Permission.CUSTOMER_READ)),
    }


# What the customer module writes to the audit trail, in words (Renderer.audit_labels): the
# timeline's names of changes, and the actions on lists and loads.
AUDIT_LABELS = {
    "actions": {
        **LABELS["change"],
        "add_members": N_("Added to a list"),
        "remove_members": N_("Removed from a list"),
        "bulk_load": N_("Customers loaded in bulk"),
        "score_refresh": N_("Scores refreshed"),
        "tier_refresh": N_("Tiers refreshed"),
    },
    "entities": {
        "customer": N_("Customer"),
        "relationship": N_("Customer relationship"),
        "tag": N_("Tag"),
        "customer_group": N_("Customer list"),
        "merge_request": N_("Merge request"),
        "portfolio_handover": N_("Portfolio handover"),
        "interaction": N_("Interaction"),
        "customer_score": N_("Customer scores"),
    },
}


def register_context(renderer: Renderer) -> None:
    renderer.add_context_processor(customer_context)
    renderer.audit_labels.add(**AUDIT_LABELS)
    renderer.home_widgets.register(*home.WIDGETS)
