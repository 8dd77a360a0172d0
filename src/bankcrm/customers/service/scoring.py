"""What the nightly scoring run (segmentation) reads from and writes back to the operational store.

The run's side (profile, write-back, tier moves) serves jobs, not people: the whole bank at once,
no data scope. What people see goes through a scope: ``score_summary`` (the segments page) here,
a customer's own scores through the 360° view, and ``scored_customers`` (the lists for relationship
managers).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

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
from bankcrm.customers.service.common import scope_of, shown_name

PROFILE_SCHEMA = pa.schema(
    [
        ("customer_id", pa.int64()),
        ("birth_date", pa.date32()),
        ("first_opened_on", pa.date32()),
        ("product_count", pa.int64()),
        ("product_breadth", pa.int64()),
        ("credit_products", pa.int64()),
        ("overdue_days_max", pa.int64()),
        ("overdue_amount", pa.decimal128(20, 2)),
    ]
)
WRITE_BACK_ROWS = 50_000  # scores turned into rows and inserted at a time
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
    "clv_expected_transactions",
    "clv_probability_alive",
    "clv_expected_value",
)


def scoring_profile(session: Session) -> pa.Table:
    """Per active customer: birth date, first product opened, products held and how many kinds, and
    the credit status of their open loans and cards (how many, largest overdue days, amount overdue)."""
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
    # In slices: a million customers' rows as Python dicts at once held gigabytes.
    chunks = (
        [{**row, "as_of": as_of, "updated_at": now} for row in batch.to_pylist()]
        for batch in scores.select(list(SCORE_COLUMNS)).to_batches(max_chunksize=WRITE_BACK_ROWS)
    )
    repo.replace_scores(session, chunks)
    audit.record_event(
        session,
        actor,
        action="score_refresh",
        entity_type="customer_score",
        details={"as_of": as_of.isoformat(), "customers": scores.num_rows},
    )
    return int(scores.num_rows)


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


def tier_changes(session: Session, customer_id: int, *, limit: int = 50) -> list[CustomerTierChange]:
    """The customer's moves between tiers, newest first (no scope: callers that show them check the
    customer)."""
    return list(repo.tier_changes(session, customer_id, limit=limit))


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


ScoreField = Literal["tier", "aum_mda", "aum_change_3m", "recency_days", "frequency_12m", "rfm_segment"]
Comparison = Literal[">=", ">", "<=", "<", "==", "in"]


@dataclass(frozen=True)
class ScoreCondition:
    """One comparison of a latest score (or the tier) with a value; ``in`` takes a tuple. A customer
    without the score (e.g. no AUM three months ago) does not meet it."""

    field: ScoreField
    op: Comparison
    value: Decimal | float | int | str | tuple[str, ...]


@dataclass(frozen=True)
class ScoredCustomer:
    """A readable customer with the latest run's scores; ``name`` masked as the viewer must see it."""

    customer_id: int
    name: str
    tier: str
    as_of: date
    aum_mda: Decimal
    aum_qda: Decimal
    aum_change_3m: float | None
    recency_days: int | None
    frequency_12m: int
    rfm_r: int
    rfm_f: int
    rfm_m: int
    rfm_segment: str


def scored_customers(
    session: Session,
    principal: Principal,
    *,
    any_of: Sequence[Sequence[ScoreCondition]],
    also_ids: Collection[int] = (),
    order_by: ScoreField = "aum_mda",
    limit: int = 10,
) -> list[ScoredCustomer]:
    """Scored active customers within the principal's data scope that meet all conditions of any one
    of ``any_of`` (or are among ``also_ids``), highest ``order_by`` first, at most ``limit``."""
    principal.require(Permission.CUSTOMER_READ)
    rows = repo.scored_customers(
        session,
        scope_of(session, principal),
        any_of=[[(c.field, c.op, c.value) for c in clause] for clause in any_of],
        also_ids=sorted(also_ids),
        order_by=order_by,
        limit=limit,
    )
    return [
        ScoredCustomer(
            customer_id=customer_id,
            name=shown_name(principal, name),
            tier=tier,
            as_of=score.as_of,
            aum_mda=score.aum_mda,
            aum_qda=score.aum_qda,
            aum_change_3m=score.aum_change_3m,
            recency_days=score.recency_days,
            frequency_12m=score.frequency_12m,
            rfm_r=score.rfm_r,
            rfm_f=score.rfm_f,
            rfm_m=score.rfm_m,
            rfm_segment=score.rfm_segment,
        )
        for customer_id, name, tier, score in rows
    ]


def top_aum_cutoff(session: Session, principal: Principal, *, share: float) -> Decimal | None:
    """The monthly daily average AUM the top ``share`` of the principal's scored customers reach (at
    least the richest one); None when none in scope is scored yet."""
    principal.require(Permission.CUSTOMER_READ)
    return repo.aum_at_rank(session, scope_of(session, principal), share=share)


def latest_scoring_date(session: Session) -> date | None:
    """The as-of date of the latest scoring run (None before the first)."""
    return repo.latest_run_date(session)
