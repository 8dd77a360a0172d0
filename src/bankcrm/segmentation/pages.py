"""Segmentation pages: the latest scoring run as the viewer's scope sees it, and the lists for
relationship managers."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from bankcrm.core.config import get_settings
from bankcrm.core.formatting import format_compact_money
from bankcrm.core.i18n import N_
from bankcrm.core.lake import Lake
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.customers.service import scoring
from bankcrm.segmentation import clustering, home, rm_lists
from bankcrm.segmentation import service as segments
from bankcrm.segmentation.cluster_command import describe
from bankcrm.segmentation.tiers import TIERS
from bankcrm.web.auth import PrincipalRoute, require
from bankcrm.web.render import Navigation, NavItem, Renderer, request_locale
from bankcrm.web.render import page as render
from bankcrm.web.transaction import db_session

router = APIRouter(prefix="/segments", include_in_schema=False, route_class=PrincipalRoute)
READ = Depends(require(Permission.CUSTOMER_READ))


def register_navigation(navigation: Navigation) -> None:
    navigation.register(
        NavItem(
            "segments",
            N_("Segments and tiers"),
            "/segments",
            Permission.CUSTOMER_READ,
            icon="chart-pie",
            section=N_("Customers"),
            order=20,
        ),
    )


def register_context(renderer: Renderer) -> None:
    renderer.add_context_processor(home.list_context)
    renderer.home_widgets.register(*home.WIDGETS)


@router.get("")
def overview(request: Request, db: Session = Depends(db_session), principal: Principal = READ) -> Response:
    summary = scoring.score_summary(db, principal)
    tiers = [(tier, summary.tiers.get(tier, 0)) for tier in reversed(TIERS)]
    context = {
        "summary": summary,
        "tiers": tiers,
        "tier_total": sum(summary.tiers.values()),
        "segment_items": segments.list_segments(db, principal, Lake(get_settings().lake_root)),
        "lists": rm_lists.value_lists(db, principal),
        "sees_clusters": clustering.may_see_clusters(principal),
    }
    return render(request, "segmentation/overview.html", context, principal=principal)


@router.get("/lists/{kind}")
def value_list(
    request: Request, kind: str, db: Session = Depends(db_session), principal: Principal = READ
) -> Response:
    """A whole list (up to its page's rows), within the viewer's scope, with the reasons."""
    found = rm_lists.value_list(db, principal, kind=rm_lists.list_kind(kind), limit=rm_lists.PAGE_ROWS)
    return render(
        request,
        "segmentation/value_list.html",
        {"value_list": found, "as_of": scoring.latest_scoring_date(db)},
        principal=principal,
    )


@router.get("/clusters")
def clusters(request: Request, principal: Principal = READ) -> Response:
    run = clustering.latest_run_for(principal, Lake(get_settings().lake_root))
    return render(
        request,
        "segmentation/clusters.html",
        {"run": run, "describe": describe, "figure": _figure_text(request_locale(request))},
        principal=principal,
    )


def _figure_text(locale: str) -> Callable[[clustering.ClusterFeature, float | None], str]:
    def shown(feature: clustering.ClusterFeature, value: float | None) -> str:
        if value is None:
            return "—"
        if feature.unit == "money":
            return format_compact_money(Decimal(f"{value:.2f}"), locale)
        if feature.unit == "share":
            return f"{value:.0%}"
        return f"{value:,.1f}"

    return shown
