"""SQL for scoring: the operational facts the feature pipeline needs, and the scores written back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, func, select, union_all
from sqlalchemy.orm import Session

from bankcrm.core.db import insert_many, read_rows, table_of
from bankcrm.customers.models import Account, Customer, CustomerScore, Holding, Product

# Accounts that no longer hold anything are not products held.
_HELD_STATUSES = ("active", "dormant", "frozen")


def _products_held() -> Any:
    """(customer_id, product category, opened_on) of every open account and every position."""
    accounts = (
        select(Account.customer_id, Product.category, Account.opened_on.label("opened_on"))
        .join(Product, Product.id == Account.product_id)
        .where(Account.status.in_(_HELD_STATUSES))
    )
    positions = select(Holding.customer_id, Product.category, Holding.acquired_on.label("opened_on")).join(
        Product, Product.id == Holding.product_id
    )
    return union_all(accounts, positions).subquery("held")


def profile_rows(session: Session) -> Sequence[Any]:
    """Per active customer: id, birth date, first product opened, products held and their
    distinct categories."""
    held = _products_held()
    per_customer = (
        select(
            held.c.customer_id,
            func.min(held.c.opened_on).label("first_opened_on"),
            func.count().label("product_count"),
            func.count(held.c.category.distinct()).label("product_breadth"),
        )
        .group_by(held.c.customer_id)
        .subquery("per_customer")
    )
    query = (
        select(
            Customer.id.label("customer_id"),
            Customer.birth_date,
            per_customer.c.first_opened_on,
            func.coalesce(per_customer.c.product_count, 0).label("product_count"),
            func.coalesce(per_customer.c.product_breadth, 0).label("product_breadth"),
        )
        .outerjoin(per_customer, per_customer.c.customer_id == Customer.id)
        .where(Customer.status == "active")
        .order_by(Customer.id)
    )
    return read_rows(session, query)


def replace_scores(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """The latest scores are one set: the run's rows replace the previous run's."""
    session.execute(delete(CustomerScore))
    insert_many(session, table_of(CustomerScore), rows)


def score_of(session: Session, customer_id: int) -> CustomerScore | None:
    return session.get(CustomerScore, customer_id)
