"""What the nightly scoring run (segmentation) reads from and writes back to the operational store.

The run's side (profile, write-back, tier moves) serves jobs, not people: the whole bank at once,
no data scope. What people see goes through a scope: ``score_summary`` (the segments page) here,
a customer's own scores through the 360° view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pyarrow as pa
from sqlalchemy.orm import Session

from bankcrm.audit import service as audit
from bankcrm.core.context import Actor
from bankcrm.core.db import utcnow
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.customers import lake_repository
from bankcrm.customers import score_repository as repo
from bankcrm.customers.models import CustomerScore, CustomerTierChange
from bankcrm.customers.service.common import scope_of

PROFILE_SCHEMA = pa.schema(
    [
        ("customer_id", pa.int64()),
        ("birth_date", pa.date32()),
        ("first_opened_on", pa.date32()),
        ("product_count", pa.int64()),
        ("product_breadth", pa.int64()),
    ]
)
# The features kept in the operational store (the latest run's); the lake keeps every run.
SCORE_COLUMNS = (
    "customer_id",
    "aum_mda",
    "aum_qda",
    "recency_days",
    "frequency_12m",
    "monetary_12m",
    "product_breadth",
    "digital_share_3m",
    "aum_change_3m",
    "rfm_r",
    "rfm_f",
    "rfm_m",
    "rfm_segment",
)


def scoring_profile(session: Session) -> pa.Table:
    """Per active customer: birth date, first product opened, products held and how many kinds."""
    rows = repo.profile_rows(session)
    return pa.table(
        {
            field.name: pa.array([row[index] for row in rows], field.type)
            for index, field in enumerate(PROFILE_SCHEMA)
        }
    )


def record_scores(session: Session, scores: pa.Table, *, as_of: date, actor: Actor) -> int:
    """Make ``scores`` (one row per customer, ``SCORE_COLUMNS``) the latest; one audit row for the run."""
    now = utcnow()
    picked = scores.select(list(SCORE_COLUMNS)).to_pylist()
    rows: list[dict[str, Any]] = [{**row, "as_of": as_of, "updated_at": now} for row in picked]
    repo.replace_scores(session, rows)
    audit.record_event(
        session,
        actor,
        action="score_refresh",
        entity_type="customer_score",
        details={"as_of": as_of.isoformat(), "customers": len(rows)},
    )
    return len(rows)


# The lake datasets the feature pipeline reads, and their columns when a bank has none yet.
TRANSACTIONS = lake_repository.TRANSACTIONS
BALANCES = lake_repository.BALANCES


def empty_transactions() -> pa.Table:
    return lake_repository.TRANSACTION_SCHEMA.empty_table()


def empty_balances() -> pa.Table:
    return lake_repository.BALANCE_SCHEMA.append(pa.field("month", pa.string())).empty_table()


def latest_score(session: Session, customer_id: int) -> CustomerScore | None:
    """The latest run's scores of a customer (no scope: callers that show it check the customer)."""
    return repo.score_of(session, customer_id)


@dataclass(frozen=True)
class TierSummary:
    upgraded: int
    downgraded: int


def current_tiers(session: Session) -> pa.Table:
    rows = repo.current_tiers(session)
    return pa.table(
        {
            "customer_id": pa.array([row[0] for row in rows], pa.int64()),
            "tier": pa.array([row[1] for row in rows], pa.string()),
        }
    )


def apply_tier_changes(session: Session, changes: pa.Table, *, as_of: date, actor: Actor) -> TierSummary:
    """Move customers between tiers as the scoring run decided (``changes``: customer_id, from_tier,
    to_tier, reason, aum_mda, balance_month), keep each move with its input, and mark every active
    customer as tiered on ``as_of``; one audit row for the run."""
    rows = changes.to_pylist()
    repo.set_tiers(session, [(row["customer_id"], row["to_tier"]) for row in rows], as_of=as_of)
    repo.add_tier_changes(session, [{**row, "as_of": as_of} for row in rows])
    summary = TierSummary(
        upgraded=sum(row["reason"] == "upgrade" for row in rows),
        downgraded=sum(row["reason"] == "downgrade" for row in rows),
    )
    audit.record_event(
        session,
        actor,
        action="tier_refresh",
        entity_type="customer_score",
        details={"as_of": as_of.isoformat(), "upgraded": summary.upgraded, "downgraded": summary.downgraded},
    )
    return summary


def last_tier_change(session: Session, customer_id: int) -> CustomerTierChange | None:
    """The customer's latest move between tiers (no scope: callers that show it check the customer)."""
    return repo.last_tier_change(session, customer_id)


@dataclass(frozen=True)
class SegmentCount:
    segment: str
    customers: int
    aum_mda: Decimal


@dataclass(frozen=True)
class ScoreSummary:
    """The latest scoring run as the principal's scope sees it."""

    as_of: date | None
    segments: list[SegmentCount]
    tiers: dict[str, int]

    @property
    def customers(self) -> int:
        return sum(count.customers for count in self.segments)


def score_summary(session: Session, principal: Principal) -> ScoreSummary:
    """Customers by RFM segment and by tier, within the principal's data scope."""
    principal.require(Permission.CUSTOMER_READ)
    scope = scope_of(session, principal)
    segments = [
        SegmentCount(str(segment), int(count), Decimal(total or 0))
        for segment, count, total in repo.segment_counts(session, scope)
    ]
    segments.sort(key=lambda item: -item.customers)
    tiers = {str(tier): int(count) for tier, count in repo.tier_counts(session, scope)}
    return ScoreSummary(as_of=repo.latest_run_date(session), segments=segments, tiers=tiers)
