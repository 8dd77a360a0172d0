"""The home-page widget of the segmentation module: the lists for relationship managers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request
from markupsafe import Markup
from sqlalchemy.orm import Session

from bankcrm.core.i18n import N_
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import DataScope, Principal
from bankcrm.segmentation import rm_lists
from bankcrm.segmentation.value_lists import LIST_KINDS, LIST_TITLES, ListSettings, percent
from bankcrm.web.render import HomeWidget, Renderer

LIST_EMPTY_HINTS = {
    "high_value": N_(
        "None of your scored customers is VIP, private banking or RFM important value, "
        "and none has assets yet."
    ),
    "potential": N_("None of your customers is close below the next tier with rising assets."),
    "at_risk": N_("None of your customers has falling assets, has gone quiet, or is below their tier."),
}
LIST_RULES = {
    "high_value": N_(
        "VIP and private-banking customers, RFM important value customers, and the top %(top)s of "
        "your customers by monthly daily average AUM; the largest first."
    ),
    "potential": N_(
        "Customers whose monthly daily average is within %(near)s below the next tier's threshold "
        "and whose AUM rose over 3 months, and RFM important-to-develop or important-to-keep "
        "customers with rising AUM; the fastest rise first."
    ),
    "at_risk": N_(
        "Customers whose AUM fell by %(drop)s or more over 3 months, who made no transaction for "
        "%(days)s days after at least %(count)s in the last 12 months, or whose monthly daily "
        "average is below their tier's threshold (a move down pending); the largest first."
    ),
}


def rule_figures(settings: ListSettings) -> dict[str, str]:
    """The thresholds the rules' sentences name, as the settings have them."""
    return {
        "top": percent(settings.top_share),
        "near": percent(float(settings.near_share)),
        "drop": percent(settings.drop_share),
        "days": str(settings.quiet_days),
        "count": str(settings.active_count),
    }


def list_context(request: Request, principal: Principal | None) -> Mapping[str, Any]:
    del request, principal
    return {
        "list_kinds": LIST_KINDS,
        "list_titles": LIST_TITLES,
        "list_empty_hints": LIST_EMPTY_HINTS,
        "list_rules": LIST_RULES,
        "list_rule_figures": rule_figures(rm_lists.list_settings()),
    }


def lists_widget(request: Request, db: Session, principal: Principal) -> Markup | None:
    """For the people who work a portfolio or a unit's customers (RMs and their managers: they log
    interactions); the whole bank's lists, and other roles', are on /segments."""
    works_customers = principal.can(Permission.CUSTOMER_READ) and principal.can(Permission.INTERACTION_WRITE)
    if not works_customers or principal.scope is DataScope.ALL:
        return None
    lists = rm_lists.value_lists(db, principal)
    renderer: Renderer = request.app.state.renderer
    return renderer.fragment(request, "segmentation/home_lists.html", {"lists": lists}, principal=principal)


WIDGETS = (HomeWidget("segmentation.lists", lists_widget, order=30, replaces=("w-lists",)),)
