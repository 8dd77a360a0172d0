"""SQL for scoring: the operational facts the feature pipeline needs, and the scores written back."""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, delete, func, or_, select, union_all, update
from sqlalchemy.orm import Session

from bankcrm.core.db import insert_many, read_rows, table_of
from bankcrm.customers.models import Account, Customer, CustomerScore, CustomerTierChange, Holding, Product
from bankcrm.customers.repository import Scope, readable_by

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


# Accounts that lend to the customer: their overdue days and amounts are the customer's credit status.
_CREDIT_KINDS = ("loan", "credit_card")


def _credit_status() -> Any:
    """(customer_id, open loans and cards, their largest overdue days, their overdue amount summed)."""
    return (
        select(
            Account.customer_id,
            func.count().label("credit_products"),
            func.max(Account.overdue_days).label("overdue_days_max"),
            func.sum(Account.overdue_amount).label("overdue_amount"),
        )
        .where(Account.kind.in_(_CREDIT_KINDS), Account.status.in_(_HELD_STATUSES))
        .group_by(Account.customer_id)
        .subquery("credit")
    )


def profile_rows(session: Session) -> Sequence[Any]:
    """Per active customer: id, birth date, first product opened, products held and their
    distinct categories, and the credit status of their open loans and cards."""
    held = _products_held()
    credit = _credit_status()
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
            func.coalesce(credit.c.credit_products, 0).label("credit_products"),
            func.coalesce(credit.c.overdue_days_max, 0).label("overdue_days_max"),
            func.coalesce(credit.c.overdue_amount, 0).label("overdue_amount"),
        )
        .outerjoin(per_customer, per_customer.c.customer_id == Customer.id)
        .outerjoin(credit, credit.c.customer_id == Customer.id)
        .where(Customer.status == "active")
        .order_by(Customer.id)
    )
    return read_rows(session, query)


def replace_scores(session: Session, chunks: Iterable[Sequence[Mapping[str, Any]]]) -> None:
    """The latest scores are one set: the run's rows, given in slices, replace the previous run's."""
    session.execute(delete(CustomerScore))
    for rows in chunks:
        insert_many(session, table_of(CustomerScore), rows)


def score_of(session: Session, customer_id: int) -> CustomerScore | None:
    return session.get(CustomerScore, customer_id)


def current_tiers(session: Session) -> Sequence[Any]:
    """(customer id, tier) of every active customer."""
    return read_rows(
        session, select(Customer.id.label("customer_id"), Customer.tier).where(Customer.status == "active")
    )


def set_tiers(session: Session, changes: Sequence[tuple[int, str]], *, as_of: date) -> None:
    """Give these customers their new tier, and mark every active customer as tiered on ``as_of``."""
    if changes:
        statement = update(Customer).where(Customer.id == bindparam("cid")).values(tier=bindparam("new_tier"))
        session.connection().execute(statement, [{"cid": cid, "new_tier": tier} for cid, tier in changes])
    session.execute(
        update(Customer).where(Customer.status == "active").values(tier_as_of=as_of),
        execution_options={"synchronize_session": False},
    )
    # Written around the ORM (an executemany); customers already loaded read their tier again.
    for loaded in list(session.identity_map.values()):
        if isinstance(loaded, Customer):
            session.expire(loaded, ["tier", "tier_as_of"])


