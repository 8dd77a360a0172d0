"""The customer 360° view, section by section, so each section loads (and fails) on its own."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from bankcrm.audit import service as audit
from bankcrm.core.config import get_settings
from bankcrm.core.formatting import format_money
from bankcrm.core.i18n import N_
from bankcrm.core.lake import Lake
from bankcrm.core.masking import mask_account_number, mask_card_number
from bankcrm.core.pagination import Page, PageRequest
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.customers import lake_repository as history
from bankcrm.customers import repository as repo
from bankcrm.customers.models import Account, CustomerScore
from bankcrm.customers.schemas import (
    AccountOut,
    AssetsOut,
    ConsentOut,
    ContactPointOut,
    HoldingOut,
    ScoreOut,
    TierChangeOut,
    TimelineItem,
    TransactionFilter,
    TransactionOut,
    XrefOut,
)
from bankcrm.customers.service import scoring
from bankcrm.customers.service.common import (
    masked_email,
    masked_mobile,
    readable_customer,
    scope_of,
    shown_name,
)
from bankcrm.customers.service.interactions import list_interactions
from bankcrm.identity.service import users

# What counts towards assets under management (DOMAIN.md): deposits and investments held through the bank.
ASSET_KINDS = frozenset({"current", "savings", "time_deposit"})
LIABILITY_KINDS = frozenset({"loan", "credit_card"})
HOLDING_CATEGORIES = ("wealth", "fund", "insurance")
# Audit rows written by loading jobs; the timeline shows what people did to the record.
LOADER_ACTIONS = frozenset({"account_recorded", "holding_recorded", "xref_linked"})


def _lake() -> Lake:
    return Lake(get_settings().lake_root)


def _masked_account(account: Account) -> str:
    return (
        mask_card_number(account.account_no)
        if account.kind == "credit_card"
        else mask_account_number(account.account_no)
    )


def accounts(session: Session, principal: Principal, *, customer_id: int) -> list[AccountOut]:
    principal.require(Permission.CUSTOMER_READ)
    readable_customer(session, scope_of(session, principal), customer_id)
    return [
        AccountOut(
            id=a.id,
            account_no=_masked_account(a),
            product_code=p.code,
            product_name=p.name,
            kind=a.kind,
            currency=a.currency,
            balance=a.balance,
            credit_limit=a.credit_limit,
            opened_on=a.opened_on,
            maturity_date=a.maturity_date,
            overdue_days=a.overdue_days,
            overdue_amount=a.overdue_amount,
            status=a.status,
        )
        for a, p in repo.accounts(session, customer_id)
    ]


def holdings(session: Session, principal: Principal, *, customer_id: int) -> list[HoldingOut]:
    principal.require(Permission.CUSTOMER_READ)
    readable_customer(session, scope_of(session, principal), customer_id)
    return [
        HoldingOut(
            id=h.id,
            product_code=p.code,
            product_name=p.name,
            category=p.category,
            risk_level=p.risk_level,
            units=h.units,
            market_value=h.market_value,
            cost=h.cost,
            valued_on=h.valued_on,
            maturity_date=h.maturity_date,
        )
        for h, p in repo.holdings(session, customer_id)
    ]


def _month_back(today: date, months: int) -> str:
    total = today.year * 12 + today.month - 1 - months
    return f"{total // 12:04d}-{total % 12 + 1:02d}"


def assets(session: Session, principal: Principal, *, customer_id: int) -> AssetsOut:
    """AUM now by product category, liabilities, and the 12-month month-end trend from the lake."""
    principal.require(Permission.CUSTOMER_READ)
    scope = scope_of(session, principal)
    customer = readable_customer(session, scope, customer_id)
    by_category: dict[str, Decimal] = {}
    liabilities = Decimal("0")
    for account, _product in repo.accounts(session, customer.id):
        if account.status == "closed":
            continue
        if account.kind in ASSET_KINDS:
            category = "time_deposit" if account.kind == "time_deposit" else "deposit"
            by_category[category] = by_category.get(category, Decimal("0")) + account.balance
        elif account.kind in LIABILITY_KINDS:
            liabilities += abs(account.balance)
    for holding, product in repo.holdings(session, customer.id):
        by_category[product.category] = by_category.get(product.category, Decimal("0")) + holding.market_value
    aum = sum(by_category.values(), Decimal("0"))
    monthly: dict[str, Decimal] = {}
    for month, category, balance in history.monthly_balances(
        _lake(), customer.id, since_month=_month_back(scope.today, 11)
    ):
        if category not in LIABILITY_KINDS:
            monthly[month] = monthly.get(month, Decimal("0")) + balance
    return AssetsOut(aum=aum, by_category=by_category, trend=sorted(monthly.items()), liabilities=liabilities)


def transactions(
    session: Session, principal: Principal, *, customer_id: int, filters: TransactionFilter, page: PageRequest
) -> Page[TransactionOut]:
    principal.require(Permission.CUSTOMER_READ)
    readable_customer(session, scope_of(session, principal), customer_id)
    query = history.TransactionQuery(
        customer_ids=(customer_id,),
        date_from=filters.date_from,
        date_to=filters.date_to,
        min_amount=filters.min_amount,
        max_amount=filters.max_amount,
        direction=filters.direction,
        category=filters.category,
        channel=filters.channel,
    )
    rows, total = history.transactions(_lake(), query, offset=page.offset, limit=page.size)
    items = [
        TransactionOut(
            txn_id=row["txn_id"],
            booked_at=row["booked_at"],
            account_no=mask_account_number(row["account_no"]),
            direction=row["direction"],
            amount=Decimal(str(row["amount"])),
            currency=row["currency"],
            category=row["category"],
            channel=row["channel"],
            # A counterparty is often another person: masked like a customer's name for roles
            # that may not see names.
            counterparty=shown_name(principal, row["counterparty"]) if row["counterparty"] else None,
            description=row["description"],
        )
        for row in rows
    ]
    return Page(items=items, total=total, page=page.page, size=page.size)


def contact_points(session: Session, principal: Principal, *, customer_id: int) -> list[ContactPointOut]:
    principal.require(Permission.CUSTOMER_READ)
    readable_customer(session, scope_of(session, principal), customer_id)
    out = []
    for row in repo.contact_points(session, customer_id):
        value = masked_mobile(row.value) if row.kind in ("mobile", "phone") else masked_email(row.value)
        out.append(
            ContactPointOut(
                id=row.id,
                kind=row.kind,
                value=value or "",
                is_primary=row.is_primary,
                valid_from=row.valid_from,
                valid_to=row.valid_to,
                source=row.source,
            )
        )
    return out


def consents(session: Session, principal: Principal, *, customer_id: int) -> list[ConsentOut]:
    principal.require(Permission.CUSTOMER_READ)
    readable_customer(session, scope_of(session, principal), customer_id)
    return [
        ConsentOut(channel=c.channel, granted=c.granted, source=c.source, recorded_on=c.recorded_on)
        for c in repo.consents(session, customer_id)
    ]


def xrefs(session: Session, principal: Principal, *, customer_id: int) -> list[XrefOut]:
    principal.require(Permission.CUSTOMER_READ)
    readable_customer(session, scope_of(session, principal), customer_id)
    return [
        XrefOut(
            source_system=x.source_system,
            source_customer_no=x.source_customer_no,
            linked_at=x.linked_at,
            match_rule=x.match_rule,
        )
        for x in repo.xrefs(session, customer_id)
    ]


def data_quality_flags(session: Session, principal: Principal, *, customer_id: int) -> list[str]:
    """Gaps a relationship manager can fix: message ids, shown translated."""
    principal.require(Permission.CUSTOMER_READ)
    customer = readable_customer(session, scope_of(session, principal), customer_id)
    flags = []
    if not customer.mobile:
        flags.append(N_("No mobile number"))
    if repo.current_address(session, customer.id) is None:
        flags.append(N_("No current address"))
    if customer.kind == "individual" and not customer.risk_level:
        flags.append(N_("No risk questionnaire on record"))
    if customer.kind == "individual" and not customer.occupation:
        flags.append(N_("Occupation missing"))
    if not repo.consents(session, customer.id):
        flags.append(N_("No marketing consent recorded for any channel"))
    return flags


def _tag_code(changes: Mapping[str, Any] | None) -> str:
    """The tag a tagging event names (``{"tag": code}``), or ""."""
    code = (changes or {}).get("tag")
    return code if isinstance(code, str) else ""


def _changed_fields(changes: Mapping[str, Any]) -> list[str]:
    """The fields an audit row touched: the keys of a before/after diff, or the one an event names
    (a reveal records ``{"field": "mobile"}``); other events' details are not field names."""
    if changes and all(isinstance(value, Mapping) and "after" in value for value in changes.values()):
        return sorted(changes)
    named = changes.get("field")
    return [str(named)] if isinstance(named, str) else []


