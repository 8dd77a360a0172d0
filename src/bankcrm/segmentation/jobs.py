"""The scoring run (``bankcrm score``, and the scheduler's nightly job): features as of a date.

Reads the operational profile (customers' service) and the lake's transactions and balances,
computes ``features.customer_features`` on the lake's DuckDB through Ibis, stores the result in the
lake by as-of date (history kept, so models can be trained on the past and checked on the future)
and writes the key scores back to the operational store. Running it again for the same date
replaces that date's file and the written-back scores with the same result.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
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
from bankcrm.segmentation import tag_rules
from bankcrm.segmentation.clv_scoring import clv_figures, with_clv
from bankcrm.segmentation.features import balance_month, customer_features, transaction_breakdown
from bankcrm.segmentation.rfm import with_rfm
from bankcrm.segmentation.studio import service as studio
from bankcrm.segmentation.tiers import tier_decisions

FEATURES = "features"
BREAKDOWN = "feature_breakdown"
log = get_logger(__name__)


@dataclass(frozen=True)
class ScoreRun:
    as_of: date
    customers: int
    seconds: float
    stages: dict[str, float] = field(default_factory=dict)  # seconds per stage, in run order


class _Stages:
    """Wall time of each stage of a run, logged and kept: at a million customers the run has a time
    budget, and which stage used it is the first question when it is missed."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.seconds[name] = time.monotonic() - started
            log.info("segmentation.stage", stage=name, seconds=round(self.seconds[name], 2))


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
    return features_of(customer_scoring.scoring_profile(session), lake, as_of=as_of)


def features_of(profile: pa.Table, lake: Lake, *, as_of: date) -> pa.Table:
    """``compute_features`` from a profile already read (``customers.service.scoring_profile``)."""
    backend = lake.ibis_backend()
    transactions = _transactions(backend, lake)
    balances = _lake_table(backend, lake, customer_scoring.BALANCES, customer_scoring.empty_balances())
    expression = with_rfm(customer_features(transactions, balances, ibis.memtable(profile), as_of=as_of))
    features = backend.to_pyarrow(expression.order_by("customer_id"))
    return with_clv(features, clv_figures(backend, transactions, as_of=as_of))


def store_breakdown(lake: Lake, *, as_of: date) -> int:
    """Counts and amounts per category and per channel over the windows, kept in the lake by date."""
    backend = lake.ibis_backend()
    order = ["customer_id", "dimension", "value"]
    partition = {"as_of": as_of.isoformat()}
    if not lake.has_dataset(customer_scoring.TRANSACTIONS):
        empty = backend.to_pyarrow(transaction_breakdown(_transactions(backend, lake), as_of=as_of))
        lake.write_file(BREAKDOWN, empty, file_key="breakdown", partition=partition)
        return 0
    # Written by DuckDB straight into the file: at a million customers the breakdown has about
    # thirteen million rows, which as one Arrow table here cost gigabytes of memory.
    breakdown = transaction_breakdown(backend.table(customer_scoring.TRANSACTIONS), as_of=as_of)
    return lake.write_query(
        BREAKDOWN, backend, breakdown, order_by=order, file_key="breakdown", partition=partition
    )


def store_features(session: Session, lake: Lake, features: pa.Table, *, as_of: date) -> int:
    """Keep the run in the lake under its date (replacing an earlier run of that date), make its key
    scores the latest in the operational store, and do the run's later stages on them."""
    count = write_back(session, lake, features, as_of=as_of)
    for _stage, step in after_write_back(session, lake, as_of=as_of):
        step()
    return count


def after_write_back(session: Session, lake: Lake, *, as_of: date) -> list[tuple[str, Callable[[], object]]]:
    """The stages that follow the write-back, in their order: tier moves (then the attributes taken
    with the run, so rules read the new tiers), the active models' scores, rule and model tags (model
    tags read this run's scores), then dynamic segments (their rules may name tags)."""
    return [
        ("tiers", lambda: move_tiers(session, lake, as_of=as_of, with_attributes=True)),
        ("models", lambda: studio.score_active_models(session, lake, as_of=as_of)),
        ("tags", lambda: tag_rules.recompute_tags(session, lake, as_of=as_of)),
        ("segments", lambda: segments.run_dynamic_segments(session, lake, as_of=as_of)),
    ]


def write_back(session: Session, lake: Lake, features: pa.Table, *, as_of: date) -> int:
    """The run's features into the lake by date, its key scores into the operational store."""
    lake.write_file(FEATURES, features, file_key="features", partition={"as_of": as_of.isoformat()})
    return customer_scoring.record_scores(session, features, as_of=as_of, actor=Actor.system("score"))


def move_tiers(session: Session, lake: Lake, *, as_of: date, with_attributes: bool = False) -> None:
    """Tier moves from the kept history, this run's file included (``write_back`` first); with
    ``with_attributes`` the attributes segment rules read are then taken with the run."""
    changes = decide_tiers(session, lake, as_of=as_of)
    customer_scoring.apply_tier_changes(session, changes, as_of=as_of, actor=Actor.system("score"))
    if with_attributes:
        segments.store_attributes(session, lake, as_of=as_of)


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
    so no write lock is held while the lake is scanned. Each stage's time is logged and returned."""
    started = time.monotonic()
    stages = _Stages()
    with database.transaction(write=False) as session, stages.stage("profile"):
        profile = customer_scoring.scoring_profile(session)
    # The breakdown first: it needs DuckDB's memory most, and the features table (a million rows
    # at bank scale) would otherwise be held in this process beside it.
    with stages.stage("breakdown"):
        store_breakdown(lake, as_of=as_of)
    with stages.stage("features"):
        features = features_of(profile, lake, as_of=as_of)
    del profile
    with database.transaction() as session:
        with stages.stage("write-back"):
            count = write_back(session, lake, features, as_of=as_of)
        del features
        for name, step in after_write_back(session, lake, as_of=as_of):
            with stages.stage(name):
                step()
    run = ScoreRun(as_of=as_of, customers=count, seconds=time.monotonic() - started, stages=stages.seconds)
    log.info("segmentation.scored", as_of=as_of.isoformat(), customers=count, seconds=round(run.seconds, 1))
    return run


def score_if_due(database: Database, lake: Lake, *, today: date) -> ScoreRun | None:
    """The scheduler's nightly run: yesterday's features, unless that date has been scored already."""
    as_of = today - timedelta(days=1)
    if (lake.dataset_dir(FEATURES) / f"as_of={as_of.isoformat()}").is_dir():
        return None
    return run_scoring(database, lake, as_of=as_of)
