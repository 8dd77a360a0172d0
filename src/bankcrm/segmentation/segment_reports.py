"""What a segment is made of, seen by one viewer: its profile (tiers, ages, branches, product
types, channels), a comparison of two segments with their overlap, and the CSV export of its members
— all within the viewer's data scope (``service`` gives the scoped members)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
from ibis.backends import BaseBackend
from sqlalchemy.orm import Session

from bankcrm.audit import service as audit
from bankcrm.core.lake import Lake
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.customers.service import audience
from bankcrm.customers.service import customers as customer_service
from bankcrm.identity.service import orgs
from bankcrm.segmentation import repository as repo
from bankcrm.segmentation.features import BALANCE_CATEGORIES
from bankcrm.segmentation.service import (
    ATTRIBUTES,
    BREAKDOWN,
    ENTITY,
    EXPORT_LIMIT,
    FEATURES,
    SegmentItem,
    count_of,
    get_segment,
    member_ids,
    readable_members,
    run_table,
    segment_base,
    segment_row,
)
from bankcrm.segmentation.tiers import TIERS

AGE_BANDS = ((0, 30, "<30"), (30, 40, "30-39"), (40, 50, "40-49"), (50, 60, "50-59"), (60, 200, "60+"))


@dataclass(frozen=True)
class Profile:
    as_of: date | None
    members: int
    aum_total: Decimal
    aum_average: Decimal
    tiers: list[tuple[str, int]]
    ages: list[tuple[str, int]]
    branches: list[tuple[str, int]]
    products: list[tuple[str, int]]  # customers holding a balance in each product type
    channels: list[tuple[str, int]]  # transactions over the last 3 months by channel


def _counts(backend: BaseBackend, table: ir.Table, column: str) -> dict[str, int]:
    grouped = backend.to_pyarrow(table.group_by(column).aggregate(n=table.count()))
    return {
        str(k): int(n)
        for k, n in zip(grouped.column(column).to_pylist(), grouped.column("n").to_pylist(), strict=True)
    }


def profile_of_ids(session: Session, lake: Lake, ids: np.ndarray, *, as_of: date | None) -> Profile:
    """The make-up of a set of customers in the run of ``as_of`` (callers pass only readable ids)."""
    if as_of is None or len(ids) == 0:
        return Profile(as_of, 0, Decimal(0), Decimal(0), [(t, 0) for t in reversed(TIERS)], [], [], [], [])
    # Only what a profile reads: binding the transactions too would cost seconds at a million.
    backend = lake.interactive_backend(only={FEATURES, ATTRIBUTES, BREAKDOWN})
    chosen = ibis.memtable(pa.table({"customer_id": pa.array(ids, pa.int64())}))
    base = segment_base(backend, lake, as_of=as_of)
    rows = base.filter(base.customer_id.isin(chosen.customer_id))
    age = rows.age_years
    band = ibis.cases(
        *((age.between(low, high - 1), label) for low, high, label in AGE_BANDS), else_="unknown"
    )
    rows = rows.mutate(age_band=band)
    totals = backend.to_pyarrow(rows.aggregate(n=rows.count(), aum=rows.aum_mda.sum()))
    members_count = int(totals.column("n")[0].as_py())
    aum_total = totals.column("aum")[0].as_py() or Decimal(0)
    tiers = _counts(backend, rows, "tier")
    ages = _counts(backend, rows, "age_band")
    branches = _counts(backend, rows, "branch")
    names = orgs.unit_names(session, {int(b) for b in branches if b.isdigit()})
    products = [
        (category, count_of(backend, rows.filter(rows[f"balance_{category}"] > 0).count()))
        for category in BALANCE_CATEGORIES
    ]
    return Profile(
        as_of=as_of,
        members=members_count,
        aum_total=Decimal(aum_total),
        aum_average=(Decimal(aum_total) / members_count).quantize(Decimal("0.01"))
        if members_count
        else Decimal(0),
        tiers=[(t, tiers.get(t, 0)) for t in reversed(TIERS)],
        ages=[(label, ages.get(label, 0)) for *_bounds, label in AGE_BANDS]
        + ([("unknown", ages["unknown"])] if ages.get("unknown") else []),
        branches=sorted(
            ((names.get(int(b), b) if b.isdigit() else b, n) for b, n in branches.items()),
            key=lambda p: -p[1],
        ),
        products=products,
        channels=_channel_counts(backend, lake, chosen, as_of),
    )


def _channel_counts(backend: BaseBackend, lake: Lake, chosen: ir.Table, as_of: date) -> list[tuple[str, int]]:
    if not lake.has_dataset(BREAKDOWN):
        return []
    rows = run_table(backend, lake, BREAKDOWN, as_of)
    rows = rows.filter(rows.dimension == "channel", rows.customer_id.isin(chosen.customer_id))
    grouped = backend.to_pyarrow(rows.group_by("value").aggregate(n=rows.count_3m.sum()))
    pairs = [
        (str(v), int(n or 0))
        for v, n in zip(grouped.column("value").to_pylist(), grouped.column("n").to_pylist(), strict=True)
    ]
    return sorted(pairs, key=lambda p: -p[1])


def segment_profile(session: Session, principal: Principal, lake: Lake, *, segment_id: int) -> Profile:
    principal.require(Permission.CUSTOMER_READ)
    run = repo.latest_run(session, segment_row(session, segment_id).id)
    if run is None:
        return profile_of_ids(session, lake, np.empty(0, np.int64), as_of=None)
    ids = readable_members(session, principal, lake, segment_id, run.as_of)
    return profile_of_ids(session, lake, ids, as_of=run.as_of)


@dataclass(frozen=True)
class Comparison:
    first: SegmentItem
    second: SegmentItem
    first_profile: Profile
    second_profile: Profile
    overlap: int  # readable customers in both


def compare_segments(
    session: Session, principal: Principal, lake: Lake, *, first_id: int, second_id: int
) -> Comparison:
    principal.require(Permission.CUSTOMER_READ)
    first, second = (
        get_segment(session, principal, lake, segment_id=first_id),
        get_segment(session, principal, lake, segment_id=second_id),
    )
    ids = [
        readable_members(session, principal, lake, s.id, s.as_of) if s.as_of else np.empty(0, np.int64)
        for s in (first, second)
    ]
    return Comparison(
        first=first,
        second=second,
        first_profile=segment_profile(session, principal, lake, segment_id=first_id),
        second_profile=segment_profile(session, principal, lake, segment_id=second_id),
        overlap=len(np.intersect1d(ids[0], ids[1])),
    )


def export_members(session: Session, principal: Principal, lake: Lake, *, segment_id: int) -> Iterator[str]:
    """The segment's readable members as CSV: permissioned, audited, masked, marked with who exported it."""
    principal.require(Permission.CUSTOMER_EXPORT)
    segment = get_segment(session, principal, lake, segment_id=segment_id)
    ids = member_ids(session, principal, lake, segment_id=segment_id)[:EXPORT_LIMIT]
    items = audience.summaries_of(session, principal, customer_ids=ids)
    audit.record_event(
        session,
        principal.actor,
        action="export",
        entity_type=ENTITY,
        entity_id=segment.id,
        details={"as_of": segment.as_of.isoformat() if segment.as_of else None, "rows": len(items)},
    )

    about = f"segment {segment.name} as of {segment.as_of}"
    return customer_service.summaries_csv(principal, items, about=about)