def timeline(
    session: Session, principal: Principal, *, customer_id: int, limit: int = 50
) -> list[TimelineItem]:
    """Interactions and changes to the record in one stream, newest first.

    Service records and campaign touches join this stream when the service and marketing modules land.
    """
    principal.require(Permission.CUSTOMER_READ)
    readable_customer(session, scope_of(session, principal), customer_id)
    items = [
        TimelineItem(
            at=i.occurred_at,
            kind="interaction",
            title=f"{i.kind}:{i.channel}",
            detail=i.summary,
            actor=i.user_name,
        )
        for i in list_interactions(session, principal, customer_id=customer_id, limit=limit)
    ]
    events = [
        event
        for event in audit.entity_history(session, entity_type="customer", entity_id=customer_id, limit=limit)
        if event.action not in LOADER_ACTIONS
    ]
    # Changes name their author as interactions do (display name, not login); jobs keep theirs.
    authors = users.display_names(session, {e.actor_id for e in events if e.actor_id is not None})
    tag_names = repo.tag_names_by_code(session, {_tag_code(e.changes) for e in events} - {""})
    for event in events:
        items.append(
            TimelineItem(
                at=event.occurred_at,
                kind="change",
                title=event.action,
                detail=None,
                actor=authors.get(event.actor_id, event.actor_name) if event.actor_id else event.actor_name,
                fields=_changed_fields(event.changes or {}),
                subject=tag_names.get(_tag_code(event.changes)),
            )
        )
    items.sort(key=lambda item: item.at, reverse=True)
    return items[:limit]


