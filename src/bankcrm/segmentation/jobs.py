"""The scoring run (``bankcrm score``, and the scheduler's nightly job): features as of a date.

Reads the operational profile (customers' service) and the lake's transactions and balances,
computes ``features.customer_features`` on the lake's DuckDB through Ibis, stores the result in the
lake by as-of date (history kept, so models can be trained on the past and checked on the future)
and writes the key scores back to the operational store. Running it again for the same date
replaces that date's file and the written-back scores with the same result.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta

import ibis
import ibis.expr.types as ir
import pyarrow as pa
from ibis.backends import BaseBackend
from sqlalchemy.orm import Session

from bankcrm.core.config import get_settings
from bankcrm.core.context import Actor
from bankcrm.core.db import Database
from bankcrm.core.lake import Lake
from bankcrm.core.logging import get_logger
from bankcrm.customers.service import scoring as customer_scoring
from bankcrm.segmentation import service as segments
from bankcrm.segmentation.clv_scoring import clv_figures, with_clv
from bankcrm.segmentation.features import balance_month, customer_features, transaction_breakdown
from bankcrm.segmentation.rfm import with_rfm
from bankcrm.segmentation.tiers import tier_decisions

FEATURES = "features"
BREAKDOWN = "feature_breakdown"
log = get_logger(__name__)


@dataclass(frozen=True)
class ScoreRun:
    as_of: date
    customers: int
    seconds: float


def _lake_table(backend: BaseBackend, lake: Lake, dataset: str, empty: pa.Table) -> ir.Table:
    """A lake dataset as an Ibis table; a bank without one yet reads as having no rows."""
    if lake.has_dataset(dataset):
        return backend.table(dataset)
    return ibis.memtable(empty)


def _transactions(backend: BaseBackend, lake: Lake) -> ir.Table:
    return _lake_table(backend, lake, customer_scoring.TRANSACTIONS, customer_scoring.empty_transactions())


def compute_features(session: Session, lake: Lake, *, as_of: date) -> pa.Table:
    """The features of every active customer as of the end of business day ``as_of``, with their RFM
    scores and lifetime value (``clv_scoring``: fitted on the whole log up to that day)."""
    profile = customer_scoring.scoring_profile(session)
    backend = lake.ibis_backend()
    transactions = _transactions(backend, lake)
    balances = _lake_table(backend, lake, customer_scoring.BALANCES, customer_scoring.empty_balances())
    expression = with_rfm(customer_features(transactions, balances, ibis.memtable(profile), as_of=as_of))
    features = backend.to_pyarrow(expression.order_by("customer_id"))
    return with_clv(features, clv_figures(backend, transactions, as_of=as_of))


def store_breakdown(lake: Lake, *, as_of: date) -> int:
    """Counts and amounts per category and per channel over the windows, kept in the lake by date."""
    backend = lake.ibis_backend()
    transactions = _transactions(backend, lake)
    table = backend.to_pyarrow(
        transaction_breakdown(transactions, as_of=as_of).order_by(["customer_id", "dimension", "value"])
    )
    lake.write_file(BREAKDOWN, table, file_key="breakdown", partition={"as_of": as_of.isoformat()})
    return int(table.num_rows)


def store_features(session: Session, lake: Lake, features: pa.Table, *, as_of: date) -> int:
    """Keep the run in the lake under its date (replacing an earlier run of that date), make its key
    scores the latest in the operational store, and move customers between tiers by the history."""
    lake.write_file(FEATURES, features, file_key="features", partition={"as_of": as_of.isoformat()})
    actor = Actor.system("score")
    count = customer_scoring.record_scores(session, features, as_of=as_of, actor=actor)
    changes = decide_tiers(session, lake, as_of=as_of)
    customer_scoring.apply_tier_changes(session, changes, as_of=as_of, actor=actor)
    segments.store_attributes(session, lake, as_of=as_of)  # after the tier moves: rules read the new tiers
    segments.run_dynamic_segments(session, lake, as_of=as_of)
    return count


def decide_tiers(session: Session, lake: Lake, *, as_of: date) -> pa.Table:
    """The tier moves the kept feature runs call for (``tiers.tier_decisions``)."""
    settings = get_settings()
    backend = lake.ibis_backend()  # opened after this run's file was written: it is in the history
    history = backend.table(FEATURES).select("customer_id", "balance_month", "as_of", "aum_mda")
    decisions = tier_decisions(
        history,
        ibis.memtable(customer_scoring.current_tiers(session)),
        month=balance_month(as_of),
        grace_months=settings.tier_grace_months,
        thresholds=settings.tier_thresholds,
    )
    return backend.to_pyarrow(decisions.order_by("customer_id"))


def run_scoring(database: Database, lake: Lake, *, as_of: date) -> ScoreRun:
    """The whole run, in two transactions: the features are computed after a read of the profile,
    so no write lock is held while the lake is scanned."""
    started = time.monotonic()
    with database.transaction(write=False) as session:
        features = compute_features(session, lake, as_of=as_of)
    store_breakdown(lake, as_of=as_of)
    with database.transaction() as session:
        count = store_features(session, lake, features, as_of=as_of)
    run = ScoreRun(as_of=as_of, customers=count, seconds=time.monotonic() - started)
    log.info("segmentation.scored", as_of=as_of.isoformat(), customers=count, seconds=round(run.seconds, 1))
    return run


def score_if_due(database: Database, lake: Lake, *, today: date) -> ScoreRun | None:
    """The scheduler's nightly run: yesterday's features, unless that date has been scored already."""
    as_of = today - timedelta(days=1)
    if (lake.dataset_dir(FEATURES) / f"as_of={as_of.isoformat()}").is_dir():
        return None
    return run_scoring(database, lake, as_of=as_of)
