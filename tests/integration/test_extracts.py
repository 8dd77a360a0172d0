"""The synthetic source extracts load end to end and match as the ground truth says."""

from __future__ import annotations

import csv
from collections import defaultdict
from itertools import combinations
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bankcrm.core.context import Actor
from bankcrm.core.lake import Lake
from bankcrm.demo.extracts import write_extracts
from bankcrm.integration.models import SourceRecord
from bankcrm.integration.service.ingest import ingest_file

JOB = Actor.system("test-extracts")


@pytest.mark.usefixtures("demo")
def test_extracts_load_and_deterministic_matching_agrees_with_the_truth(
    db: Session, lake: Lake, tmp_path: Path
) -> None:
    summary = write_extracts(tmp_path / "x", people=300, seed=11, transactions_per_customer=4)
    folder = summary.folder
    results = {
        source: ingest_file(db, JOB, source=source, path=next(folder.glob(pattern)))
        for source, pattern in (
            ("core", "core_customers_*.csv"),
            ("cards", "cards_customers_*.txt"),
            ("online", "online_users_*.csv"),
            ("core_txn", "core_txn_*.csv"),
        )
    }
    assert all(result.status == "loaded" for result in results.values())
    assert results["core"].created == 300
    assert results["cards"].created == 0  # everyone in the card system is a core customer too
    assert results["core_txn"].rejected == 0
    truth: dict[str, list[tuple[str, str]]] = defaultdict(list)
    with (folder / "ground_truth.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            truth[row["person"]].append((row["source"], row["source_customer_no"]))
    linked = {
        (r.source_code, r.source_customer_no): r.customer_id
        for r in db.execute(select(SourceRecord)).scalars()
    }
    true_pairs = {frozenset(pair) for records in truth.values() for pair in combinations(records, 2)}
    found_pairs = {frozenset((a, b)) for a, b in combinations(linked, 2) if linked[a] == linked[b]}
    precision = len(found_pairs & true_pairs) / max(len(found_pairs), 1)
    recall = len(found_pairs & true_pairs) / max(len(true_pairs), 1)
    assert precision == 1.0
    # Same-ID matching alone misses the passport registrations and the rejected mistyped IDs (about
    # one online record in twenty); probabilistic matching closes that gap (test_matching).
    assert 0.9 <= recall < 1.0, recall
