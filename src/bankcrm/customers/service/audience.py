"""What segments (segmentation) read from the operational store.

The run's side (attributes, tag memberships) serves jobs and previews as plain tables of the whole
bank; what a person sees of a segment goes through their scope: ``readable_ids`` narrows a count
to the customers they may read, ``summaries_of`` shows members masked as every list does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pyarrow as pa
from sqlalchemy.orm import Session

from bankcrm.core.principal import DataScope, Principal
from bankcrm.customers import audience_repository as repo
from bankcrm.customers.schemas import CustomerSummary
from bankcrm.customers.service.common import scope_of
from bankcrm.customers.service.customers import summaries

ATTRIBUTE_SCHEMA = pa.schema(
    [
        ("customer_id", pa.int64()),
        ("kind", pa.string()),
        ("gender", pa.string()),
        ("tier", pa.string()),
        ("risk_level", pa.string()),
        ("income_band", pa.string()),
        ("branch", pa.string()),  # the org unit's id, as text: rules compare it with chosen units
    ]
)
TAG_MEMBER_SCHEMA = pa.schema([("customer_id", pa.int64()), ("tag", pa.string())])


def attributes(session: Session) -> pa.Table:
    """Per active customer, the attributes segment rules may name (``ATTRIBUTE_SCHEMA``)."""
    rows = repo.attribute_rows(session)
    arrays: list[list[Any]] = [[row[index] for row in rows] for index in range(len(ATTRIBUTE_SCHEMA))]
    arrays[-1] = [str(unit) for unit in arrays[-1]]
    return pa.table(
        {f.name: pa.array(values, f.type) for f, values in zip(ATTRIBUTE_SCHEMA, arrays, strict=True)}
    )


def tag_members(session: Session, codes: Iterable[str]) -> pa.Table:
    """(customer_id, tag) of active customers holding any of the tags ``codes``."""
    rows = repo.tag_member_rows(session, codes)
    return pa.table(
        {
            "customer_id": pa.array([row[0] for row in rows], pa.int64()),
            "tag": pa.array([row[1] for row in rows], pa.string()),
        }
    )


def readable_ids(session: Session, principal: Principal) -> list[int] | None:
    """The active customers the principal may read; None when that is every customer."""
    if principal.scope is DataScope.ALL:
        return None
    return repo.readable_active_ids(session, scope_of(session, principal))


def summaries_of(
    session: Session, principal: Principal, *, customer_ids: Iterable[int]
) -> list[CustomerSummary]:
    """List rows (masked for the viewer) of those of ``customer_ids`` the principal may read."""
    customers = repo.readable_customers(session, scope_of(session, principal), customer_ids)
    return summaries(session, principal, customers)
