"""Home-page widgets of the customers module: follow-ups due and the portfolio by tier."""

from __future__ import annotations

from fastapi import Request
from markupsafe import Markup
from sqlalchemy.orm import Session

from bankcrm.core.permissions import Permission
from bankcrm.core.principal import DataScope, Principal
from bankcrm.customers.service import customers, interactions
from bankcrm.web.render import HomeWidget, Renderer


def follow_ups_widget(request: Request, db: Session, principal: Principal) -> Markup | None:
    if not principal.can(Permission.INTERACTION_WRITE) or not principal.can(Permission.CUSTOMER_READ):
        return None
    due = interactions.follow_ups_due(db, principal, days_ahead=3, limit=10)
    renderer: Renderer = request.app.state.renderer
    return renderer.fragment(request, "customers/home_follow_ups.html", {"due": due}, principal=principal)


def portfolio_widget(request: Request, db: Session, principal: Principal) -> Markup | None:
    if not principal.can(Permission.CUSTOMER_READ):
        return None
    mine = principal.scope is DataScope.OWN
    summary = customers.portfolio_summary(db, principal, mine=mine)
    renderer: Renderer = request.app.state.renderer
    return renderer.fragment(
        request, "customers/home_portfolio.html", {"summary": summary, "mine": mine}, principal=principal
    )


WIDGETS = (
    HomeWidget("customers.follow_ups", follow_ups_widget, order=10, replaces=("w-followups",)),
    HomeWidget("customers.portfolio", portfolio_widget, order=20, replaces=("w-portfolio", "w-tiers")),
)
