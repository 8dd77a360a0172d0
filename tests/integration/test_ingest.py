"""Ingestion: validated, standardised, exactly once, rejects reported; deterministic matching."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from bankcrm.core.config import get_settings
from bankcrm.core.context import Actor
from bankcrm.core.lake import Lake
from bankcrm.customers.models import Customer, CustomerSearchKey, SourceXref
from bankcrm.customers.service.common import refresh_search_keys
from bankcrm.integration.models import GoldenFieldChange, SourceRecord
from bankcrm.integration.service import ingest
from bankcrm.integration.service.ingest import ingest_file
from tests.conftest import BACKEND
from tests.integration.files import (
    cards_line,
    core_row,
    resident_id,
    txn,
    write_cards,
    write_core,
    write_transactions,
)

JOB = Actor.system("test-ingest")
WANG = resident_id(date(1980, 4, 5), 13)
LI = resident_id(date(1975, 9, 9), 22)


def customers(db: Session) -> int:
    return int(db.execute(select(func.count()).select_from(Customer)).scalar_one())


@pytest.mark.usefixtures("demo")
def test_good_records_load_and_bad_ones_are_reported(db: Session, lake: Lake, tmp_path: Path) -> None:
    rows = [
        core_row("K001", "王强", WANG),
        core_row("K002", "李芳", LI, mobile="１３９ ００００ ２２２２"),  # full-width digits and spaces
        core_row("K003", "赵错", "110108198001010000"),  # wrong check character
        core_row("K004", "", resident_id(date(1990, 1, 1), 5)),  # no name
        core_row("K005", "孙坏", resident_id(date(1991, 2, 2), 7), mobile="12345"),
    ]
    result = ingest_file(
        db, JOB, source="core", path=write_core(tmp_path, "core_customers_20261129.csv", rows)
    )
    assert (result.status, result.read, result.loaded, result.rejected, result.created) == (
        "loaded",
        5,
        2,
        3,
        2,
    )
    assert {(r["record_no"], r["field"], r["rule"]) for r in result.rejects} == {
        (3, "id_number", "id.checksum"),
        (4, "name", "required"),
        (5, "mobile", "mobile.format"),
    }
    wrong_id = next(r for r in result.rejects if r["rule"] == "id.checksum")
    assert "*" in wrong_id["value"]  # personal data is masked in the reject report
    li = db.execute(select(Customer).where(Customer.name == "李芳")).scalar_one()
    assert li.mobile == "13900002222"
    assert li.org_unit_id is not None


@pytest.mark.usefixtures("demo")
def test_the_same_file_twice_is_a_no_op(db: Session, lake: Lake, tmp_path: Path) -> None:
    path = write_core(tmp_path, "core_customers_20261129.csv", [core_row("K001", "王强", WANG)])
    first = ingest_file(db, JOB, source="core", path=path)
    second = ingest_file(db, JOB, source="core", path=path)
    assert first.status == "loaded"
    assert second.status == "skipped"
    assert second.batch_id == first.batch_id
    assert customers(db) == 1


@pytest.mark.usefixtures("demo")
def test_a_changed_record_updates_and_an_unchanged_one_is_counted(
    db: Session, lake: Lake, tmp_path: Path
) -> None:
    ingest_file(
        db,
        JOB,
        source="core",
        path=write_core(
            tmp_path, "core_customers_1.csv", [core_row("K001", "王强", WANG), core_row("K002", "李芳", LI)]
        ),
    )
    again = ingest_file(
        db,
        JOB,
        source="core",
        path=write_core(
            tmp_path,
            "core_customers_2.csv",
            [core_row("K001", "王强", WANG), core_row("K002", "李芳", LI, OCCUPATION="教师")],
        ),
    )
    assert (again.duplicates, again.loaded, again.linked, again.created) == (1, 1, 1, 0)
    assert customers(db) == 2


@pytest.mark.usefixtures("demo")
def test_the_same_person_in_two_systems_becomes_one_customer(db: Session, lake: Lake, tmp_path: Path) -> None:
    ingest_file(
        db,
        JOB,
        source="core",
        path=write_core(tmp_path, "core_customers_1.csv", [core_row("K001", "王强", WANG)]),
    )
    cards = ingest_file(
        db,
        JOB,
        source="cards",
        path=write_cards(
            tmp_path,
            "cards_customers_1.txt",
            [
                cards_line("C90000000001", "王強", WANG, "13800001111"),  # traditional 強
                cards_line("C90000000002", "陳靜", LI, "13911112222"),
            ],
        ),
    )
    assert (cards.loaded, cards.linked, cards.created) == (2, 1, 1)
    assert customers(db) == 2
    wang = db.execute(select(Customer).where(Customer.id_number == WANG)).scalar_one()
    links = {
        (x.source_system, x.source_customer_no, x.match_rule)
        for x in db.execute(select(SourceXref).where(SourceXref.customer_id == wang.id)).scalars()
    }
    assert links == {
        ("core", "K001", "new customer from this source"),
        ("cards", "C90000000001", "same ID type and number"),
    }
    chen = db.execute(select(Customer).where(Customer.id_number == LI)).scalar_one()
    assert chen.name == "陈静"  # traditional characters standardised


@pytest.mark.usefixtures("demo")
def test_fixed_width_positions_count_bytes_and_a_cut_character_is_rejected(
    db: Session, lake: Lake, tmp_path: Path
) -> None:
    good = cards_line("C90000000003", "欧阳宝贝", WANG, "13800001111")  # 8 bytes of 10 in GB18030
    assert len(good.encode("gb18030")) == 58
    # One stray byte before the name: the name's tenth byte is half a character.
    broken = (
        b"C90000000004" + b"A" + "张三丰王五".encode("gb18030") + f"I1{LI:<18}{'13911112222':<16}".encode()
    )
    path = tmp_path / "cards_customers_2.txt"
    path.write_bytes(good.encode("gb18030") + b"\n" + broken + b"\n")
    result = ingest_file(db, JOB, source="cards", path=path)
    assert result.loaded == 1
    name = db.execute(select(Customer.name).where(Customer.id_number == WANG)).scalar_one()
    assert name == "欧阳宝贝"
    rules = {(r["field"], r["rule"]) for r in result.rejects}
    assert ("name", "text.encoding") in rules


@pytest.mark.usefixtures("demo")
def test_a_file_with_authentication_data_is_refused(db: Session, lake: Lake, tmp_path: Path) -> None:
    header = [*CORE_HEADER_WITH_PIN]
    row = {**core_row("K001", "王强", WANG), "PIN": "123456"}
    result = ingest_file(
        db, JOB, source="core", path=write_core(tmp_path, "core_customers_x.csv", [row], header=header)
    )
    assert result.status == "refused"
    assert "C3" in (result.message or "")
    assert customers(db) == 0


@pytest.mark.usefixtures("demo")
def test_a_file_that_does_not_match_the_pattern_is_refused(db: Session, lake: Lake, tmp_path: Path) -> None:
    result = ingest_file(
        db, JOB, source="core", path=write_core(tmp_path, "wrong_name.csv", [core_row("K001", "王强", WANG)])
    )
    assert result.status == "refused"


@pytest.mark.usefixtures("demo")
def test_transactions_go_to_the_lake_and_need_a_known_customer(
    db: Session, lake: Lake, tmp_path: Path
) -> None:
    ingest_file(
        db,
        JOB,
        source="core",
        path=write_core(tmp_path, "core_customers_1.csv", [core_row("K001", "王强", WANG)]),
    )
    rows = [
        txn("T1", "K001", "2026-11-10 09:00:00", "C", "15,000.00"),
        txn("T2", "K001", "2026-11-11 12:30:00", "D", "88.50"),
        txn("T3", "K999", "2026-11-11 12:30:00", "D", "10"),
        txn("T4", "K001", "not a time", "D", "1"),
        txn("T5", "K001", "2026-11-12 10:00:00", "D", "-5"),
    ]
    path = write_transactions(tmp_path, "core_txn_20261129.csv", rows)
    result = ingest_file(db, JOB, source="core_txn", path=path)
    assert (result.loaded, result.rejected) == (2, 3)
    assert {r["rule"] for r in result.rejects} == {"customer.unknown", "datetime.format", "amount.format"}
    table = lake.query(
        "SELECT direction, amount FROM read_parquet('"
        + str(lake.dataset_dir("transactions"))
        + "/**/*.parquet', hive_partitioning=true) ORDER BY booked_at"
    )
    assert [
        (d, str(a)) for d, a in zip(table["direction"].to_pylist(), table["amount"].to_pylist(), strict=True)
    ] == [("in", "15000.00"), ("out", "88.50")]
    again = ingest_file(db, JOB, source="core_txn", path=path)
    assert again.status == "skipped"


@pytest.mark.usefixtures("demo")
def test_overlapping_journals_load_each_transaction_once(db: Session, lake: Lake, tmp_path: Path) -> None:
    ingest_file(
        db,
        JOB,
        source="core",
        path=write_core(tmp_path, "core_customers_1.csv", [core_row("K001", "王强", WANG)]),
    )
    first = [
        txn("T1", "K001", "2026-10-31 23:30:00", "C", "100"),
        txn("T2", "K001", "2026-11-01 08:00:00", "D", "20"),
    ]
    # Re-extracted from the 1st: T2 again, T3 new and repeated within the file.
    second = [
        txn("T2", "K001", "2026-11-01 08:00:00", "D", "20"),
        txn("T3", "K001", "2026-11-02 09:00:00", "D", "30"),
        txn("T3", "K001", "2026-11-02 09:00:00", "D", "30"),
    ]
    ingest_file(db, JOB, source="core_txn", path=write_transactions(tmp_path, "core_txn_20261101.csv", first))
    result = ingest_file(
        db, JOB, source="core_txn", path=write_transactions(tmp_path, "core_txn_20261102.csv", second)
    )
    assert (result.loaded, result.duplicates) == (1, 2)
    table = lake.query(
        "SELECT txn_id FROM read_parquet('"
        + str(lake.dataset_dir("transactions"))
        + "/**/*.parquet', hive_partitioning=true) ORDER BY txn_id"
    )
    assert table["txn_id"].to_pylist() == ["core_txn:T1", "core_txn:T2", "core_txn:T3"]


@pytest.mark.usefixtures("demo")
def test_source_records_keep_the_standardised_fields(db: Session, lake: Lake, tmp_path: Path) -> None:
    ingest_file(
        db,
        JOB,
        source="core",
        path=write_core(tmp_path, "core_customers_1.csv", [core_row("K001", "王强", WANG)]),
    )
    record = db.execute(select(SourceRecord)).scalar_one()
    assert '"address": "北京市海淀区中关村大街1号"' in record.fields


CORE_HEADER_WITH_PIN = [
    "CUST_NO",
    "BRANCH",
    "CUST_NAME",
    "CERT_TYPE",
    "CERT_NO",
    "MOBILE",
    "EMAIL",
    "ADDR",
    "OCCUPATION",
    "RISK_LEVEL",
    "RISK_DATE",
    "UPDATED",
    "PIN",
]


def test_the_api_loads_records_and_honours_idempotency_keys(
    signed_in, client: TestClient, lake: Lake
) -> None:  # type: ignore[no-untyped-def]
    signed_in("admin")
    body = {"records": [core_row("K100", "周杰", resident_id(date(1979, 1, 18), 31))]}
    first = client.post(
        "/api/v1/integration/sources/core/records", json=body, headers={"Idempotency-Key": "abc-1"}
    )
    assert first.status_code == 201, first.text
    assert first.json()["created"] == 1
    replay = client.post(
        "/api/v1/integration/sources/core/records", json=body, headers={"Idempotency-Key": "abc-1"}
    )
    assert replay.status_code == 201
    assert replay.json() == first.json()
    other = {"records": [core_row("K101", "林俊", resident_id(date(1981, 3, 27), 33))]}
    clash = client.post(
        "/api/v1/integration/sources/core/records", json=other, headers={"Idempotency-Key": "abc-1"}
    )
    assert clash.status_code == 409
    assert clash.json()["type"] == "/problems/idempotency-key-reused"
    unknown = client.post("/api/v1/integration/sources/nope/records", json=body)
    assert unknown.status_code == 404


def test_batch_pages_and_the_reject_report(
    signed_in,
    client: TestClient,
    db: Session,
    lake: Lake,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    session = signed_in("admin")
    result = ingest_file(
        db,
        JOB,
        source="core",
        path=write_core(
            tmp_path,
            "core_customers_1.csv",
            [core_row("K001", "王强", WANG), core_row("K003", "赵错", "110108198001010000")],
        ),
    )
    assert client.get("/integration").status_code == 200
    listing = client.get("/integration/batches").text
    assert 'data-testid="batch-table"' in listing
    assert re.search(r"data-testid=\"batch-duration\">\d+\.\d 秒<", listing)  # how long it took
    page = client.get(f"/integration/batches/{result.batch_id}")
    assert 'data-testid="reject-table"' in page.text
    report = client.post(
        f"/integration/batches/{result.batch_id}/rejects.csv", data={"csrf_token": session.csrf}
    )
    lines = list(csv.reader(io.StringIO(report.text.lstrip("\ufeff"))))
    assert lines[1] == ["record_no", "source_customer_no", "field", "value", "rule", "message"]
    assert lines[2][0:3] == ["2", "K003", "id_number"]
    signed_in("rm.zhang")
    assert client.get("/integration").status_code == 403
    assert client.get(f"/api/v1/integration/batches/{result.batch_id}").status_code == 403


@pytest.mark.usefixtures("demo")
def test_new_customers_get_the_cross_references_and_search_keys_of_a_single_link(
    db: Session, lake: Lake, tmp_path: Path
) -> None:
    """A delivery's new customers are linked in bulk; the rows must be those the one-at-a-time link
    (link_source_record, then refresh_search_keys) leaves."""
    rows = [
        core_row(f"K1{i:02d}", name, resident_id(date(1970 + i, 3, 3), 40 + i), mobile=f"1390000{i:04d}")
        for i, name in enumerate(("王强", "李芳", "Zhang Wei", "欧阳娜"))
    ]
    rows[1]["BRANCH"] = "SH-PD"
    rows[2]["MOBILE"] = ""
    result = ingest_file(
        db, JOB, source="core", path=write_core(tmp_path, "core_customers_20261130.csv", rows)
    )
    assert (result.created, result.rejected) == (4, 0)
    records = {r.source_customer_no: r for r in db.execute(select(SourceRecord)).scalars()}
    xrefs = {x.source_customer_no: x for x in db.execute(select(SourceXref)).scalars()}
    assert set(xrefs) == {"K100", "K101", "K102", "K103"}
    for number, xref in xrefs.items():
        assert (xref.source_system, xref.customer_id) == ("core", records[number].customer_id)
        assert xref.match_rule == records[number].match_rule == "new customer from this source"
    for customer in db.execute(select(Customer)).scalars():
        loaded = set(
            db.execute(
                select(CustomerSearchKey.key).where(CustomerSearchKey.customer_id == customer.id)
            ).scalars()
        )
        refresh_search_keys(db, customer)
        db.flush()
        rebuilt = set(
            db.execute(
                select(CustomerSearchKey.key).where(CustomerSearchKey.customer_id == customer.id)
            ).scalars()
        )
        assert loaded == rebuilt
        assert any(key.startswith("x:k1") for key in loaded)


@pytest.mark.usefixtures("demo")
@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's page cache")
def test_a_customer_delivery_writes_with_the_loading_page_cache(
    db: Session, lake: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []
    load_customers = ingest._load_customers

    def watched(session: Session, *args: Any) -> None:
        seen.append(int(session.execute(text("PRAGMA cache_size")).scalar_one()))
        load_customers(session, *args)

    monkeypatch.setattr(ingest, "_load_customers", watched)
    before = db.execute(text("PRAGMA cache_size")).scalar_one()
    rows = [core_row("K201", "王强", WANG)]
    result = ingest_file(
        db, JOB, source="core", path=write_core(tmp_path, "core_customers_20261201.csv", rows)
    )
    assert result.created == 1
    assert seen == [-get_settings().loading_cache_mib * 1024]
    assert db.execute(text("PRAGMA cache_size")).scalar_one() == before


@pytest.mark.usefixtures("demo")
def test_new_customers_first_value_history_is_the_same_written_in_parts(
    db: Session, lake: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first-value history of a delivery's new customers goes out in parts as it is made; the
    rows are those of writing it all at the end."""
    rows = [
        core_row(f"K3{i:02d}", name, resident_id(date(1960 + i, 5, 5), 60 + i), mobile=f"1370000{i:04d}")
        for i, name in enumerate(("王强", "李芳", "赵敏", "钱进", "孙俪"))
    ]
    path = write_core(tmp_path, "core_customers_20261202.csv", rows)
    written = []
    for at_a_time in (ingest.HISTORY_ROWS_AT_A_TIME, 3):
        monkeypatch.setattr(ingest, "HISTORY_ROWS_AT_A_TIME", at_a_time)
        savepoint = db.begin_nested()
        assert ingest_file(db, JOB, source="core", path=path).created == 5
        history = db.execute(select(GoldenFieldChange).order_by(GoldenFieldChange.id)).scalars()
        written.append(
            [(h.source_customer_no, h.field, h.rule, h.value_digest, h.value_masked) for h in history]
        )
        savepoint.rollback()
    assert written[0] == written[1]
    assert {number for number, *_rest in written[1]} == {f"K3{i:02d}" for i in range(5)}
    assert len(written[1]) > 3 * 5
