"""Journals column-at-a-time give exactly what the per-record rules give, value for value.

``records.standardise`` and ``records.validate_transaction`` state the rules one record at a time;
``integration.journal`` applies them to whole columns. These tests hold the two together on every
kind of value a journal can carry, good and bad.
"""

from __future__ import annotations

import csv
import dataclasses
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from bankcrm.core.config import Settings
from bankcrm.core.context import Actor
from bankcrm.core.lake import Lake
from bankcrm.core.masking import MaskKind, mask
from bankcrm.customers import lake_repository
from bankcrm.integration import journal
from bankcrm.integration import repository as repo
from bankcrm.integration.mapping import Mapping, registry
from bankcrm.integration.models import Batch
from bankcrm.integration.records import CleanRecord, read_rows, standardise, validate_transaction
from bankcrm.integration.service import quality
from bankcrm.integration.service.ingest import ingest_file, ingest_records
from tests.integration.files import core_row, resident_id, txn, write_core, write_transactions

JOB = Actor.system("test-journal")
WANG = resident_id(date(1980, 4, 5), 13)
HEADER = [
    "TXN_NO",
    "CUST_NO",
    "ACCT_NO",
    "TXN_TIME",
    "DR_CR",
    "AMT",
    "CCY",
    "CATEGORY",
    "CHANNEL",
    "COUNTERPARTY",
    "MEMO",
]

# Every kind of value the rules tell apart, in each column (the rest of the row stays valid).
AMOUNTS = [
    "15,000.00",
    "88.5",
    "10",
    "0.01",
    "-5",
    "0",
    "0.00",
    "1.001",
    "abc",
    "",
    " 12 ",
    "１２.５０",
    "1e2",
    "+3",
    "1_000",
    "NaN",
    "Infinity",
    "1,,2",
    ".5",
    "5.",
    "00012.30",
    "999999999999999.99",
    "1234567890123456.00",
]
TIMES = [
    "2026-11-10 09:00:00",
    "2026-11-10T09:00:00",
    "not a time",
    "",
    "2026-02-30 10:00:00",
    "2026-02-28 23:59:59",
    "2026-11-10T09:00:00+08:00",
    "2026-11-10 09:00:00Z",
    "2026-11-10 09:00",
    "2026-11-10",
    "1988-06-01 12:00:00",
    "1991-07-01 00:30:00",
    "2026-11-10 24:00:00",
    "2026-11-10 23:60:00",
    "20261110T090000",
    "2026-11-10 09:00:00.5",
    "２０２６-11-10 09:00:00",
    "2024-02-29 00:00:00",
    "2026-13-01 00:00:00",
    "2026-00-10 00:00:00",
    "2026-01-00 00:00:00",
    "2026-04-31 08:00:00",
    "2026-11-10  09:00:00",
    "0999-01-01 00:00:00",
]
DIRECTIONS = ["C", "D", "X", "", "c", " D ", "in", "out", "贷"]
CURRENCIES = ["CNY", "", "usd", "Usd", "ｕｓｄ", "straße", " hkd "]
TEXTS = [
    "某某公司",
    "",
    "  spaced  ",
    "\u3000全角\u3000",
    "銀行",
    "bad\ufffdbytes",
    "x\x1cy",
    "商户 ",
    "ＡＢＣ",
]
NUMBERS = ["K001", "", " K002 ", "K\ufffd", "Ｋ003"]


def bad_journal_rows() -> list[dict[str, str]]:
    base = {
        "TXN_NO": "T",
        "CUST_NO": "K001",
        "ACCT_NO": "6222020200001234",
        "TXN_TIME": "2026-11-10 09:00:00",
        "DR_CR": "C",
        "AMT": "1.00",
        "CCY": "CNY",
        "CATEGORY": "salary",
        "CHANNEL": "online",
        "COUNTERPARTY": "某某公司",
        "MEMO": "",
    }
    variants: list[tuple[str, list[str]]] = [
        ("AMT", AMOUNTS),
        ("TXN_TIME", TIMES),
        ("DR_CR", DIRECTIONS),
        ("CCY", CURRENCIES),
        ("COUNTERPARTY", TEXTS),
        ("MEMO", TEXTS),
        ("ACCT_NO", TEXTS),
        ("CUST_NO", NUMBERS),
        ("TXN_NO", ["", " T9 ", "T\ufffd"]),
        ("CATEGORY", TEXTS),
    ]
    rows = []
    for column, values in variants:
        for value in values:
            rows.append({**base, "TXN_NO": f"T{len(rows)}", column: value})
    # Several problems in one record, and a whole record of nothing.
    rows.append({**base, "TXN_NO": "", "AMT": "-1", "TXN_TIME": "never", "DR_CR": "Q", "CUST_NO": ""})
    rows.append(dict.fromkeys(HEADER, ""))
    return rows


