"""The nightly run as one call: every stage done, each stage's time reported."""

from __future__ import annotations

from datetime import date

import pyarrow.parquet as pq
from sqlalchemy.orm import Session

from bankcrm.core.db import Database
from bankcrm.core.lake import Lake
from bankcrm.customers.service import scoring
from bankcrm.segmentation.jobs import BREAKDOWN, FEATURES, run_scoring
from tests.segmentation.test_scoring_run import _history, _with_products

AS_OF = date(2026, 10, 31)


def test_the_run_does_every_stage_and_reports_the_time_of_each(
    database: Database, db: Session, lake: Lake, make_customer
) -> None:  # type: ignore[no-untyped-def]
    person = make_customer(name="钱七")
    _with_products(db, person.id)
    _history(lake, person.id)
    db.commit()

    run = run_scoring(database, lake, as_of=AS_OF)

    assert list(run.stages) == [
        "profile",
        "breakdown",
        "features",
        "write-back",
        "tiers",
        "models",
        "tags",
        "segments",
    ]
    assert all(seconds >= 0 for seconds in run.stages.values())
    assert run.customers >= 1
    partition = f"as_of={AS_OF.isoformat()}"
    assert person.id in pq.read_table(lake.dataset_dir(FEATURES) / partition)["customer_id"].to_pylist()
    assert person.id in pq.read_table(lake.dataset_dir(BREAKDOWN) / partition)["customer_id"].to_pylist()
    score = scoring.latest_score(db, person.id)
    assert score is not None
    assert score.as_of == AS_OF
