"""A delivery decides survivorship for all the customers it touches at once; the outcome must be what
deciding and linking one record at a time gives.

The reference below is the loop ingestion ran before it became set-based: for each changed record,
link it to the customer holding its ID (``holdings.link_source_record``) and choose that customer's
golden values again (``golden.refresh``, through ``current_customer_id`` after merges). Each scenario
loads the same deliveries both ways, from the same starting point (a savepoint), and compares
everything a user or an auditor can see: golden values, the history of each field, contact points,
addresses, search keys, versions, the audit rows and the batch counts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bankcrm.audit import service as audit
from bankcrm.audit.models import AuditEvent
from bankcrm.core.context import Actor
from bankcrm.core.db import utcnow
from bankcrm.core.lake import Lake
from bankcrm.customers.models import Address, ContactPoint, Customer, CustomerSearchKey, SourceXref
from bankcrm.customers.schemas import CustomerUpdate
from bankcrm.customers.service import customers, holdings
from bankcrm.customers.service import merge as customer_merge
from bankcrm.integration import repository as repo
from bankcrm.integration.mapping import Mapping
from bankcrm.integration.models import Batch, GoldenFieldChange, SourceRecord
from bankcrm.integration.records import CleanRecord
from bankcrm.integration.repository import LandedRow
from bankcrm.integration.service import golden, ingest
from bankcrm.integration.service.ingest import ingest_file
from tests.integration.files import core_row, resident_id, write_core

JOB = Actor.system("test-delivery-survivorship")
ONLINE_HEADER = ["user_id", "real_name", "cert_type", "cert_no", "phone", "mail", "last_login"]
PEOPLE = {
    number: resident_id(date(1980, 1, 1 + n), 31 + n)
    for n, number in enumerate(["C1", "C2", "C3", "C4", "C5"])
}
TWIN = resident_id(date(1980, 1, 5), 99)  # C5's person registered again with another ID: merged into C5


def one_at_a_time(
    session: Session,
    actor: Actor,
    mapping: Mapping,
    batch: Batch,
    landed: list[LandedRow],
    reject_rows: list[dict[str, Any]],
) -> None:
    """Ingestion's customer loading as it was before it became set-based (the reference), from the
    records as they landed."""
    good = [CleanRecord(row.record_no, json.loads(row.fields)) for row in landed]
    unmatched: list[tuple[CleanRecord, SourceRecord]] = []
    seen: set[str] = set()
    for record in good:
        number = str(record.fields["source_customer_no"])
        if number in seen:
            reject_rows.append(
                {
                    "batch_id": batch.id,
                    "record_no": record.record_no,
                    "source_customer_no": number,
                    "field": "source_customer_no",
                    "value": number,
                    "rule": "record.repeated",
                    "message": "The same source customer number appears earlier in this delivery.",
                }
            )
            continue
        seen.add(number)
        text = json.dumps(record.fields, sort_keys=True, default=str, ensure_ascii=False)
        content = hashlib.sha256(text.encode()).hexdigest()
        existing = repo.find_source_record(session, mapping.code, number)
        if existing is not None and existing.content_hash == content:
            batch.duplicate_count += 1
            continue
        digest = customers.identity_digest(str(record.fields["id_type"]), str(record.fields["id_number"]))
        stored = existing or SourceRecord(
            source_code=mapping.code,
            source_customer_no=number,
            batch_id=batch.id,
            content_hash=content,
            fields="{}",
        )
        stored.batch_id, stored.content_hash, stored.id_digest = batch.id, content, digest
        stored.fields = text
        stored.received_at = utcnow()
        if existing is None:
            repo.add(session, stored)
        batch.loaded_count += 1
        if stored.customer_id is None:
            found = customers.find_customer_by_identity(session, digest)
            if found is not None:
                stored.customer_id, stored.match_rule = found, ingest.SAME_ID_RULE
                holdings.link_source_record(
                    session,
                    actor,
                    customer_id=found,
                    source_system=mapping.code,
                    source_customer_no=number,
                    match_rule=ingest.SAME_ID_RULE,
                )
        if stored.customer_id is not None:
            session.flush()
            owner = customers.current_customer_id(session, stored.customer_id)
            golden.refresh(session, actor, customer_id=owner, batch_id=batch.id)
            batch.linked_count += 1
        else:
            unmatched.append((record, stored))
    session.flush()
    if unmatched:  # new customers through the same bulk loader either way
        items = [
            ingest.Incoming(record, stored, stored.source_customer_no, stored.fields, stored.content_hash, "")
            for record, stored in unmatched
        ]
        for item, (_record, stored) in zip(items, unmatched, strict=True):
            item.received_at = stored.received_at
        ingest._create_golden_records(session, actor, mapping, batch, items, reject_rows)
        for item, (_record, stored) in zip(items, unmatched, strict=True):
            if item.customer_id is None:
                session.delete(stored)
            else:
                stored.customer_id, stored.match_rule = item.customer_id, item.match_rule


def online_row(user: str, number: str, *, phone: str, login: str, mail: str = "") -> dict[str, str]:
    return {
        "user_id": user,
        "real_name": "李四",
        "cert_type": "ID",
        "cert_no": number,
        "phone": phone,
        "mail": mail,
        "last_login": login,
    }


@pytest.fixture
def starting_point(db: Session, lake: Lake, tmp_path: Path, as_user: Callable[[str], Any]) -> dict[str, int]:
    """Five core customers; C1 corrected in the CRM, C4 deactivated, C5 merged with a twin record."""
    rows = [
        core_row(number, "李四", id_number, mobile=f"1380000000{n}", UPDATED="2026-11-10 09:00:00")
        for n, (number, id_number) in enumerate(PEOPLE.items())
    ]
    rows.append(core_row("C6", "李四", TWIN, mobile="13800000009", UPDATED="2026-11-11 09:00:00"))
    ingest_file(db, JOB, source="core", path=write_core(tmp_path, "core_customers_20261110.csv", rows))
    ids = {
        number: customers.find_customer_by_identity(db, customers.identity_digest("resident_id", id_number))
        for number, id_number in [*PEOPLE.items(), ("C6", TWIN)]
    }
    found = {number: customer_id for number, customer_id in ids.items() if customer_id is not None}
    manager = as_user("sbm.haidian")
    before = customers.get_customer(db, manager, customer_id=found["C1"])
    customers.update_customer(
        db,
        manager,
        customer_id=found["C1"],
        data=CustomerUpdate(
            name="李四",
            mobile="13700007777",
            occupation="教师",
            risk_level="C3",
            risk_assessed_on=date(2026, 6, 1),
            version=before.version,
            confirm_not_duplicate=True,
        ),
    )
    customers.set_active(db, manager, customer_id=found["C4"], active=False, reason="closed")
    request = customer_merge.system_merge(
        db, JOB, survivor_id=found["C5"], merged_id=found["C6"], reason="test"
    )
    assert request is not None
    golden.refresh(db, JOB, customer_id=found["C5"])
    db.flush()
    return found


def deliveries(folder: Path) -> list[tuple[str, Path]]:
    """A core update and an online delivery touching every case at once."""
    core = [
        core_row(
            "C1",
            "李四",
            PEOPLE["C1"],
            mobile="13800000000",
            UPDATED="2026-11-12 09:00:00",
            ADDR="北京市朝阳区 建国路 8 号",
        ),
        core_row("C2", "李四", PEOPLE["C2"], mobile="13811112222", UPDATED="2026-11-27 09:00:00"),
        core_row(
            "C3", "李四", PEOPLE["C3"], mobile="13800000002", UPDATED="2026-11-10 09:00:00"
        ),  # unchanged
        core_row(
            "C4", "李四", PEOPLE["C4"], mobile="13833334444", UPDATED="2026-11-27 09:00:00"
        ),  # deactivated
        core_row("C6", "李四", TWIN, mobile="13855556666", UPDATED="2026-11-28 09:00:00", OCCUPATION="医生"),
        core_row("C7", "王五", resident_id(date(1985, 5, 5), 41), UPDATED="2026-11-28 09:00:00"),  # new
        core_row("C7", "王五", resident_id(date(1985, 5, 5), 41), UPDATED="2026-11-28 09:00:00"),  # repeated
        core_row("C8", "赵六", "110108198505050000"),  # a wrong check character
    ]
    online = [
        online_row("U1", PEOPLE["C3"], phone="13900000001", login="2026-11-20 08:00:00", mail="a@online.cn"),
        online_row("U2", PEOPLE["C3"], phone="13900000002", login="2026-11-25 08:00:00"),  # C3 again, newer
        online_row(
            "U3", PEOPLE["C1"], phone="13900000003", login="2026-11-01 08:00:00"
        ),  # older than the edit
        online_row("U4", PEOPLE["C2"], phone="13900000004", login="2026-11-29 08:00:00", mail="b@online.cn"),
        online_row("U5", TWIN, phone="13900000005", login="2026-11-29 09:00:00"),  # the merged twin's ID
    ]
    return [
        ("core", write_core(folder, "core_customers_20261128.csv", core)),
        ("online", write_core(folder, "online_users_20261129.csv", online, header=ONLINE_HEADER)),
    ]


def _rows(db: Session, model: Any, customer_ids: set[int], *columns: str) -> list[tuple[Any, ...]]:
    found = db.execute(select(model).where(model.customer_id.in_(customer_ids))).scalars()
    return sorted(tuple(getattr(row, c) for c in columns) for row in found)


def what_users_see(db: Session, customer_ids: set[int], results: list[ingest.IngestResult]) -> dict[str, Any]:
    db.flush()
    batches = {result.batch_id: f"batch{n}" for n, result in enumerate(results)}
    history = db.execute(
        select(GoldenFieldChange)
        .where(GoldenFieldChange.customer_id.in_(customer_ids))
        .order_by(GoldenFieldChange.id)
    ).scalars()
    audit = db.execute(
        select(AuditEvent).where(AuditEvent.action.in_(["update_from_source", "xref_linked", "ingest"]))
    ).scalars()
    return {
        "values": {
            c: g.values for c in sorted(customer_ids) if (g := customers.golden_values(db, c)) is not None
        },
        "history": [
            (
                h.customer_id,
                h.field,
                h.source_code,
                h.source_customer_no,
                h.rule,
                h.value_digest,
                h.value_masked,
                h.previous_masked,
                batches.get(h.batch_id, h.batch_id),
            )
            for h in history
        ],
        "contacts": _rows(
            db, ContactPoint, customer_ids, "customer_id", "kind", "value", "is_primary", "valid_to", "source"
        ),
        "addresses": _rows(db, Address, customer_ids, "customer_id", "kind", "line", "valid_to", "source"),
        "keys": _rows(db, CustomerSearchKey, customer_ids, "customer_id", "key"),
        "xrefs": _rows(
            db, SourceXref, customer_ids, "customer_id", "source_system", "source_customer_no", "match_rule"
        ),
        "versions": sorted(
            (c.id, c.version, c.status)
            for c in db.execute(select(Customer).where(Customer.id.in_(customer_ids))).scalars()
        ),
        "audit": sorted(
            (
                a.action,
                a.entity_type,
                batches.get(int(a.entity_id), a.entity_id) if a.action == "ingest" else a.entity_id,
                _without_batch(a.changes) if a.action == "ingest" else a.changes,
                a.reason,
            )
            for a in audit
            if a.action == "ingest" or (a.entity_id is not None and int(a.entity_id) in customer_ids)
        ),
        "counts": [
            (
                r.status,
                r.read,
                r.loaded,
                r.rejected,
                r.duplicates,
                r.linked,
                r.created,
                sorted((x["record_no"], x["field"], x["rule"]) for x in r.rejects),
            )
            for r in results
        ],
        "new customers": sorted(
            (c.name, c.id_number)
            for c in db.execute(select(Customer).where(Customer.id.not_in(customer_ids))).scalars()
        ),
    }


def _without_batch(changes: str) -> str:
    return json.dumps({k: v for k, v in json.loads(changes).items() if k != "batch"}, sort_keys=True)


@pytest.fixture
def both_ways(
    db: Session, tmp_path: Path, starting_point: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The deliveries loaded set-based and then, from the same starting point, one record at a time."""
    existing = set(starting_point.values())
    outcomes = []
    for loader in (ingest._load_customers, one_at_a_time):
        monkeypatch.setattr(ingest, "_load_customers", loader)
        savepoint = db.begin_nested()
        results = [ingest_file(db, JOB, source=source, path=path) for source, path in deliveries(tmp_path)]
        outcomes.append(what_users_see(db, existing, results))
        savepoint.rollback()
    return outcomes[0], outcomes[1]