def core_txn() -> Mapping:
    return registry()["core_txn"]


def per_record(mapping: Mapping, rows: list[tuple[int, dict[str, str]]]) -> list[CleanRecord]:
    return [validate_transaction(mapping, number, standardise(mapping, raw)) for number, raw in rows]


def columnar(mapping: Mapping, rows: list[tuple[int, dict[str, str]]]) -> journal.CheckedBatch:
    raw = journal.records_table(list(mapping.columns), rows)
    return journal.validate_batch(
        mapping, raw[journal.RECORD_NO].combine_chunks(), journal.standardise_table(mapping, raw)
    )


def problems_one_at_a_time(records: list[CleanRecord]) -> list[tuple[Any, ...]]:
    return [
        (record.record_no, record.fields.get("source_customer_no"), p.field, p.value, p.rule, p.message)
        for record in records
        for p in record.problems
    ]


def problems_by_column(checked: journal.CheckedBatch) -> list[tuple[Any, ...]]:
    return [
        (no, number, name, value, rule, message)
        for no, _rank, number, name, value, rule, message in journal.problem_rows(checked)
    ]


def numbered(rows: list[dict[str, str]]) -> list[tuple[int, dict[str, str]]]:
    return list(enumerate(rows, start=1))


def test_every_kind_of_bad_value_gives_the_rejects_the_rules_give_one_record_at_a_time() -> None:
    mapping = core_txn()
    rows = numbered(bad_journal_rows())
    expected = problems_one_at_a_time(per_record(mapping, rows))
    assert len({row[4] for row in expected}) == 5  # every rule of a journal is exercised
    assert problems_by_column(columnar(mapping, rows)) == expected


def test_standardised_and_typed_fields_are_those_of_one_record_at_a_time() -> None:
    mapping = core_txn()
    rows = numbered(bad_journal_rows())
    records = per_record(mapping, rows)
    checked = columnar(mapping, rows)
    for name in mapping.columns.values():
        if name in ("amount", "booked_at", "currency"):
            continue
        assert checked.text(name).to_pylist() == [r.fields[name] for r in records], name
    typed_amounts = [r.fields["amount"] if not isinstance(r.fields["amount"], str) else None for r in records]
    typed_times = [
        r.fields["booked_at"] if isinstance(r.fields["booked_at"], datetime) else None for r in records
    ]
    assert checked.amount.to_pylist() == typed_amounts
    assert checked.booked_at.to_pylist() == typed_times
    assert checked.currency.to_pylist() == [r.fields["currency"] for r in records]
    assert checked.rejected is not None
    assert checked.rejected.to_pylist() == [bool(r.problems) for r in records]


def test_quality_figures_are_those_of_one_record_at_a_time() -> None:
    mapping = core_txn()
    rows = numbered(bad_journal_rows() * 2)  # repeated values, so distinct counts matter
    batch = Batch(id=1, source_code=mapping.code)
    expected = quality.measure(batch, mapping, per_record(mapping, rows))
    tallies: dict[str, journal.FieldTally] = {}
    mapped = quality.mapped_fields(mapping)
    # In three batches of different sizes: figures add up across batches.
    for start, end in ((0, 7), (7, 50), (50, len(rows))):
        journal.tally_batch(tallies, mapped, columnar(mapping, rows[start:end]))
    assert quality.measures_from_tallies(batch, mapping, len(rows), tallies) == expected


def test_newest_booking_time_counts_unreadable_text_as_the_rules_do() -> None:
    mapping = core_txn()
    rows = numbered(
        [
            {**bad_journal_rows()[0], "TXN_TIME": t}
            for t in ("2026-11-10 09:00:00", "9999-99-99", "2027-01-01T00:00:00.000001+08:00")
        ]
    )
    batch = Batch(id=1, source_code=mapping.code)
    expected = quality.measure(batch, mapping, per_record(mapping, rows))
    tallies: dict[str, journal.FieldTally] = {}
    journal.tally_batch(tallies, quality.mapped_fields(mapping), columnar(mapping, rows))
    assert quality.measures_from_tallies(batch, mapping, len(rows), tallies) == expected


