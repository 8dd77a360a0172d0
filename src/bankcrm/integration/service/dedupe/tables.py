"""Reading the file a user brings: CSV in UTF-8 or GB18030 (detected, or as told), or Parquet.

Every value comes back as text, as the user typed it; standardisation happens elsewhere.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

# Tried in this order: a GB18030 file is almost never valid UTF-8, while plain ASCII is both.
DETECTED_ENCODINGS = ("utf-8", "gb18030")
CSV_SUFFIXES = frozenset({".csv", ".txt", ".tsv"})
SPREADSHEET_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls", ".ods"})
DELIMITERS = ",;\t|"


class DedupeInputError(ValueError):
    """The input cannot be deduplicated as given; the message says what to fix."""


@dataclass(frozen=True)
class Table:
    path: Path
    columns: list[str]
    rows: list[dict[str, str]]
    encoding: str | None  # None for Parquet, which carries its own types


def read_table(path: Path, *, encoding: str | None = None) -> Table:
    if not path.is_file():
        raise DedupeInputError(f"No such file: {path}")
    suffix = path.suffix.lower()
    if suffix in SPREADSHEET_SUFFIXES:
        raise DedupeInputError(
            f"{path.name}: spreadsheets are not read directly; save the sheet as CSV (UTF-8) and pass that."
        )
    if suffix == ".parquet":
        return _read_parquet(path)
    if suffix not in CSV_SUFFIXES:
        raise DedupeInputError(f"{path.name}: expected a .csv, .txt, .tsv or .parquet file.")
    text, used = _decode(path, encoding)
    columns, rows = _parse_csv(path, text)
    return Table(path=path, columns=columns, rows=rows, encoding=used)


def _read_parquet(path: Path) -> Table:
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for a damaged or foreign file
        raise DedupeInputError(f"{path.name} is not a readable Parquet file ({exc}).") from exc
    rows = [{k: "" if v is None else str(v) for k, v in row.items()} for row in table.to_pylist()]
    return Table(path=path, columns=list(table.column_names), rows=rows, encoding=None)


def _decode(path: Path, encoding: str | None) -> tuple[str, str]:
    data = path.read_bytes()
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise DedupeInputError(f"Unknown encoding {encoding!r}; use utf-8 or gb18030.") from None
        try:
            return _without_bom(data.decode(encoding)), encoding
        except UnicodeDecodeError as exc:
            raise DedupeInputError(
                f"{path.name} is not {encoding}: byte {exc.start} cannot be read. "
                f"Try --encoding {'gb18030' if encoding.lower().startswith('utf') else 'utf-8'}."
            ) from None
    for candidate in DETECTED_ENCODINGS:
        try:
            return _without_bom(data.decode(candidate)), candidate
        except UnicodeDecodeError:
            continue
    raise DedupeInputError(f"{path.name} is neither UTF-8 nor GB18030; name its encoding with --encoding.")


def _without_bom(text: str) -> str:
    return text.removeprefix("\ufeff")  # Excel's "CSV UTF-8" starts with one


def _parse_csv(path: Path, text: str) -> tuple[list[str], list[dict[str, str]]]:
    first_line = text.split("\n", 1)[0]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(first_line, delimiters=DELIMITERS)
    except csv.Error:
        dialect = csv.excel  # one column, or nothing to tell from: plain commas
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)
    columns = [name.strip() for name in reader.fieldnames or []]
    if not any(columns):
        raise DedupeInputError(f"{path.name} has no header row naming its columns.")
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    if repeated:
        raise DedupeInputError(f"{path.name} names the column {repeated[0]!r} twice in its header.")
    reader.fieldnames = columns
    rows = [{k: (v or "") for k, v in row.items() if k is not None} for row in reader]
    return columns, rows