@pytest.mark.usefixtures("demo")
def test_a_delivery_touching_many_customers_gives_the_golden_values_of_the_one_at_a_time_rules(
    both_ways: tuple[dict[str, Any], dict[str, Any]], starting_point: dict[str, int]
) -> None:
    set_based, reference = both_ways
    assert set_based["values"] == reference["values"]
    # The cases are really exercised: a newer mobile won, the CRM's correction survived an older
    # delivery, and the merged twin's newer record reached the survivor.
    values = set_based["values"]
    assert values[starting_point["C2"]]["mobile"] == "13900000004"
    assert values[starting_point["C1"]]["mobile"] == "13700007777"
    assert values[starting_point["C1"]]["occupation"] == "教师"
    assert values[starting_point["C5"]]["occupation"] == "医生"
    assert values[starting_point["C3"]]["mobile"] == "13900000002"


@pytest.mark.usefixtures("demo")
def test_a_delivery_writes_the_history_of_the_one_at_a_time_rules_including_a_customer_touched_twice(
    both_ways: tuple[dict[str, Any], dict[str, Any]], starting_point: dict[str, int]
) -> None:
    set_based, reference = both_ways
    assert set_based["history"] == reference["history"]
    twice = [h for h in set_based["history"] if h[0] == starting_point["C3"] and h[1] == "mobile"]
    assert [h[3] for h in twice] == ["C3", "U1", "U2"]  # first from core, then each online record in turn