EVERY_TRANSFORM = (
    "strip",
    "half_width",
    "traditional_to_simplified",
    "upper",
    "lower",
    "digits",
    "address",
    "phone",
)
TRICKY_TEXT = st.text(
    alphabet=st.sampled_from(
        list(" \t\n\x0b\x0c\r\x1c\x1f\x85\xa0\u3000abcXYZ019-()，,.Ｋ１２ａ銀行后ßﬁ\ufffd")
    ),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(values=st.lists(TRICKY_TEXT, min_size=1, max_size=20), step=st.sampled_from(EVERY_TRANSFORM))
def test_any_text_is_standardised_as_one_value_at_a_time(values: list[str], step: str) -> None:
    mapping = dataclasses.replace(
        core_txn(),
        transforms={"description": (step,), "counterparty": ("strip", step, "upper")},
        values={"description": {"a": "ｂ", "X": "  y ", "銀行": "银行"}},
    )
    for target in ("description", "counterparty"):
        expected = [standardise(mapping, dict.fromkeys(mapping.columns, value))[target] for value in values]
        assert (
            journal.standardise_column(mapping, target, pa.array(values, pa.string())).to_pylist() == expected
        )


def write_csv(path: Path, header: list[str], rows: list[list[str]], *, encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def raw_records(mapping: Mapping, path: Path, *, records_per_batch: int) -> list[tuple[int, dict[str, str]]]:
    found = []
    for table in journal.read_batches(mapping, path, records_per_batch=records_per_batch):
        for row in table.to_pylist():
            number = row.pop(journal.RECORD_NO)
            found.append((number, row))
    return found


def expected_records(mapping: Mapping, path: Path) -> list[tuple[int, dict[str, str]]]:
    return [
        (number, {column: raw.get(column) or "" for column in mapping.columns})
        for number, raw in read_rows(mapping, path)
    ]


def test_csv_files_are_read_as_pythons_csv_module_reads_them(tmp_path: Path) -> None:
    mapping = core_txn()
    good = [
        "T1",
        "K001",
        "6222",
        "2026-11-10 09:00:00",
        "C",
        "1,000.00",
        "CNY",
        "salary",
        "online",
        '某, "公司"',
        "two\nlines",
    ]
    cases = {
        "plain": (HEADER, [good] * 5),
        "quoted_and_blank_lines": (HEADER, [good, [], good]),
        "missing_column": (HEADER[:-2], [good[:-2]] * 3),
        "ragged_rows": (HEADER, [good, good[:4], [*good, "extra"], good]),
        "header_only": (HEADER, []),
    }
    for name, (header, rows) in cases.items():
        path = write_csv(tmp_path / f"core_txn_{name}.csv", header, rows)
        assert raw_records(mapping, path, records_per_batch=2) == expected_records(mapping, path), name
    # Quotes as hand-made files have them: inside a field, after a closing quote, around spaces,
    # and one never closed (which swallows the rest of the file into one field).
    lines = ",".join(HEADER) + '\nT1,K001,ab"c,"2026"-11-10,C, "1" ,CNY\nT2,"K0""01",\n"T3,K001,x\n'
    path = tmp_path / "core_txn_quotes.csv"
    path.write_text(lines, encoding="utf-8")
    assert raw_records(mapping, path, records_per_batch=2) == expected_records(mapping, path)


def test_a_byte_order_mark_is_kept_or_dropped_as_the_encoding_says(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "core_txn_bom.csv", HEADER, [["T1", "K001"] + [""] * 9], encoding="utf-8-sig")
    for encoding in ("utf-8", "utf-8-sig"):
        mapping = dataclasses.replace(core_txn(), encoding=encoding)
        assert raw_records(mapping, path, records_per_batch=10) == expected_records(mapping, path), encoding


def test_gb18030_journals_are_decoded_as_one_record_at_a_time(tmp_path: Path) -> None:
    mapping = dataclasses.replace(core_txn(), encoding="gb18030")
    rows = [
        ["T1", "K001", "6222", "2026-11-10 09:00:00", "C", "1", "CNY", "工资", "柜面", "某某公司", "备注€"]
    ] * 3
    path = write_csv(tmp_path / "core_txn_gb.csv", HEADER, rows, encoding="gb18030")
    assert raw_records(mapping, path, records_per_batch=2) == expected_records(mapping, path)


def test_batches_hold_fixed_record_counts_whatever_the_reader(tmp_path: Path) -> None:
    mapping = core_txn()
    path = write_csv(
        tmp_path / "core_txn_many.csv", HEADER, [[f"T{i}", "K001"] + [""] * 9 for i in range(25)]
    )
    sizes = [table.num_rows for table in journal.read_batches(mapping, path, records_per_batch=7)]
    assert sizes == [7, 7, 7, 4]


# --- loading: the whole delivery against the per-record reference ---------------------------------


def reference_load(
    mapping: Mapping, rows: list[tuple[int, dict[str, str]]], owners: dict[str, int], loaded: set[str]
) -> tuple[list[tuple[Any, ...]], list[dict[str, Any]], int, list[CleanRecord]]:
    """Rejects, lake rows and duplicates as the per-record load made them from the same rules."""
    records = per_record(mapping, rows)
    rejects = [
        (r.record_no, r.fields.get("source_customer_no"), p.field, p.value, p.rule, p.message)
        for r in records
        for p in r.problems
    ]
    lake_rows, seen, duplicates = [], set(), 0
    for record in (r for r in records if not r.problems):
        fields = record.fields
        number = str(fields["source_customer_no"])
        if number not in owners:
            rejects.append(
                (record.record_no, number, "source_customer_no", number, "customer.unknown", UNKNOWN)
            )
            continue
        txn_id = f"{mapping.code}:{fields['txn_id']}"
        if txn_id in seen or txn_id in loaded:
            duplicates += 1
            seen.add(txn_id)
            continue
        seen.add(txn_id)
        lake_rows.append(
            {
                "txn_id": txn_id,
                "customer_id": owners[number],
                "account_no": fields.get("account_no") or "",
                "booked_at": fields["booked_at"],
                "direction": fields["direction"],
                "amount": fields["amount"],
                "currency": fields["currency"],
                "category": fields.get("category") or "other",
                "channel": fields.get("channel") or "other",
                "counterparty": fields.get("counterparty") or None,
                "description": fields.get("description") or None,
            }
        )
    return rejects, lake_rows, duplicates, records


UNKNOWN = "No customer of this source has this number; load the customer first."
LAKE_COLUMNS = list(lake_repository.TRANSACTION_SCHEMA.names)


def lake_rows(lake: Lake) -> list[dict[str, Any]]:
    table = lake.query(
        f"SELECT {', '.join(LAKE_COLUMNS)} FROM {lake.scan_expression('transactions')} ORDER BY txn_id"
    )
    return table.to_pylist()


def masked(field_name: str, value: Any) -> Any:
    if value in (None, ""):
        return None
    return mask(MaskKind.ACCOUNT_NUMBER, str(value)[:300]) if field_name == "account_no" else str(value)[:300]


def with_short_line(path: Path, after: int, line: str) -> Path:
    """Insert a record with too few fields (Python's csv module fills them with nothing)."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines.insert(after, line)
    path.write_text("".join(lines), encoding="utf-8")
    return path


@pytest.mark.usefixtures("demo")
def test_a_journal_in_small_batches_loads_exactly_what_the_rules_give_one_record_at_a_time(
    db: Session, lake: Lake, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    core = [core_row("K001", "王强", WANG)]
    ingest_file(db, JOB, source="core", path=write_core(tmp_path, "core_customers_1.csv", core))
    earlier = [txn("E1", "K001", "2026-11-10 09:00:00", "C", "5")]
    ingest_file(db, JOB, source="core_txn", path=write_transactions(tmp_path, "core_txn_1.csv", earlier))
    before = lake_rows(lake)
    mapping = core_txn()
    bad = bad_journal_rows()
    # Overlap with the earlier delivery, and repeats inside this one, some batches apart.
    again = [{**bad[0], "TXN_NO": "E1"}, {**bad[0], "TXN_NO": "T0"}, {**bad[1], "TXN_NO": "R1"}]
    again.append({**bad[2], "TXN_NO": "R1", "AMT": "7"})
    rows = bad[:40] + again + bad[40:] + again
    path = with_short_line(write_transactions(tmp_path, "core_txn_2.csv", rows), 30, "Z1,K001\n")
    monkeypatch.setattr(settings, "journal_batch_records", 4)
    result = ingest_file(db, JOB, source="core_txn", path=path)

    owners = repo.customer_ids_for(db, "core", ["K001"])
    loaded = {str(row["txn_id"]) for row in before}
    expected_rejects, expected_rows, duplicates, records = reference_load(
        mapping, list(read_rows(mapping, path)), owners, loaded
    )
    assert duplicates >= 6  # the lake's E1 twice, T0 twice, R1 three times after its first
    assert [
        (r["record_no"], r["source_customer_no"], r["field"], r["value"], r["rule"], r["message"])
        for r in result.rejects
    ] == [
        (no, number, name, masked(name, value), rule, text)
        for no, number, name, value, rule, text in expected_rejects
    ]
    assert (result.read, result.loaded, result.duplicates, result.rejected) == (
        len(records),
        len(expected_rows),
        duplicates,
        len({reject[0] for reject in expected_rejects}),
    )
    by_id = sorted(before + expected_rows, key=lambda row: str(row["txn_id"]))
    assert lake_rows(lake) == by_id
    batch = db.get(Batch, result.batch_id)
    assert batch is not None
    expected_quality = quality.measure(batch, mapping, records)
    stored_quality = [
        {key: getattr(row, key) for key in expected_quality[0]}
        for row in repo.field_quality_of(db, [batch.id])
    ]
    assert stored_quality == expected_quality


@pytest.mark.usefixtures("demo")
def test_a_journal_refused_half_way_through_leaves_nothing_in_the_lake(
    db: Session, lake: Lake, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    core = [core_row("K001", "王强", WANG)]
    ingest_file(db, JOB, source="core", path=write_core(tmp_path, "core_customers_1.csv", core))
    monkeypatch.setattr(settings, "journal_batch_records", 2)
    good = [txn(f"T{i}", "K001", "2026-11-10 09:00:00", "C", "5") for i in range(6)]
    path = write_transactions(tmp_path, "core_txn_latin.csv", good)
    path.write_bytes(path.read_bytes() + b"T9,K001,,2026-11-10 09:00:00,C,5,CNY,,,caf\xe9,\n")
    result = ingest_file(db, JOB, source="core_txn", path=path)
    assert (result.status, result.message) == (
        "refused",
        f"the file is not utf-8 (byte {path.stat().st_size - 3})",
    )
    secret = tmp_path / "core_txn_c3.csv"
    write_csv(secret, [*HEADER, "PIN"], [["T1", "K001"] + [""] * 10])
    assert ingest_file(db, JOB, source="core_txn", path=secret).status == "refused"
    assert not lake.has_dataset("transactions")


@pytest.mark.usefixtures("demo")
def test_transactions_sent_to_the_api_follow_the_same_rules_as_a_journal(
    db: Session, lake: Lake, tmp_path: Path
) -> None:
    core = [core_row("K001", "王强", WANG)]
    ingest_file(db, JOB, source="core", path=write_core(tmp_path, "core_customers_1.csv", core))
    mapping = core_txn()
    # Records as a client sends them: some columns missing altogether.
    records = [{k: v for k, v in row.items() if v} for row in bad_journal_rows()[:30]]
    result = ingest_records(db, JOB, source="core_txn", records=records, label="api")
    owners = repo.customer_ids_for(db, "core", ["K001"])
    expected_rejects, expected_rows, duplicates, _ = reference_load(mapping, numbered(records), owners, set())
    assert [(r["record_no"], r["field"], r["rule"]) for r in result.rejects] == [
        (no, name, rule) for no, _number, name, _value, rule, _text in expected_rejects
    ]
    assert (result.loaded, result.duplicates) == (len(expected_rows), duplicates)
    assert lake_rows(lake) == sorted(expected_rows, key=lambda row: str(row["txn_id"]))


def test_business_months_are_those_of_beijing_time_before_and_after_its_daylight_saving_years() -> None:
    moments = [
        datetime(1986, 5, 31, 15, 30, tzinfo=UTC) + timedelta(days=day, hours=day % 24)
        for day in range(0, 15000, 7)
    ]
    booked = pa.array(moments, pa.timestamp("us", tz="UTC"))
    zoned = pc.strftime(booked.cast(pa.timestamp("us", tz="Asia/Shanghai")), format="%Y-%m").to_pylist()
    assert lake_repository.business_months(booked).to_pylist() == zoned
    recent = booked.filter(pc.greater_equal(booked, pa.scalar(datetime(1992, 1, 1, tzinfo=UTC), booked.type)))
    assert lake_repository.business_months(recent).to_pylist() == zoned[-len(recent) :]
