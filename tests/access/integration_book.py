"""What the data-integration routes of the matrix act on, made through the integration services.

* ``batch:core`` - a delivery of the core banking system loaded by the administrator (``runs.run_file``,
  as the *Load* button does): ten customers, plus one record refused for its resident ID number,
  so the batch has a reject report and the ``id_number`` field has a failing record;
* ``candidate:pending`` - a pair of those customers waiting in the match review queue;
* ``candidate:decided`` - a pair the administrator has already rejected (a decided pair cannot be
  decided again);
* an ``Idempotency-Key`` (``USED_KEY``) the administrator has already used to send records of the
  core source; keys are remembered per caller, so to anybody else it is a new key.

The new customers have no branch in the delivery, so they land in head office (the source's default
unit) and no RM's portfolio: no row of the customers tables reaches them.

Candidates come from the matching job (``matching.run_matching``): it opens a run, queues every
scored pair between the review and the auto-merge thresholds, and audits the run. Only its scoring
step (Splink's training and prediction, seconds of DuckDB work and a probability that depends on the
whole delivery) is replaced by fixed scores for the two pairs, so the queue is the same on every run.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from unittest import mock

from sqlalchemy.orm import Session

from bankcrm.core.context import Actor
from bankcrm.core.pagination import PageRequest
from bankcrm.core.principal import Principal
from bankcrm.integration import repository as repo
from bankcrm.integration.schemas import RecordsIn
from bankcrm.integration.service import matching, runs
from tests.integration.files import core_row, resident_id, write_core

SOURCE = "core"
FILE_NAME = "core_customers_20261128.csv"
USED_KEY = "matrix-used-key"
FRESH_KEY = "matrix-fresh-key"
REVIEW_PROBABILITY = 0.9  # between the review (0.80) and the auto-merge (0.99) thresholds
REASON = "access matrix set-up"


def _person(number: int, name: str, birth: date, serial: int, mobile: str) -> dict[str, str]:
    return core_row(f"MX{number:04d}", name, resident_id(birth, serial), mobile, BRANCH="")


# Two pairs that look like one person each (same name and birth date, an ID number that differs),
# and six people nobody confuses; the last record breaks the resident ID check character.
DELIVERY = [
    _person(1, "孙立新", date(1971, 4, 2), 101, "13811110001"),
    _person(2, "孙立新", date(1971, 4, 2), 103, "13811110001"),
    _person(3, "周文静", date(1983, 6, 9), 105, "13811110003"),
    _person(4, "周文静", date(1983, 6, 9), 107, "13811110003"),
    _person(5, "吴志强", date(1966, 1, 15), 109, "13811110005"),
    _person(6, "郑晓燕", date(1990, 12, 1), 111, "13811110006"),
    _person(7, "冯建华", date(1977, 3, 3), 113, "13811110007"),
    _person(8, "褚海涛", date(1988, 8, 8), 115, "13811110008"),
    _person(9, "卫丽娟", date(1995, 5, 25), 117, "13811110009"),
    _person(10, "蒋国平", date(1960, 10, 10), 119, "13811110010"),
    core_row("MX0011", "沈坏号", "110108198001011234", "13811110011", BRANCH=""),
]
PAIRS = {"pending": ("MX0001", "MX0002"), "decided": ("MX0003", "MX0004")}


def records_body(number: str) -> dict[str, Any]:
    """A real-time event of the core source: one new customer nobody else has."""
    serial = int(number)
    row = _person(serial, "韩矩阵", date(1993, 7, 17), serial, f"1381111{serial:04d}")
    return {"records": [row]}


@dataclass
class IntegrationBook:
    ids: dict[str, dict[str, int]] = field(default_factory=dict)

    def put(self, kind: str, key: str, ident: int) -> None:
        self.ids.setdefault(kind, {})[key] = ident


def _scored(db: Session, pairs: dict[str, tuple[str, str]]) -> matching.ScoredPairs:
    """Splink's output for the given pairs of source customer numbers, with a review-band score."""
    scored = []
    for left_no, right_no in pairs.values():
        left = repo.find_source_record(db, SOURCE, left_no)
        right = repo.find_source_record(db, SOURCE, right_no)
        assert left is not None, f"{left_no} was not loaded"
        assert right is not None, f"{right_no} was not loaded"
        pair: dict[str, Any] = {
            "unique_id_l": left.id,
            "unique_id_r": right.id,
            "customer_id_l": left.customer_id,
            "customer_id_r": right.customer_id,
            "match_probability": REVIEW_PROBABILITY,
            "match_weight": 3.17,
        }
        for name in matching.COMPARED:
            pair[f"gamma_{name}"] = 0 if name == "id_number" else 1
            pair[f"mw_{name}"] = -4.0 if name == "id_number" else 1.5
        scored.append(pair)
    return matching.ScoredPairs(total=len(scored), open=scored)


def build_integration(db: Session, admin: Principal) -> IntegrationBook:
    book = IntegrationBook()
    with tempfile.TemporaryDirectory() as folder:
        path = write_core(Path(folder), FILE_NAME, DELIVERY)
        loaded = runs.run_file(db, admin, source=SOURCE, path=path)
    assert loaded.status == "loaded", loaded
    assert loaded.rejected == 1, loaded
    assert loaded.batch_id is not None
    book.put("batch", "core", loaded.batch_id)

    with mock.patch.object(matching, "predict_pairs", return_value=_scored(db, PAIRS)):
        summary = matching.run_matching(db, Actor.system("access-matrix"))
    assert summary.queued == len(PAIRS), summary
    queue = matching.review_queue(db, admin, status="pending", page=PageRequest(1, 10)).items
    by_record = {}
    for candidate in queue:
        row = repo.get_candidate(db, candidate.id)
        assert row is not None
        left = repo.get_source_record(db, row.left_record_id)
        assert left is not None
        by_record[left.source_customer_no] = candidate.id
    for key, (left_no, _right_no) in PAIRS.items():
        book.put("candidate", key, by_record[left_no])
    matching.decide(db, admin, candidate_id=book.ids["candidate"]["decided"], accept=False)

    status, _answer = runs.run_records(
        db, admin, source=SOURCE, data=RecordsIn.model_validate(records_body("90")), idempotency_key=USED_KEY
    )
    assert status == 201, status
    return book
