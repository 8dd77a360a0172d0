"""Shared pieces of the customers services: scope resolution, lookups, masking for the viewer."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy.orm import Session

from bankcrm.core.config import get_settings
from bankcrm.core.db import read_memo
from bankcrm.core.formatting import business_today
from bankcrm.core.masking import mask_address, mask_email, mask_id_number, mask_mobile, mask_name
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.core.security import keyed_digest
from bankcrm.customers import repository as repo
from bankcrm.customers.keys import customer_keys, source_number_key
from bankcrm.customers.models import Customer, CustomerSearchKey
from bankcrm.customers.repository import Scope
from bankcrm.customers.service.errors import CustomerNotFound, StaleCustomerEdit
from bankcrm.identity.service import orgs

ENTITY = "customer"
RISK_ASSESSMENT_VALID_DAYS = 365
SENIOR_AGE = 65


def scope_of(session: Session, principal: Principal) -> Scope:
    return Scope(
        principal=principal, unit_ids=orgs.scope_unit_ids(session, principal), today=business_today()
    )


def readable_customer(session: Session, scope: Scope, customer_id: int) -> Customer:
    """The customer if the principal may see it; otherwise exactly as if it did not exist.

    The 360° document asks this once per part (sixteen times); the answer is kept until the
    transaction writes (``read_memo``), so only the first asks the database.
    """
    memo = read_memo(session, "customers.readable")
    key = (scope.principal.user_id, scope.principal.scope, scope.unit_ids, scope.today, customer_id)
    customer: Customer | None = memo.get(key)
    if customer is None:
        customer = repo.find_readable(session, scope, customer_id)
        if customer is None:
            raise CustomerNotFound(id=customer_id)
        memo[key] = customer
    return customer


def check_version(customer: Customer, submitted: int) -> None:
    if customer.version != submitted:
        raise StaleCustomerEdit(yours=submitted, current=customer.version)


def age_on(birth: date | None, today: date) -> int | None:
    if birth is None:
        return None
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def shown_name(principal: Principal, name: str) -> str:
    return name if principal.can(Permission.CUSTOMER_NAME_VIEW) else mask_name(name)


def masked_id(value: str) -> str:
    return mask_id_number(value)


def masked_mobile(value: str | None) -> str | None:
    return mask_mobile(value) if value else None


def masked_email(value: str | None) -> str | None:
    return mask_email(value) if value else None


def masked_address(value: str | None) -> str | None:
    return mask_address(value) if value else None


def id_digest(id_type: str, id_number: str) -> str:
    return keyed_digest(get_settings().secret_key, "customer-id", f"{id_type}:{id_number}")


def refresh_search_keys(session: Session, customer: Customer) -> None:
    """Rebuild the keys a customer is found by (after any change to names, numbers or accounts)."""
    keys = customer_keys(
        name=customer.name,
        name_en=customer.name_en,
        mobile=customer.mobile,
        id_digest=customer.id_digest,
        customer_no=customer.customer_no,
        source_numbers=[x.source_customer_no for x in repo.xrefs(session, customer.id)],
        account_numbers=[account.account_no for account, _product in repo.accounts(session, customer.id)],
    )
    repo.replace_keys(session, customer.id, keys)


def refresh_search_keys_of(session: Session, customers: Iterable[Customer]) -> None:
    """``refresh_search_keys`` for many customers in a few statements (loading jobs)."""
    by_id = {customer.id: customer for customer in customers}
    if not by_id:
        return
    session.flush()  # the keys are computed from the customers' rows as they now stand
    sources = repo.xref_numbers_of(session, by_id)
    accounts = repo.account_numbers_of(session, by_id)
    repo.replace_keys_of(
        session,
        {
            customer.id: customer_keys(
                name=customer.name,
                name_en=customer.name_en,
                mobile=customer.mobile,
                id_digest=customer.id_digest,
                customer_no=customer.customer_no,
                source_numbers=sources.get(customer.id, []),
                account_numbers=accounts.get(customer.id, []),
            )
            for customer in by_id.values()
        },
    )


def add_source_number_keys(session: Session, links: list[tuple[int, str]]) -> None:
    """The ``x:`` key of each (customer, source number) just linked, unless the customer has it
    already (the same number in another source system)."""
    keys = {(customer_id, source_number_key(number)) for customer_id, number in links}
    present = repo.source_number_keys_of(session, {customer_id for customer_id, _key in keys})
    repo.insert_rows(
        session,
        CustomerSearchKey,
        [{"key": key, "customer_id": customer_id} for customer_id, key in sorted(keys - present)],
    )
