"""A customer delivery lands (validated records and rejects committed), then resolves into golden records."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bankcrm.audit.models import AuditEvent
from bankcrm.core.context import Actor
from bankcrm.core.db import Database
from bankcrm.core.lake import Lake
from bankcrm.customers.models import Customer
from bankcrm.integration.models import Batch, BatchReject, LandedRecord, SourceRecord
from bankcrm.integration.service.ingest import (
    IngestResult,
    ingest_file,
    land_file,
    resolve_batch,
    resolve_landed,
)
from tests.integration.files import core_row, resident_id, write_core

JOB = Actor.system("test-landing")
WANG = resident_id(date(1980, 4, 5), 13)
LI = resident_id(date(1975, 9, 9), 22)


def count(db: Session, model: type) -> int:
    return int(db.execute(select(func.count()).select_from(model)).scalar_one())


def status_of(session: Session, batch_id: int | None) -> str | None:
    batch = session.get(Batch, batch_id)
    return None if batch is None else batch.status


def delivery(folder: Path) -> Path:
    rows = [
        core_row("K001", "王强", WANG),
        core_row("K002", "李芳", LI, mobile="１３９ ００００ ２２２２"),
        core_row("K003", "赵错", "110108198001010000"),  # wrong check character
        core_row("K001", "王强", WANG),  # the same customer number again
    ]
    return write_core(folder, "core_customers_20261130.csv", rows)


@pytest.mark.usefixtures("demo")
def test_landing_stores_the_validated_records_and_the_rejects_before_any_customer_is_made(
    db: Session, lake: Lake, tmp_path: Path
) -> None:
    customers_before = count(db, Customer)
    landed = land_file(db, JOB, source="core", path=delivery(tmp_path))
    assert (landed.status, landed.read, landed.rejected, landed.loaded) == ("landed", 4, 2, 0)
    assert {(r["record_no"], r["rule"]) for r in landed.rejects} == {
        (3, "id.checksum"),
        (4, "record.repeated"),
    }
    batch = db.get(Batch, landed.batch_id)
    assert batch is not None
    assert (batch.status, batch.finished_at) == ("landed", None)
    records = db.execute(select(LandedRecord).order_by(LandedRecord.id)).scalars().all()
    assert [(r.record_no, r.source_customer_no) for r in records] == [(1, "K001"), (2, "K002")]
    assert json.loads(records[1].fields)["mobile"] == "13900002222"  # standardised as it landed
    assert count(db, BatchReject) == 2
    assert (count(db, Customer), count(db, SourceRecord)) == (customers_before, 0)
    audited = select(AuditEvent.action).where(
        AuditEvent.entity_type == "ingest_batch", AuditEvent.entity_id == str(batch.id)
    )
    assert db.execute(audited).scalars().all() == ["ingest_landed"]


@pytest.mark.usefixtures("demo")
def test_resolving_turns_the_landed_records_into_source_records_and_customers(
    db: Session, lake: Lake, tmp_path: Path
) -> None:
    customers_before = count(db, Customer)
    landed = land_file(db, JOB, source="core", path=delivery(tmp_path))
    assert landed.batch_id is not None
    resolved = resolve_batch(db, JOB, landed.batch_id)
    assert (resolved.status, resolved.read, resolved.loaded, resolved.created, resolved.rejected) == (
        "loaded",
        4,
        2,
        2,
        2,
    )
    assert count(db, LandedRecord) == 0
    assert count(db, Customer) == customers_before + 2
    numbers = db.execute(select(SourceRecord.source_customer_no, SourceRecord.customer_id)).all()
    assert sorted(number for number, _customer in numbers) == ["K001", "K002"]
    assert all(customer is not None for _number, customer in numbers)
    with pytest.raises(ValueError, match="not a landed batch"):
        resolve_batch(db, JOB, landed.batch_id)


def resolve_then_die(database: Database, landed: IngestResult) -> None:
    with database.transaction() as session:
        resolve_landed(session, JOB, landed)
        raise RuntimeError("the process died while resolving")


@pytest.mark.usefixtures("demo")
def test_a_delivery_that_died_after_landing_is_resolved_by_running_it_again(
    database: Database, lake: Lake, tmp_path: Path
) -> None:
    path = delivery(tmp_path)
    with database.transaction() as session:
        customers_before = count(session, Customer)
        landed = land_file(session, JOB, source="core", path=path)
    with pytest.raises(RuntimeError, match="died"):
        resolve_then_die(database, landed)
    with database.transaction() as session:
        assert status_of(session, landed.batch_id) == "landed"
        assert count(session, LandedRecord) == 2
        again = ingest_file(session, JOB, source="core", path=path)
    assert (again.batch_id, again.status, again.loaded, again.created, again.rejected) == (
        landed.batch_id,
        "loaded",
        2,
        2,
        2,
    )
    with database.transaction() as session:
        assert count(session, Customer) == customers_before + 2
        assert count(session, LandedRecord) == 0
        assert ingest_file(session, JOB, source="core", path=path).status == "skipped"


@pytest.mark.usefixtures("demo")
def test_the_api_lands_and_resolves_in_one_call(
    signed_in,
    client: TestClient,
    db: Session,
    lake: Lake,  # type: ignore[no-untyped-def]
) -> None:
    signed_in("admin")
    answer = client.post(
        "/api/v1/integration/sources/core/records", json={"records": [core_row("K900", "王强", WANG)]}
    )
    assert answer.status_code == 201, answer.text
    assert (answer.json()["status"], answer.json()["created"]) == ("loaded", 1)
    assert count(db, LandedRecord) == 0


def test_a_landed_batch_shows_as_resolving_on_the_batch_pages(
    signed_in,
    client: TestClient,
    db: Session,
    lake: Lake,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    session = signed_in("admin")
    landed = land_file(db, JOB, source="core", path=delivery(tmp_path))
    listing = client.get("/integration/batches")  # Chinese by default
    assert "已落地，归并中" in listing.text
    assert "耗时" in listing.text  # a landed batch has no duration yet: a dash, never an error
    trail = client.get("/admin/audit").text  # the audit viewer names the step in words
    assert 'data-action="ingest_landed">推送批次已落地<' in trail
    assert '推送批次 <span class="text-secondary">' in trail  # and what it was done to
    client.post("/lang", data={"locale": "en", "next": "/", "csrf_token": session.csrf})
    page = client.get(f"/integration/batches/{landed.batch_id}")
    assert "landed, resolving" in page.text
    assert "bg-yellow-lt" in page.text
    assert "load the same file again to finish it" in page.text


@pytest.mark.usefixtures("demo")
def test_an_earlier_delivery_left_landed_is_resolved_before_a_later_one(
    db: Session, lake: Lake, tmp_path: Path
) -> None:
    monday = write_core(
        tmp_path, "core_customers_20261130.csv", [core_row("K001", "王强", WANG, mobile="13900000001")]
    )
    tuesday = write_core(
        tmp_path, "core_customers_20261201.csv", [core_row("K001", "王强", WANG, mobile="13900000002")]
    )
    left = land_file(db, JOB, source="core", path=monday)  # its run died before resolving
    later = ingest_file(db, JOB, source="core", path=tuesday)
    assert later.status == "loaded"
    assert status_of(db, left.batch_id) == "loaded"
    record = db.execute(select(SourceRecord).where(SourceRecord.source_customer_no == "K001")).scalar_one()
    assert json.loads(record.fields)["mobile"] == "13900000002"  # Tuesday's value, not Monday's
    assert record.batch_id == later.batch_id
    assert count(db, LandedRecord) == 0
