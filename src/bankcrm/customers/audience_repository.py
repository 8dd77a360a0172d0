"""SQL for segments (segmentation): the attributes their rules read, tag memberships, scoped ids."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bankcrm.core.db import read_column, read_rows
from bankcrm.customers.models import Customer, CustomerTag, Tag
from bankcrm.customers.repository import Scope, readable_by


def attribute_rows(session: Session) -> Sequence[Any]:
    """Per active customer: the attributes a segment rule may name."""
    query = (
        select(
            Customer.id.label("customer_id"),
            Customer.kind,
            Customer.gender,
            Customer.tier,
            Customer.risk_level,
            Customer.income_band,
            Customer.org_unit_id,
        )
        .where(Customer.status == "active")
        .order_by(Customer.id)
    )
    return read_rows(session, query)


def tag_member_rows(session: Session, codes: Iterable[str]) -> Sequence[Any]:
    """(customer id, tag code) of every active customer holding one of the tags ``codes``."""
    wanted = sorted(set(codes))
    if not wanted:
        return []
    query = (
        select(CustomerTag.customer_id, Tag.code)
        .join(Tag, Tag.id == CustomerTag.tag_id)
        .join(Customer, Customer.id == CustomerTag.customer_id)
        .where(Tag.code.in_(wanted), Customer.status == "active")
    )
    return session.execute(query).all()


def readable_active_ids(session: Session, scope: Scope) -> list[int]:
    """The ids, in no particular order (callers test membership): a branch reads hundreds of
    thousands on each segment preview, so the driver's cursor fetches them (``read_column``)."""
    return read_column(session, select(Customer.id).where(readable_by(scope), Customer.status == "active"))


def readable_customers(session: Session, scope: Scope, ids: Iterable[int]) -> list[Customer]:
    wanted = sorted(set(ids))
    if not wanted:
        return []
    query = select(Customer).where(Customer.id.in_(wanted), readable_by(scope)).order_by(Customer.id)
    return list(session.execute(query).scalars())
