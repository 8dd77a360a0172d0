"""The lists for relationship managers, read within the viewer's data scope: the rules of
``value_lists`` applied to the customers module's scored customers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from bankcrm.core.config import get_settings
from bankcrm.core.errors import NotFound
from bankcrm.core.i18n import N_
from bankcrm.core.principal import Principal
from bankcrm.customers.service import scoring
from bankcrm.segmentation.studio import service as studio
from bankcrm.segmentation.value_lists import (
    LIST_KINDS,
    LIST_ORDER,
    Context,
    ListedCustomer,
    ListKind,
    ListSettings,
    reasons_for,
    rules,
)

WIDGET_ROWS = 10  # rows per list on the home page
PAGE_ROWS = 100  # rows of a whole list's page


def churn_propensities(session: Session, principal: Principal) -> Mapping[int, float] | None:
    """The active churn model's score (0-1) per customer from ``ListSettings.churn_from`` up (those
    below never list a customer), or None while no churn model is active (model studio). Customers
    outside the principal's scope may be returned; ``scoring.scored_customers`` drops them."""
    del principal
    return studio.active_churn_scores(session, at_least=list_settings().churn_from)


class ValueListNotFound(NotFound):
    code = "value-list-not-found"
    default_message = N_("There is no list %(kind)s.")


def list_kind(value: str) -> ListKind:
    """The list a page asks for by name; an unknown name is a missing page."""
    for kind in LIST_KINDS:
        if kind == value:
            return kind
    raise ValueListNotFound(kind=value)


def list_settings() -> ListSettings:
    settings = get_settings()
    return ListSettings(thresholds=settings.tier_thresholds, grace_months=settings.tier_grace_months)


@dataclass(frozen=True)
class ValueList:
    kind: ListKind
    customers: list[ListedCustomer]
    limit: int

    @property
    def maybe_more(self) -> bool:
        """The list was cut at its limit, so there may be more."""
        return len(self.customers) >= self.limit


@dataclass(frozen=True)
class ValueLists:
    as_of: date | None  # the latest scoring run; None before the first
    lists: list[ValueList]


def value_list(
    session: Session, principal: Principal, *, kind: ListKind, limit: int = WIDGET_ROWS
) -> ValueList:
    """One list within the principal's data scope, at most ``limit`` customers, each with its reasons."""
    settings = list_settings()
    cutoff = (
        scoring.top_aum_cutoff(session, principal, share=settings.top_share) if kind == "high_value" else None
    )
    churn = (churn_propensities(session, principal) or {}) if kind == "at_risk" else {}
    risky = {customer_id for customer_id, score in churn.items() if score >= settings.churn_from}
    listing_rules = rules(kind, settings, top_aum_cutoff=cutoff)
    candidates = scoring.scored_customers(
        session,
        principal,
        any_of=[rule.conditions for rule in listing_rules],
        also_ids=risky,
        order_by=LIST_ORDER[kind],
        limit=limit,
    )
    context = Context(settings=settings, top_aum_cutoff=cutoff, churn=churn)
    listed = [ListedCustomer(c, reasons_for(kind, c, listing_rules, context)) for c in candidates]
    return ValueList(kind=kind, customers=[item for item in listed if item.reasons], limit=limit)


def value_lists(session: Session, principal: Principal, *, limit: int = WIDGET_ROWS) -> ValueLists:
    """The three lists, for the home page and the segments page."""
    return ValueLists(
        as_of=scoring.latest_scoring_date(session),
        lists=[value_list(session, principal, kind=kind, limit=limit) for kind in LIST_KINDS],
    )