def add_tier_changes(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    insert_many(session, table_of(CustomerTierChange), rows)


def last_tier_change(session: Session, customer_id: int) -> CustomerTierChange | None:
    stmt = (
        select(CustomerTierChange)
        .where(CustomerTierChange.customer_id == customer_id)
        .order_by(CustomerTierChange.as_of.desc(), CustomerTierChange.id.desc())
        .limit(1)
    )
    return session.execute(stmt).scalar_one_or_none()


def tier_changes(session: Session, customer_id: int, *, limit: int) -> Sequence[CustomerTierChange]:
    """The customer's moves between tiers, newest first."""
    stmt = (
        select(CustomerTierChange)
        .where(CustomerTierChange.customer_id == customer_id)
        .order_by(CustomerTierChange.as_of.desc(), CustomerTierChange.id.desc())
        .limit(limit)
    )
    return session.execute(stmt).scalars().all()


def segment_counts(session: Session, scope: Scope) -> Sequence[Any]:
    """(RFM segment, customers, their summed monthly daily average AUM) among readable customers."""
    stmt = (
        select(CustomerScore.rfm_segment, func.count(), func.sum(CustomerScore.aum_mda))
        .join(Customer, Customer.id == CustomerScore.customer_id)
        .where(readable_by(scope), Customer.status == "active")
        .group_by(CustomerScore.rfm_segment)
    )
    return session.execute(stmt).all()


def tier_counts(session: Session, scope: Scope) -> Sequence[Any]:
    """(tier, customers) among readable active customers."""
    stmt = (
        select(Customer.tier, func.count())
        .where(readable_by(scope), Customer.status == "active")
        .group_by(Customer.tier)
    )
    return session.execute(stmt).all()


def latest_run_date(session: Session) -> date | None:
    found: date | None = session.execute(select(func.max(CustomerScore.as_of))).scalar_one_or_none()
    return found


# The columns a scored-customer condition may name (``scoring.ScoreCondition``): the latest scores
# and the customer's tier, nothing personal.
_CONDITION_COLUMNS: dict[str, Any] = {
    "tier": Customer.tier,
    "aum_mda": CustomerScore.aum_mda,
    "aum_change_3m": CustomerScore.aum_change_3m,
    "recency_days": CustomerScore.recency_days,
    "frequency_12m": CustomerScore.frequency_12m,
    "rfm_segment": CustomerScore.rfm_segment,
}
_COMPARISONS: dict[str, Any] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
}


def _condition(field: str, op: str, value: Any) -> ColumnElement[bool]:
    column = _CONDITION_COLUMNS[field]
    if op == "in":
        return column.in_(list(value))  # type: ignore[no-any-return]
    return _COMPARISONS[op](column, value)  # type: ignore[no-any-return]


def _scored_in_scope(scope: Scope) -> Select[int, str, str, CustomerScore]:
    return (
        select(Customer.id, Customer.name, Customer.tier, CustomerScore)
        .join(CustomerScore, CustomerScore.customer_id == Customer.id)
        .where(readable_by(scope), Customer.status == "active")
    )


def scored_customers(
    session: Session,
    scope: Scope,
    *,
    any_of: Sequence[Sequence[tuple[str, str, Any]]],
    also_ids: Sequence[int],
    order_by: str,
    limit: int,
) -> Sequence[Any]:
    """(id, name, tier, CustomerScore) of readable active customers meeting every condition of
    one of ``any_of`` or listed in ``also_ids``; highest ``order_by`` first (id breaks ties)."""
    matches = [and_(*[_condition(*condition) for condition in clause]) for clause in any_of]
    if also_ids:
        matches.append(Customer.id.in_(list(also_ids)))
    if not matches:
        return []
    ordering = _CONDITION_COLUMNS[order_by]
    stmt = (
        _scored_in_scope(scope)
        .where(or_(*matches))
        .order_by(ordering.desc().nulls_last(), Customer.id)
        .limit(limit)
    )
    return session.execute(stmt).all()


def aum_at_rank(session: Session, scope: Scope, *, share: float) -> Decimal | None:
    """The monthly daily average AUM that the top ``share`` of readable scored customers reach
    (at least the single richest); None when the scope has no scored customer."""
    count_stmt = (
        select(func.count())
        .select_from(Customer)
        .join(CustomerScore, CustomerScore.customer_id == Customer.id)
        .where(readable_by(scope), Customer.status == "active")
    )
    customers = session.execute(count_stmt).scalar_one()
    if not customers:
        return None
    place = max(1, int(customers * share))
    stmt = (
        select(CustomerScore.aum_mda)
        .join(Customer, Customer.id == CustomerScore.customer_id)
        .where(readable_by(scope), Customer.status == "active")
        .order_by(CustomerScore.aum_mda.desc())
        .offset(place - 1)
        .limit(1)
    )
    found: Decimal | None = session.execute(stmt).scalar_one_or_none()
    return found