@pytest.mark.usefixtures("demo")
def test_a_delivery_keeps_contact_address_and_search_key_history_as_one_at_a_time(
    both_ways: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    set_based, reference = both_ways
    for part in ("contacts", "addresses", "keys", "xrefs", "versions", "new customers"):
        assert set_based[part] == reference[part], part


@pytest.mark.usefixtures("demo")
def test_a_delivery_audits_every_change_and_link_as_one_at_a_time_and_counts_alike(
    both_ways: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    set_based, reference = both_ways
    assert set_based["audit"] == reference["audit"]
    assert set_based["counts"] == reference["counts"]
    assert any(a[0] == "update_from_source" for a in set_based["audit"])
    assert any(a[0] == "xref_linked" and a[2] is not None for a in set_based["audit"])


@pytest.mark.usefixtures("demo")
def test_after_a_delivery_deciding_any_customer_again_changes_nothing(
    db: Session, tmp_path: Path, starting_point: dict[str, int]
) -> None:
    for source, path in deliveries(tmp_path):
        ingest_file(db, JOB, source=source, path=path)
    history_before = db.execute(select(GoldenFieldChange.id)).scalars().all()
    for customer_id in starting_point.values():
        assert golden.refresh(db, JOB, customer_id=customer_id) == []
    db.flush()
    assert db.execute(select(GoldenFieldChange.id)).scalars().all() == history_before


@pytest.mark.usefixtures("demo")
def test_the_audit_chain_stays_intact_after_a_delivery_appends_rows_in_bulk(
    db: Session, tmp_path: Path, starting_point: dict[str, int]
) -> None:
    for source, path in deliveries(tmp_path):
        ingest_file(db, JOB, source=source, path=path)
    db.flush()
    report = audit.verify_chain(db)
    assert report.ok, report
