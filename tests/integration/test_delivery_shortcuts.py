"""The shortcuts that made customer deliveries cheaper give exactly what the longer way gave.

Each test keeps the former code as a reference (standardising value by value through a chain of
``if``s, reading dates with ``strptime`` only, the JSON round trip of a record's fields, the first
history rows made through a survivorship decision) and compares on many values, the awkward ones
included.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bankcrm.core.validation import to_half_width
from bankcrm.integration import records
from bankcrm.integration.mapping import registry
from bankcrm.integration.service import golden, ingest, quality
from bankcrm.integration.survivorship import FIELDS, survivorship

AWKWARD = [
    "",
    " ",
    "　张三　",
    "ＡＢＣ１２３",
    "張三豐",
    "+86 138-0013-8000",
    "（010）1234 5678",
    "北京市 朝阳区，建国路 8 号",
    "a\tb\nc",
    "MiXeD Case@Example.COM",
    "01",
    "ID",
    "I1",
    "2026-06-01",
    "\ufffd",
]


def former_apply(step: str, value: str) -> str:
    if step == "strip":
        return value.strip()
    if step == "half_width":
        return to_half_width(value)
    if step == "traditional_to_simplified":
        return str(records._t2s().convert(value))
    if step == "upper":
        return value.upper()
    if step == "lower":
        return value.lower()
    if step == "digits":
        return re.sub(r"\D", "", to_half_width(value))
    if step == "address":
        return re.sub(r"\s+", "", str(records._t2s().convert(to_half_width(value)))).replace("，", ",")
    if step == "phone":
        return re.sub(r"[\s\-()]", "", to_half_width(value))
    return value


def former_standardise(mapping: Any, raw: dict[str, str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for column, target in mapping.columns.items():
        text = raw.get(column) or ""
        value = mapping.values.get(target, {}).get(text.strip(), text.strip())
        for step in mapping.transforms.get(target, ()):
            value = former_apply(step, value)
        fields[target] = value.strip()
    return fields


@pytest.mark.parametrize("code", ["core", "cards", "online", "core_txn"])
def test_the_standardiser_of_a_mapping_gives_what_value_by_value_standardising_gave(code: str) -> None:
    mapping = registry()[code]
    standardise = records.standardiser(mapping)
    for value in AWKWARD:
        raw = dict.fromkeys(mapping.columns, value)
        assert standardise(raw) == former_standardise(mapping, raw) == records.standardise(mapping, raw)
        for target in mapping.columns.values():
            assert (
                records.standardise_value(mapping, target, value) == former_standardise(mapping, raw)[target]
            )
    assert standardise({}) == former_standardise(mapping, {})


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("０１２ＡａＺ 　\t-()+，,張三丰abc中文09@.XＸ\u3000")), max_size=12)
)
def test_every_transform_of_the_table_is_the_former_one(value: str) -> None:
    for step, transform in records.TRANSFORMS.items():
        assert transform(value) == former_apply(step, value), step


def former_date(value: str, formats: tuple[str, ...]) -> date:
    for fmt in formats:
        try:
            return datetime.strptime(value, fmt).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
    raise ValueError(value)


DATES = [
    "2026-06-01",
    "2026-6-1",
    "2026-02-29",
    "2024-02-29",
    "0000-01-01",
    "0001-01-01",
    "9999-12-31",
    "2026-13-01",
    "20260601",
    "2026/06/01",
    "2026-06-01 ",
    "２０２６-06-01",
    "2026-06-1x",
    "",
]


@pytest.mark.parametrize("formats", [("%Y-%m-%d", "%Y%m%d"), ("%Y%m%d", "%Y-%m-%d"), ("%d-%m-%Y",)])
def test_dates_are_read_as_strptime_reads_them_in_the_mapping_order(formats: tuple[str, ...]) -> None:
    for value in DATES:
        try:
            expected: date | str = former_date(value, formats)
        except ValueError:
            expected = "refused"
        try:
            found: date | str = records._date(value, formats)
        except ValueError:
            found = "refused"
        assert found == expected, value


def test_stored_fields_are_what_the_stored_json_reads_back() -> None:
    fields: dict[str, Any] = {
        "name": "张三",
        "id_number": "110101199003077777",
        "birth_date": date(1990, 3, 7),
        "risk_assessed_on": date(2026, 6, 1),
        "updated_at": datetime(2026, 11, 29, 2, 0, tzinfo=UTC),
        "mobile": None,
        "email": "",
        "count": 3,
        "share": 0.5,
        "flag": True,
        "amount": Decimal("12.30"),
        "tags": ["a", date(2026, 1, 1)],
    }
    assert ingest._as_stored(fields) == json.loads(ingest._canonical(fields))
    assert list(ingest._as_stored(fields)) == list(json.loads(ingest._canonical(fields)))


def former_first_values(
    customer_id: int, record: golden.RecordVersion, mapping: Any, batch_id: int
) -> list[dict[str, Any]]:
    config = survivorship()
    rows = []
    for name in FIELDS:
        candidate = golden._source_candidate(name, record.fields, record, mapping)
        if candidate is not None:
            decision = golden.Decision(name, config.rule_for(name), [candidate], candidate, None)
            rows.append(golden._history_row(customer_id, decision, batch_id, None))
    return rows


@pytest.mark.parametrize(
    "fields",
    [
        {
            "name": "欧阳娜娜",
            "name_en": "Nana Ouyang",
            "mobile": "13800138000",
            "email": "a@b.cn",
            "address": "北京市朝阳区建国路8号",
            "occupation": "教师",
            "income_band": "50k-150k",
            "industry": "教育",
            "risk_level": "C3",
            "risk_assessed_on": "2026-06-01",
            "updated_at": "2026-11-29 02:00:00+00:00",
        },
        {
            "name": "张三",
            "risk_level": "C3",
            "risk_assessed_on": None,
            "mobile": "",
            "updated_at": "not a time",
        },
        {"name": "Li Si", "occupation": "工程师", "risk_level": None, "risk_assessed_on": "2026-01-01"},
        {},
    ],
)
def test_first_history_rows_are_those_of_a_decision_with_one_candidate(fields: dict[str, Any]) -> None:
    mapping = registry()["core"]
    version = golden.RecordVersion("core", "K1", fields, datetime(2026, 11, 29, tzinfo=UTC), 0)
    assert golden.record_first_values(7, version, 3) == former_first_values(7, version, mapping, 3)


def former_measure(batch: Any, mapping: Any, found: list[records.CleanRecord]) -> list[dict[str, Any]]:
    fields = quality.mapped_fields(mapping)
    filled: dict[str, int] = defaultdict(int)
    valid: dict[str, int] = defaultdict(int)
    values: dict[str, set[str]] = defaultdict(set)
    newest: dict[str, str] = {}
    for record in found:
        broken = {problem.field for problem in record.problems}
        for name in fields:
            value = record.fields.get(name)
            if value in (None, ""):
                continue
            text = value.isoformat() if hasattr(value, "isoformat") else str(value)
            filled[name] += 1
            valid[name] += name not in broken
            values[name].add(text)
            if name in quality.TIMESTAMP_FIELDS and text > newest.get(name, ""):
                newest[name] = text
    return [
        {
            "batch_id": batch.id,
            "source_code": mapping.code,
            "field": name,
            "records": len(found),
            "filled": filled[name],
            "valid": valid[name],
            "distinct_values": len(values[name]),
            "newest": newest.get(name, "")[:32] or None,
        }
        for name in fields
    ]


def test_quality_figures_counted_field_by_field_are_those_counted_record_by_record() -> None:
    mapping = registry()["core"]
    rows = [
        {"CUST_NO": "K1", "CUST_NAME": "张三", "CERT_TYPE": "01", "CERT_NO": "110101199003077777"},
        {
            "CUST_NO": "K2",
            "CUST_NAME": "",
            "CERT_TYPE": "09",
            "CERT_NO": "x",
            "MOBILE": "123",
            "UPDATED": "bad",
        },
        {
            "CUST_NO": "K3",
            "CUST_NAME": "李四",
            "CERT_TYPE": "02",
            "CERT_NO": "E1234567",
            "MOBILE": "13800138000",
        },
        {
            "CUST_NO": "K3",
            "CUST_NAME": "李四",
            "CERT_TYPE": "02",
            "CERT_NO": "E1234567",
            "RISK_DATE": "2026-13-01",
        },
        {
            "CUST_NO": "K4",
            "CUST_NAME": "王五",
            "CERT_TYPE": "01",
            "CERT_NO": "110101199003077778",
            "EMAIL": "a@b",
        },
        {"CUST_NO": "K5", "UPDATED": "2026-11-29 08:00:00", "RISK_LEVEL": "C3", "RISK_DATE": "20260601"},
        {"CUST_NO": "K6", "UPDATED": "2026-11-30T01:00:00+08:00", "EMAIL": "ok@bank.cn"},
    ]
    standardise = records.standardiser(mapping)
    found = [records.validate_customer(mapping, n, standardise(raw)) for n, raw in enumerate(rows, start=1)]
    assert any(record.problems for record in found)
    batch = SimpleNamespace(id=5)
    assert quality.measure(batch, mapping, found) == former_measure(batch, mapping, found)
    assert quality.measure(batch, mapping, []) == former_measure(batch, mapping, [])
