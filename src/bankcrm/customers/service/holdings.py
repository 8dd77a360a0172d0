"""Accounts, holdings, products and source cross-references as delivered by the bank's core systems.

These verbs are used by loading jobs (integration, demo data), not by people: the CRM shows
accounts and positions but does not open them. Each call is audited with the job as the actor.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from bankcrm.audit import service as audit
from bankcrm.core.context import Actor
from bankcrm.core.errors import ValidationFailed
from bankcrm.core.i18n import N_
from bankcrm.customers import repository as repo
from bankcrm.customers.models import Account, Customer, Holding, Product, SourceXref
from bankcrm.customers.service.common import refresh_search_keys
from bankcrm.customers.service.errors import CustomerNotFound

# Total AUM tiers of DOMAIN.md (CNY); the segmentation module makes them configuration and versioned.
TIER_THRESHOLDS = (
    (Decimal("6000000"), "private"),
    (Decimal("500000"), "vip"),
    (Decimal("50000"), "affluent"),
)
ASSET_ACCOUNT_KINDS = frozenset({"current", "savings", "time_deposit"})


def ensure_product(
    session: Session,
    *,
    code: str,
    name: str,
    category: str,
    risk_level: str | None = None,
    currency: str = "CNY",
) -> Product:
    product = repo.find_product(session, code)
    if product is None:
        product = Product(code=code, name=name, category=category, risk_level=risk_level, currency=currency)
        repo.add(session, product)
        session.flush()
    return product


def _customer(session: Session, customer_id: int) -> Customer:
    customer = repo.get_customer(session, customer_id)
    if customer is None:
        raise CustomerNotFound(id=customer_id)
    return customer


def record_account(
    session: Session,
    actor: Actor,
    *,
    customer_id: int,
    account_no: str,
    product_code: str,
    kind: str,
    balance: Decimal,
    opened_on: date,
    org_unit_id: int,
    currency: str = "CNY",
    maturity_date: date | None = None,
    credit_limit: Decimal | None = None,
    overdue_days: int = 0,
    overdue_amount: Decimal = Decimal("0"),
    status: str = "active",
    refresh: bool = True,
) -> Account:
    customer = _customer(session, customer_id)
    product = repo.find_product(session, product_code)
    if product is None:
        raise ValidationFailed.single(
            "product_code", "product.exists", N_("Unknown product %(code)s."), product_code, code=product_code
        )
    if repo.find_account_by_no(session, account_no) is not None:
        raise ValidationFailed.single(
            "account_no", "account.unique", N_("The account number already exists."), None
        )
    account = Account(
        customer_id=customer.id,
        account_no=account_no,
        product_id=product.id,
        kind=kind,
        currency=currency,
        balance=balance,
        credit_limit=credit_limit,
        opened_on=opened_on,
        maturity_date=maturity_date,
        overdue_days=overdue_days,
        overdue_amount=overdue_amount,
        status=status,
        org_unit_id=org_unit_id,
    )
    repo.add(session, account)
    session.flush()
    audit.record_event(
        session,
        actor,
        action="account_recorded",
        entity_type="customer",
        entity_id=customer.id,
        details={"account_id": account.id, "kind": kind},
    )
    if refresh:
        refresh_customer_figures(session, customer)
    return account


def record_holding(
    session: Session,
    actor: Actor,
    *,
    customer_id: int,
    product_code: str,
    units: Decimal,
    cost: Decimal,
    market_value: Decimal,
    valued_on: date,
    acquired_on: date,
    maturity_date: date | None = None,
    refresh: bool = True,
) -> Holding:
    customer = _customer(session, customer_id)
    product = repo.find_product(session, product_code)
    if product is None:
        raise ValidationFailed.single(
            "product_code", "product.exists", N_("Unknown product %(code)s."), product_code, code=product_code
        )
    holding = Holding(
        customer_id=customer.id,
        product_id=product.id,
        units=units,
        cost=cost,
        market_value=market_value,
        valued_on=valued_on,
        acquired_on=acquired_on,
        maturity_date=maturity_date,
    )
    repo.add(session, holding)
    session.flush()
    audit.record_event(
        session,
        actor,
        action="holding_recorded",
        entity_type="customer",
        entity_id=customer.id,
        details={"holding_id": holding.id, "product": product_code},
    )
    if refresh:
        refresh_customer_figures(session, customer)
    return holding


def link_source_record(
    session: Session,
    actor: Actor,
    *,
    customer_id: int,
    source_system: str,
    source_customer_no: str,
    match_rule: str | None = None,
) -> SourceXref:
    customer = _customer(session, customer_id)
    existing = repo.find_xref(session, source_system, source_customer_no)
    if existing is not None and existing.customer_id != customer.id:
        raise ValidationFailed.single(
            "source_customer_no",
            "xref.unique",
            N_("%(system)s customer %(number)s already belongs to another customer."),
            source_customer_no,
            system=source_system,
            number=source_customer_no,
        )
    if existing is not None:
        return existing
    xref = SourceXref(
        customer_id=customer.id,
        source_system=source_system,
        source_customer_no=source_customer_no,
        match_rule=match_rule,
    )
    repo.add(session, xref)
    session.flush()
    audit.record_event(
        session,
        actor,
        action="xref_linked",
        entity_type="customer",
        entity_id=customer.id,
        details={"system": source_system, "number": source_customer_no, "rule": match_rule},
    )
    refresh_search_keys(session, customer)
    return xref


def refresh_customer_figures(session: Session, customer: Customer) -> None:
    """Current AUM from accounts and holdings, the tier it implies, and the search keys."""
    aum = Decimal("0")
    for account, _product in repo.accounts(session, customer.id):
        if account.kind in ASSET_ACCOUNT_KINDS and account.status != "closed":
            aum += account.balance
    for holding, _product in repo.holdings(session, customer.id):
        aum += holding.market_value
    customer.aum = aum
    customer.tier = next((tier for threshold, tier in TIER_THRESHOLDS if aum >= threshold), "mass")
    session.flush()
    refresh_search_keys(session, customer)
