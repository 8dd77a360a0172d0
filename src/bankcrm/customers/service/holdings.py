"""Accounts, holdings, products and source cross-references as delivered by the bank's core systems.

These verbs are used by loading jobs (integration, demo data), not by people: the CRM shows
accounts and positions but does not open them. Each call is audited with the job as the actor.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from bankcrm.audit import service as audit
from bankcrm.core.config import get_settings
from bankcrm.core.context import Actor
from bankcrm.core.db import utcnow
from bankcrm.core.errors import ValidationFailed
from bankcrm.core.formatting import business_today
from bankcrm.core.i18n import N_
from bankcrm.core.validation import luhn_check_digit
from bankcrm.customers import repository as repo
from bankcrm.customers.keys import source_number_key
from bankcrm.customers.models import Account, Customer, CustomerSearchKey, Holding, Product, SourceXref
from bankcrm.customers.service.common import add_source_number_keys, refresh_search_keys
from bankcrm.customers.service.errors import CustomerNotFound

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


def link_new_customers(
    session: Session,
    actor: Actor,
    *,
    source_system: str,
    links: list[tuple[int, str]],
    match_rule: str,
    batch_label: str,
) -> None:
    """Cross-references for customers a loading job has just created from one source's records.

    The same rows as ``link_source_record`` for each (customer id, source number) — the xref and the
    customer's ``x:`` search key, the only key a new customer lacks — in one statement per table and
    one audit row for the batch, as the bulk loader records the customers themselves.
    """
    if not links:
        return
    taken = repo.xref_owners(session, source_system, [number for _customer, number in links])
    for customer_id, number in links:
        if taken.get(number, customer_id) != customer_id:
            raise ValidationFailed.single(
                "source_customer_no",
                "xref.unique",
                N_("%(system)s customer %(number)s already belongs to another customer."),
                number,
                system=source_system,
                number=number,
            )
    fresh = [(customer_id, number) for customer_id, number in links if number not in taken]
    _insert_xrefs(session, source_system, match_rule, fresh)
    keys = {(source_number_key(number), customer_id) for customer_id, number in fresh}
    repo.insert_rows(
        session,
        CustomerSearchKey,
        [{"key": key, "customer_id": customer_id} for key, customer_id in sorted(keys)],
    )
    audit.record_event(
        session,
        actor,
        action="xref_linked",
        entity_type="customer",
        details={"system": source_system, "batch": batch_label, "linked": len(fresh), "rule": match_rule},
    )


def link_existing_customers(
    session: Session,
    actor: Actor,
    *,
    source_system: str,
    links: list[tuple[int, str]],
    match_rule: str,
) -> None:
    """``link_source_record`` for many (customer id, source number) pairs of existing customers.

    The same rows and audit content as one call per pair - the xref, an ``xref_linked`` row naming
    the customer, the customer's ``x:`` search key - in a few statements: a pair already linked to
    its customer is left alone, one linked to another customer is refused. The other search keys
    are not rebuilt: a new cross-reference adds only its own key, and rebuilding every key (name
    readings through pypinyin) was the largest part of linking a delivery.
    """
    if not links:
        return
    found = repo.existing_customer_ids(session, {customer_id for customer_id, _number in links})
    taken = repo.xref_owners(session, source_system, [number for _customer, number in links])
    fresh: list[tuple[int, str]] = []
    for customer_id, number in links:
        if customer_id not in found:
            raise CustomerNotFound(id=customer_id)
        if taken.get(number, customer_id) != customer_id:
            raise ValidationFailed.single(
                "source_customer_no",
                "xref.unique",
                N_("%(system)s customer %(number)s already belongs to another customer."),
                number,
                system=source_system,
                number=number,
            )
        if number not in taken:
            taken[number] = customer_id
            fresh.append((customer_id, number))
    _insert_xrefs(session, source_system, match_rule, fresh)
    add_source_number_keys(session, fresh)
    audit.record_many(
        session,
        actor,
        [
            audit.event_entry(
                action="xref_linked",
                entity_type="customer",
                entity_id=customer_id,
                details={"system": source_system, "number": number, "rule": match_rule},
            )
            for customer_id, number in fresh
        ],
    )


def refresh_customer_figures(session: Session, customer: Customer) -> None:
    """Current AUM from accounts and holdings, the tier it implies until the scoring run sets it, and
    the search keys."""
    aum = Decimal("0")
    for account, _product in repo.accounts(session, customer.id):
        if account.kind in ASSET_ACCOUNT_KINDS and account.status != "closed":
            aum += account.balance
    for holding, _product in repo.holdings(session, customer.id):
        aum += holding.market_value
    customer.aum = aum
    if customer.tier_as_of is None:
        # Once the scoring run has tiered a customer (by monthly daily average, with a grace period
        # before a downgrade), a day's balance no longer moves the tier.
        customer.tier = tier_for(aum)
    session.flush()
    refresh_search_keys(session, customer)


def refresh_figures_of(session: Session, customer_ids: Iterable[int]) -> None:
    """``refresh_customer_figures`` for each of these customers that exists, in id order."""
    for customer_id in sorted(set(customer_ids)):
        customer = repo.get_customer(session, customer_id)
        if customer is not None:
            refresh_customer_figures(session, customer)


def tier_for(aum: Decimal) -> str:
    """The tier an AUM reaches under the configured thresholds (a customer's first tier, until the
    scoring run tiers it by monthly daily average)."""
    return next((tier for threshold, tier in get_settings().tier_thresholds if aum >= threshold), "mass")


@dataclass(frozen=True)
class AssetSplit:
    """How a generated customer's wealth is held: savings, and above 50,000 also a time deposit and
    an investment product. The loader stores the AUM with the customer, so no update follows."""

    savings: Decimal
    fixed: Decimal
    invested: Decimal

    @property
    def aum(self) -> Decimal:
        return self.savings + self.fixed + self.invested


def split_wealth(wealth: float) -> AssetSplit:
    total = Decimal(f"{wealth:.2f}")
    savings = (total * Decimal("0.35")).quantize(Decimal("0.01"))
    if wealth <= 50000:
        return AssetSplit(savings=savings, fixed=Decimal(0), invested=Decimal(0))
    fixed = (total * Decimal("0.25")).quantize(Decimal("0.01"))
    invested = (total * Decimal("0.40")).quantize(Decimal("0.01"))
    return AssetSplit(savings=savings, fixed=fixed, invested=invested)


@dataclass(frozen=True)
class NewCustomer:
    """A customer just loaded by the synthetic bank, with what its products depend on."""

    id: int
    kind: str
    org_unit_id: int
    wealth: float


def bulk_record_products(
    session: Session,
    *,
    customers: Sequence[NewCustomer],
    rng: random.Random,
    opened_before: date | None = None,
) -> int:
    """Accounts and holdings for freshly loaded customers, sized by their wealth (``split_wealth``).

    Used by the synthetic bank, which loaded the customers with the AUM and tier these products give;
    account numbers are unique by construction (customer id + serial).
    """
    today = opened_before or business_today()
    products = {p.code: p.id for p in repo.products(session)}
    accounts: list[dict[str, object]] = []
    positions: list[dict[str, object]] = []
    for customer in customers:
        customer_id = customer.id
        unit = customer.org_unit_id
        split = split_wealth(customer.wealth)
        accounts.append(
            _account_row(
                customer_id,
                1,
                "622202",
                products["DEP-CUR"],
                "savings",
                split.savings,
                unit,
                today - timedelta(days=rng.randrange(200, 4000)),
            )
        )
        if customer.wealth > 50000:
            accounts.append(
                _account_row(
                    customer_id,
                    2,
                    "621700",
                    products[rng.choice(("TD-1Y", "TD-3Y"))],
                    "time_deposit",
                    split.fixed,
                    unit,
                    today - timedelta(days=rng.randrange(30, 700)),
                    maturity=today + timedelta(days=rng.randrange(5, 700)),
                )
            )
            code = rng.choice(("WM-R1", "WM-R2", "WM-R3", "FUND-BOND", "FUND-IDX", "FUND-TECH", "INS-ANN"))
            positions.append(
                {
                    "customer_id": customer_id,
                    "product_id": products[code],
                    "units": split.invested,
                    "cost": split.invested,
                    "market_value": split.invested,
                    "valued_on": today,
                    "acquired_on": today - timedelta(days=rng.randrange(30, 600)),
                    "maturity_date": today + timedelta(days=rng.randrange(10, 500)),
                }
            )
        if rng.random() < 0.3:
            accounts.append(
                _account_row(
                    customer_id,
                    3,
                    "625800",
                    products["CARD-GOLD"],
                    "credit_card",
                    -Decimal(rng.randrange(0, 30000)),
                    unit,
                    today - timedelta(days=900),
                    limit=Decimal(50000),
                )
            )
        if rng.random() < 0.12:
            overdue = rng.choice((0, 0, 0, 0, 20, 45, 100, 200))
            accounts.append(
                _account_row(
                    customer_id,
                    4,
                    "955880",
                    products["LOAN-HOUSE" if customer.kind == "individual" else "LOAN-OPER"],
                    "loan",
                    -Decimal(rng.randrange(100, 3000) * 1000),
                    unit,
                    today - timedelta(days=rng.randrange(200, 3000)),
                    overdue=overdue,
                )
            )
    repo.insert_rows(session, Account, accounts)
    repo.insert_rows(session, Holding, positions)
    keys = [{"key": f"a:{row['account_no']}", "customer_id": row["customer_id"]} for row in accounts]
    repo.insert_rows(session, CustomerSearchKey, keys)
    return len(accounts)


def _account_row(
    customer_id: int,
    serial: int,
    prefix: str,
    product_id: int,
    kind: str,
    balance: Decimal,
    unit: int,
    opened: date,
    *,
    maturity: date | None = None,
    limit: Decimal | None = None,
    overdue: int = 0,
) -> dict[str, object]:
    body = f"{prefix}{customer_id:010d}{serial:02d}"
    return {
        "customer_id": customer_id,
        "account_no": body + luhn_check_digit(body),
        "product_id": product_id,
        "kind": kind,
        "currency": "CNY",
        "balance": balance,
        "credit_limit": limit,
        "opened_on": opened,
        "maturity_date": maturity,
        "overdue_days": overdue,
        "overdue_amount": Decimal(overdue * 100),
        "status": "active",
        "org_unit_id": unit,
    }


def _insert_xrefs(
    session: Session, source_system: str, match_rule: str, links: list[tuple[int, str]]
) -> None:
    """One insert of the cross-references (customer id, source customer number) of one source."""
    now = utcnow()
    repo.insert_rows(
        session,
        SourceXref,
        [
            {
                "customer_id": customer_id,
                "source_system": source_system,
                "source_customer_no": number,
                "linked_at": now,
                "match_rule": match_rule,
            }
            for customer_id, number in links
        ],
    )