def scores(session: Session, principal: Principal, *, customer_id: int) -> list[ScoreOut]:
    """The behaviour figures of the latest scoring run, then the value and risk scores.

    Never invented: a figure has a value and its as-of date only once the scoring run has written
    it back; the models not built yet (RFM, lifetime value, churn, credit) say so.
    """
    principal.require(Permission.CUSTOMER_READ)
    readable_customer(session, scope_of(session, principal), customer_id)
    latest = scoring.latest_score(session, customer_id)
    if latest is None:
        computed = [ScoreOut(name=N_("RFM segment"), value=None, computed_on=None)]
    else:
        rfm = f"R{latest.rfm_r} F{latest.rfm_f} M{latest.rfm_m}"
        computed = [
            ScoreOut(name=N_("RFM segment"), value=rfm, computed_on=latest.as_of, segment=latest.rfm_segment),
            *_behaviour_figures(latest),
        ]
    return (
        computed
        + _lifetime_value(latest)
        + [
            ScoreOut(name=name, value=None, computed_on=None)
            for name in (N_("Churn propensity"), N_("Credit risk"))
        ]
    )


def _lifetime_value(score: CustomerScore | None) -> list[ScoreOut]:
    """The run's BG/NBD + Gamma-Gamma figures; not computed when the run could not fit the models
    (too few repeat customers) or the customer had no transaction by then."""
    if score is None or score.clv_expected_value is None:
        return [ScoreOut(name=N_("Lifetime value"), value=None, computed_on=None)]
    transactions = score.clv_expected_transactions
    alive = score.clv_probability_alive
    return [
        ScoreOut(
            name=N_("Lifetime value (next 12 months)"),
            value=format_money(score.clv_expected_value),
            computed_on=score.as_of,
        ),
        ScoreOut(
            name=N_("Expected transaction days (next 12 months)"),
            value="—" if transactions is None else f"{transactions:,.1f}",
            computed_on=score.as_of,
        ),
        ScoreOut(
            name=N_("Probability still active"),
            value="—" if alive is None else f"{alive:.0%}",
            computed_on=score.as_of,
        ),
    ]


def tier_history(session: Session, principal: Principal, *, customer_id: int) -> list[TierChangeOut]:
    """The customer's moves between value tiers by the scoring run, newest first."""
    principal.require(Permission.CUSTOMER_READ)
    readable_customer(session, scope_of(session, principal), customer_id)
    return [
        TierChangeOut(
            as_of=change.as_of,
            from_tier=change.from_tier,
            to_tier=change.to_tier,
            reason=change.reason,
            balance_month=change.balance_month,
            aum_mda=change.aum_mda,
        )
        for change in scoring.tier_changes(session, customer_id)
    ]


def _behaviour_figures(score: CustomerScore) -> list[ScoreOut]:
    def percent(value: float | None) -> str | None:
        return None if value is None else f"{value:+.0%}" if value else "0%"

    shown: list[tuple[str, str | None]] = [
        (N_("Monthly daily average AUM"), f"{score.aum_mda:,.2f}"),
        (N_("Quarterly daily average AUM"), f"{score.aum_qda:,.2f}"),
        (N_("AUM change over 3 months"), percent(score.aum_change_3m)),
        (N_("Days since last transaction"), None if score.recency_days is None else str(score.recency_days)),
        (N_("Transactions in the last 12 months"), str(score.frequency_12m)),
        (
            N_("Digital share of transactions (3 months)"),
            None if score.digital_share_3m is None else f"{score.digital_share_3m:.0%}",
        ),
        (N_("Product categories held"), str(score.product_breadth)),
    ]
    # Computed but empty (no transaction in the window, no balance three months ago): a dash.
    return [ScoreOut(name=name, value=value or "—", computed_on=score.as_of) for name, value in shown]
