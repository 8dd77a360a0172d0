"""Declarative source mappings: one TOML file per source system, no code.

A mapping says how a source delivers its files (pattern, format, encoding, fixed-width layout),
which source column feeds which canonical field, how values are translated and standardised, and
which fields are required. Errors name the line of the mapping file, so whoever maintains the
mapping sees where to look.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

MAPPING_DIR = Path(__file__).resolve().parent / "sources"

CUSTOMER_FIELDS = frozenset(
    {
        "source_customer_no",
        "branch_code",
        "kind",
        "name",
        "name_en",
        "id_type",
        "id_number",
        "birth_date",
        "gender",
        "mobile",
        "email",
        "address",
        "occupation",
        "income_band",
        "industry",
        "risk_level",
        "risk_assessed_on",
        "updated_at",
    }
)
TRANSACTION_FIELDS = frozenset(
    {
        "source_customer_no",
        "txn_id",
        "account_no",
        "booked_at",
        "direction",
        "amount",
        "currency",
        "category",
        "channel",
        "counterparty",
        "description",
    }
)
KINDS = {"customers": CUSTOMER_FIELDS, "transactions": TRANSACTION_FIELDS}
# Without a [rules] unique list: a customer number and an ID number should each appear once per
# delivery, and so should a transaction id.
DEFAULT_UNIQUE = {
    "customers": ("source_customer_no", "id_number"),
    "transactions": ("txn_id",),
}
FORMATS = frozenset({"csv", "fixed", "parquet"})
FIXED_UNITS = frozenset({"bytes", "characters"})
ENCODINGS = frozenset({"utf-8", "utf-8-sig", "gb18030"})
TRANSFORMS = frozenset(
    {
        "strip",
        "half_width",
        "traditional_to_simplified",
        "upper",
        "lower",
        "digits",
        "address",
        "phone",
        "amount",
        "date",
        "datetime",
    }
)
# Columns that would carry authentication data (JR/T 0171-2020 class C3): a file that has one is refused.
C3_COLUMN = re.compile(r"(pass(word|wd)?|pwd|pin|cvv2?|cvc|cvn|track|otp|密码|口令)", re.IGNORECASE)


class MappingError(ValueError):
    def __init__(self, path: Path, line: int | None, message: str) -> None:
        where = f"{path.name}, line {line}" if line else path.name
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line
        self.message = message


@dataclass(frozen=True)
class Mapping:
    code: str
    name: str
    kind: str
    file_pattern: str
    format: str
    encoding: str
    delimiter: str
    columns: dict[str, str]  # source column -> canonical field
    widths: dict[str, tuple[int, int]] = field(default_factory=dict)  # fixed-width: column -> (start, end)
    # Fixed-width positions count bytes of the encoded line (as host systems write them: a Chinese
    # character takes two bytes in GB18030) or decoded characters.
    fixed_unit: str = "bytes"
    values: dict[str, dict[str, str]] = field(
        default_factory=dict
    )  # canonical field -> source value -> value
    transforms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    date_formats: tuple[str, ...] = ("%Y-%m-%d", "%Y%m%d", "%Y/%m/%d")
    trust: int = 50  # survivorship: higher wins for "most trusted source" rules
    default_unit: str | None = None  # org unit code for new customers whose record names no branch
    customer_source: str | None = None  # transactions: the source whose customer numbers they carry
    # Data quality: fields expected to be unique within a delivery, and how often deliveries arrive.
    unique: tuple[str, ...] = ()
    expected_every_hours: int = 24
    path: Path | None = None

    def accepts(self, file_name: str) -> bool:
        return fnmatch.fnmatch(file_name, self.file_pattern)


def line_of(text: str, needle: str, *, after: str | None = None) -> int | None:
    """The line number where ``needle`` first appears (after a section header, if given)."""
    lines = text.splitlines()
    start = 0
    if after:
        for index, line in enumerate(lines):
            if line.strip() == f"[{after}]":
                start = index + 1
                break
    for index in range(start, len(lines)):
        if needle in lines[index]:
            return index + 1
    return None


def load_mapping(path: Path) -> Mapping:
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        raise MappingError(path, int(found.group(1)) if found else None, f"not valid TOML: {exc}") from exc
    return _build(path, text, data)


def _require(path: Path, text: str, data: dict[str, Any], section: str, key: str) -> Any:
    value = data.get(section, {}).get(key)
    if value in (None, ""):
        raise MappingError(path, line_of(text, f"[{section}]"), f"[{section}] needs '{key}'")
    return value


def _build(path: Path, text: str, data: dict[str, Any]) -> Mapping:
    code = str(_require(path, text, data, "source", "code"))
    kind = str(_require(path, text, data, "source", "kind"))
    if kind not in KINDS:
        raise MappingError(
            path,
            line_of(text, "kind", after="source"),
            f"kind '{kind}' is not one of {', '.join(sorted(KINDS))}",
        )
    fmt = str(data["source"].get("format", "csv"))
    if fmt not in FORMATS:
        raise MappingError(
            path,
            line_of(text, "format", after="source"),
            f"format '{fmt}' is not one of {', '.join(sorted(FORMATS))}",
        )
    encoding = str(data["source"].get("encoding", "utf-8")).lower()
    if encoding not in ENCODINGS:
        raise MappingError(
            path,
            line_of(text, "encoding", after="source"),
            f"encoding '{encoding}' is not one of {', '.join(sorted(ENCODINGS))}",
        )
    canonical = KINDS[kind]
    columns: dict[str, str] = {}
    for column, target in data.get("columns", {}).items():
        if target not in canonical:
            raise MappingError(
                path,
                line_of(text, column, after="columns"),
                f"column '{column}' maps to unknown field '{target}'",
            )
        if C3_COLUMN.search(column) or C3_COLUMN.search(str(target)):
            raise MappingError(
                path,
                line_of(text, column, after="columns"),
                f"column '{column}' looks like authentication data (C3), which is never loaded",
            )
        columns[column] = str(target)
    if kind == "customers" and not data["source"].get("default_unit"):
        raise MappingError(
            path,
            line_of(text, "[source]"),
            "[source] needs 'default_unit': the org unit code new customers belong to",
        )
    if kind == "transactions" and not data["source"].get("customer_source"):
        raise MappingError(
            path,
            line_of(text, "[source]"),
            "[source] needs 'customer_source': the source whose customer numbers the rows carry",
        )
    if "source_customer_no" not in columns.values():
        raise MappingError(path, line_of(text, "[columns]"), "a column must map to 'source_customer_no'")
    widths: dict[str, tuple[int, int]] = {}
    if fmt == "fixed":
        for column, span in data.get("fixed", {}).items():
            if not (
                isinstance(span, list)
                and len(span) == 2
                and all(isinstance(x, int) for x in span)
                and 0 <= span[0] < span[1]
            ):
                raise MappingError(
                    path,
                    line_of(text, column, after="fixed"),
                    f"fixed-width column '{column}' needs [start, end] with start < end",
                )
            widths[column] = (span[0], span[1])
        missing = sorted(set(columns) - set(widths))
        if missing:
            raise MappingError(path, line_of(text, "[fixed]"), f"no [fixed] width for {', '.join(missing)}")
    fixed_unit = data["source"].get("fixed_unit", "bytes")
    if fixed_unit not in FIXED_UNITS:
        raise MappingError(
            path,
            line_of(text, "fixed_unit", after="source"),
            f"fixed_unit {fixed_unit!r} is not one of {', '.join(sorted(FIXED_UNITS))}",
        )
    transforms: dict[str, tuple[str, ...]] = {}
    for target, steps in data.get("transforms", {}).items():
        unknown = [step for step in steps if step not in TRANSFORMS]
        if unknown or target not in canonical:
            raise MappingError(
                path,
                line_of(text, target, after="transforms"),
                f"unknown transform {unknown[0]!r}" if unknown else f"unknown field '{target}'",
            )
        transforms[target] = tuple(steps)
    values = {
        str(target): {str(k): str(v) for k, v in table.items()}
        for target, table in data.get("values", {}).items()
    }
    for target in values:
        if target not in canonical:
            raise MappingError(
                path, line_of(text, f"[values.{target}]"), f"unknown field '{target}' in [values]"
            )
    required = tuple(data.get("rules", {}).get("required", ()))
    for target in required:
        if target not in canonical:
            raise MappingError(
                path, line_of(text, "required", after="rules"), f"unknown required field '{target}'"
            )
    unique = tuple(data.get("rules", {}).get("unique", DEFAULT_UNIQUE[kind]))
    for target in unique:
        if target not in canonical:
            raise MappingError(
                path, line_of(text, "unique", after="rules"), f"unknown unique field '{target}'"
            )
    every = data["source"].get("expected_every_hours", 24)
    if not isinstance(every, int) or isinstance(every, bool) or not 1 <= every <= 24 * 31:
        raise MappingError(
            path,
            line_of(text, "expected_every_hours", after="source"),
            f"expected_every_hours must be a whole number of hours from 1 to 744, not {every!r}",
        )
    return Mapping(
        code=code,
        name=str(data["source"].get("name", code)),
        kind=kind,
        file_pattern=str(data["source"].get("file_pattern", "*")),
        format=fmt,
        encoding=encoding,
        delimiter=str(data["source"].get("delimiter", ",")),
        columns=columns,
        widths=widths,
        fixed_unit=fixed_unit,
        values=values,
        transforms=transforms,
        required=required,
        date_formats=tuple(data.get("rules", {}).get("date_formats", ("%Y-%m-%d", "%Y%m%d", "%Y/%m/%d"))),
        trust=int(data["source"].get("trust", 50)),
        default_unit=data["source"].get("default_unit"),
        customer_source=data["source"].get("customer_source"),
        unique=unique,
        expected_every_hours=every,
        path=path,
    )


def registry(directory: Path = MAPPING_DIR) -> dict[str, Mapping]:
    """Every mapping in the sources folder, by source code. Adding a source = adding a file.

    Parsed again only when a file was added, removed or changed: golden records ask for the mappings
    once per customer, and re-reading every file each time cost a sixth of loading a delivery.
    """
    files = sorted(directory.glob("*.toml"))
    stamp = tuple((path, path.stat().st_mtime_ns, path.stat().st_size) for path in files)
    return dict(_parsed(directory, stamp))


@lru_cache(maxsize=4)
def _parsed(directory: Path, stamp: tuple[tuple[Path, int, int], ...]) -> dict[str, Mapping]:
    mappings: dict[str, Mapping] = {}
    for path, _modified, _size in stamp:
        mapping = load_mapping(path)
        if mapping.code in mappings:
            raise MappingError(
                path,
                line_of(path.read_text(encoding="utf-8"), "code", after="source"),
                f"source code '{mapping.code}' is already used by another mapping",
            )
        mappings[mapping.code] = mapping
    return mappings
