"""Transaction journals column-at-a-time: read, standardise and validate a record batch with Arrow.

The rules are those of ``records`` (``standardise``, ``validate_transaction``), applied to whole
columns: the common shapes of a value (plain ASCII text, ``1234.56``, ``2026-11-10 09:00:00``) are
handled by Arrow kernels, and every other value goes through the very same per-value Python
function as a single record would, once per distinct value. So a journal gives the same fields,
problems and messages either way, at a few microseconds a row instead of some hundreds.

Pure functions over files and Arrow tables; ``service.transactions`` decides what to store.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from bankcrm.integration.mapping import Mapping
from bankcrm.integration.records import (
    AMOUNT_MESSAGE,
    DIRECTION_MESSAGE,
    REQUIRED_MESSAGE,
    TIME_MESSAGE,
    TRANSACTION_REQUIRED,
    UNDECODABLE,
    UNDECODABLE_MESSAGE,
    FileRefused,
    _refuse_c3,
    parse_amount,
    parse_booking_time,
    read_rows,
    standardise_value,
)

RECORD_NO = "record_no"
# What str.strip() removes from ASCII text (it includes the file, group, record and unit separators).
ASCII_WHITESPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f "
_ASCII_WHITESPACE_CLASS = r"[\t\n\x0b\x0c\r\x1c-\x1f ]"
# Amounts and times whose shape Arrow parses exactly as Decimal and datetime.fromisoformat do;
# anything else is parsed value by value in Python. Times before 1992 are left to Python, as
# Beijing kept daylight saving time until 1991 and only a fixed UTC+8 is applied here.
_PLAIN_AMOUNT = r"^[0-9]{1,15}(\.[0-9]{1,2})?$"
_PLAIN_TIME = r"^(199[2-9]|[2-9][0-9]{3})-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$"
_PLAIN_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
_BEIJING_OFFSET_S = 8 * 3600
_UTF8_BOM = b"\xef\xbb\xbf"
AMOUNT_TYPE = pa.decimal128(20, 2)
TIME_TYPE = pa.timestamp("us", tz="UTC")


# --- reading -------------------------------------------------------------------------------------


def check_decodable(mapping: Mapping, path: Path) -> None:
    """Refuse a file that is not text in its mapping's encoding before anything of it is loaded:
    batches are written as they are read, so an undecodable byte half-way must be found first."""
    if mapping.format == "parquet" or (mapping.format == "fixed" and mapping.fixed_unit == "bytes"):
        return  # typed columns, or fields decoded one by one with undecodable bytes flagged
    decoder = codecs.getincrementaldecoder(mapping.encoding)()
    offset = 0
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 22), b""):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                raise FileRefused(f"the file is not {mapping.encoding} (byte {offset + exc.start})") from exc
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise FileRefused(f"the file is not {mapping.encoding} (byte {offset + exc.start})") from exc


def read_batches(mapping: Mapping, path: Path, *, records_per_batch: int) -> Iterator[pa.Table]:
    """The file's records as tables of raw text, one column per mapped source column (missing ones
    empty) and ``record_no`` from 1, ``records_per_batch`` records at a time.

    CSV is parsed by Arrow. Where Arrow and Python's csv module could read a file differently (a
    byte-order mark that a plain utf-8 mapping keeps in the first column's name, a row with too few
    or too many fields), the rest of the file is read by ``records.read_rows``, as one record at a
    time always was; fixed-width and Parquet files are read by it too.
    """
    columns = list(mapping.columns)
    if mapping.format == "csv" and not _keeps_byte_order_mark(mapping, path):
        rows = _csv_records(mapping, path, columns)
    else:
        rows = _python_records(mapping, path, columns, skip=0)
    yield from _rebatched(rows, records_per_batch)


def _keeps_byte_order_mark(mapping: Mapping, path: Path) -> bool:
    with path.open("rb") as handle:
        return mapping.encoding == "utf-8" and handle.read(3) == _UTF8_BOM


def _csv_records(mapping: Mapping, path: Path, columns: list[str]) -> Iterator[pa.Table]:
    read = 0
    try:
        reader = pcsv.open_csv(
            path,
            read_options=pcsv.ReadOptions(encoding=mapping.encoding, block_size=1 << 24),
            parse_options=pcsv.ParseOptions(delimiter=mapping.delimiter, newlines_in_values=True),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(columns, pa.string()),
                include_columns=columns,
                include_missing_columns=True,
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        if "Empty CSV file" in str(exc):
            _refuse_c3([])
            return
        yield from _python_records(mapping, path, columns, skip=0)
        return
    _refuse_c3(_header_of(mapping, path))
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            return
        except pa.ArrowInvalid:
            # A row Arrow will not parse (too few or too many fields): Python's csv module fills or
            # drops fields, as it always did, from the first record Arrow has not handed over.
            yield from _python_records(mapping, path, columns, skip=read)
            return
        table = _raw_table(pa.Table.from_batches([batch]), columns, first=read + 1)
        read += table.num_rows
        yield table


def _header_of(mapping: Mapping, path: Path) -> list[str]:
    """The column names as Python's csv module reads them (Arrow was told only the mapped ones)."""
    with path.open(encoding=mapping.encoding, errors="replace", newline="") as handle:
        return next(csv.reader(handle, delimiter=mapping.delimiter), [])


def _raw_table(table: pa.Table, columns: list[str], *, first: int) -> pa.Table:
    """Mapped source columns as non-null text (a column the file lacks is empty, as dict.get gave)."""
    arrays = {}
    for column in columns:
        values = table[column].combine_chunks() if table.num_rows else pa.array([], pa.string())
        arrays[column] = pc.fill_null(values.cast(pa.string()), "")
    arrays[RECORD_NO] = pa.array(range(first, first + table.num_rows), pa.int64())
    return pa.table(arrays)


def _python_records(mapping: Mapping, path: Path, columns: list[str], *, skip: int) -> Iterator[pa.Table]:
    chunk: list[tuple[int, dict[str, str]]] = []
    for number, raw in read_rows(mapping, path):
        if number <= skip:
            continue
        chunk.append((number, raw))
        if len(chunk) == 65_536:
            yield records_table(columns, chunk)
            chunk = []
    if chunk:
        yield records_table(columns, chunk)


def records_table(columns: list[str], rows: list[tuple[int, dict[str, str]]]) -> pa.Table:
    """Raw records (record number, values by source column) as the table ``read_batches`` yields."""
    arrays = {column: pa.array([raw.get(column) or "" for _, raw in rows], pa.string()) for column in columns}
    arrays[RECORD_NO] = pa.array([number for number, _ in rows], pa.int64())
    return pa.table(arrays)


def _rebatched(tables: Iterator[pa.Table], size: int) -> Iterator[pa.Table]:
    """Tables of exactly ``size`` records (the last may be shorter), whatever the reader's blocks:
    a batch's number then names the same records on every run, which keeps lake files exact."""
    pending: list[pa.Table] = []
    held = 0
    for table in tables:
        pending.append(table)
        held += table.num_rows
        while held >= size:
            whole = pa.concat_tables(pending)
            yield whole.slice(0, size).combine_chunks()
            rest = whole.slice(size)
            pending, held = [rest], rest.num_rows
    if held:
        yield pa.concat_tables(pending).combine_chunks()


# --- standardising -------------------------------------------------------------------------------


def _by_distinct_value(values: pa.Array, function: Callable[[str], Any], type_: pa.DataType) -> pa.Array:
    """``function`` applied to each distinct value once (Python work grows with distinct values)."""
    distinct = pc.unique(values)
    results = pa.array([function(value) for value in distinct.to_pylist()], type_)
    return pc.take(results, pc.index_in(values, value_set=distinct))


def _patched(base: pa.Array, where: pa.Array, values: pa.Array, function: Callable[[str], Any]) -> pa.Array:
    """``base`` with the rows ``where`` is true replaced by ``function`` of their ``values``."""
    if not pc.any(where).as_py():
        return base
    replaced = _by_distinct_value(pc.filter(values, where), function, base.type)
    # Scatter back: the n-th chosen row takes the n-th result.
    position = pc.subtract(pc.cumulative_sum(pc.cast(where, pa.int64())), 1)
    spread = pc.take(replaced, pc.if_else(where, position, 0))
    return pc.if_else(where, spread, base)


def _ascii_strip(values: pa.Array) -> pa.Array:
    # Byte-wise, so several times quicker than utf8_trim; an ASCII byte is never part of a longer
    # UTF-8 sequence, so text that is not ASCII stays valid (and takes the per-value path anyway).
    return pc.ascii_trim(values, characters=ASCII_WHITESPACE)


def _ascii_step(step: str, values: pa.Array) -> pa.Array:
    """A transform of ``records._apply`` on ASCII text, where most of them change nothing."""
    if step == "strip":
        return _ascii_strip(values)
    if step == "upper":
        return pc.ascii_upper(values)
    if step == "lower":
        return pc.ascii_lower(values)
    if step == "digits":
        return pc.replace_substring_regex(values, pattern="[^0-9]", replacement="")
    if step == "address":
        return pc.replace_substring_regex(values, pattern=_ASCII_WHITESPACE_CLASS, replacement="")
    if step == "phone":
        return pc.replace_substring_regex(values, pattern=r"[\t\n\x0b\x0c\r\x1c-\x1f \-()]", replacement="")
    return values  # half-width and traditional-to-simplified leave ASCII alone; amounts etc. are typed later


def standardise_column(mapping: Mapping, target: str, raw: pa.Array) -> pa.Array:
    """The column feeding ``target`` as ``records.standardise_value`` leaves each of its values."""
    if len(raw) == 0:
        return pa.array([], pa.string())

    def in_python(value: str) -> str:
        return standardise_value(mapping, target, value)

    plain = pc.string_is_ascii(raw)
    stripped = _ascii_strip(raw)
    translated = mapping.values.get(target, {})
    if translated:
        # A translated code may become any text: such rows take the per-value path too.
        plain = pc.and_(
            plain, pc.invert(pc.is_in(stripped, value_set=pa.array(list(translated), pa.string())))
        )
    values = stripped
    for step in mapping.transforms.get(target, ()):
        if step != "strip":  # the value is stripped already
            values = _ascii_step(step, values)
    # No strip at the end: no ASCII step adds whitespace, and those that remove characters remove
    # every ASCII space too, so none is uncovered at an edge.
    return _patched(values, pc.invert(plain), raw, in_python)


def standardise_table(mapping: Mapping, raw: pa.Table) -> dict[str, pa.Array]:
    """Canonical fields of a raw batch; a field fed by two columns takes the later, as dicts did."""
    fields: dict[str, pa.Array] = {}
    for column, target in mapping.columns.items():
        fields[target] = standardise_column(mapping, target, raw[column].combine_chunks())
    return fields


# --- validating ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """Records failing one rule on one field: the mask over the batch and the values to report."""

    field: str
    rule: str
    message: str
    failing: pa.Array  # boolean, one per record
    values: pa.Array | None  # the reported value of each record (None: the rule reports none)


@dataclass
class CheckedBatch:
    """A batch after validation: fields (amount and booked_at typed where they parse), problems in
    the order ``validate_transaction`` finds them, and which records have any."""

    record_no: pa.Array
    fields: dict[str, pa.Array]
    amount: pa.Array  # decimal, null where absent or not an amount
    booked_at: pa.Array  # UTC timestamp, null where absent or not a time
    currency: pa.Array
    problems: list[Problem] = field(default_factory=list)
    rejected: pa.Array | None = None

    @property
    def size(self) -> int:
        return len(self.record_no)

    def text(self, name: str) -> pa.Array:
        """A canonical field's text; a field the mapping does not feed is empty, as dict.get gave."""
        found = self.fields.get(name)
        return found if found is not None else pa.array([""] * self.size, pa.string())


def _filled(values: pa.Array) -> pa.Array:
    return pc.not_equal(pc.binary_length(values), 0)


def _none(size: int) -> pa.Array:
    return pa.nulls(size, pa.bool_()).fill_null(False)


def _where(values: pa.Array, mask: pa.Array) -> pa.Array:
    """``values`` where ``mask`` holds, without a copy when it holds everywhere (the usual case)."""
    return values if pc.all(mask).as_py() is not False else pc.filter(values, mask)


def parse_amounts(text: pa.Array) -> pa.Array:
    """Amounts as ``records.parse_amount`` reads them; null where it returns None or text is empty."""
    unseparated = pc.replace_substring(text, pattern=",", replacement="")
    plain = pc.match_substring_regex(unseparated, pattern=_PLAIN_AMOUNT)
    fast = pc.if_else(plain, unseparated, pa.scalar(None, pa.string())).cast(AMOUNT_TYPE)
    fast = pc.if_else(pc.greater(fast, pa.scalar(Decimal("0.00"), AMOUNT_TYPE)), fast, None)
    others = pc.and_(pc.invert(plain), _filled(text))
    return _patched(fast, others, text, parse_amount)


def parse_booking_times(text: pa.Array) -> pa.Array:
    """Booking times as ``records.parse_booking_time`` reads them; null where it returns None."""
    normal = pc.replace_substring(text, pattern=" ", replacement="T")
    plain = pc.match_substring_regex(normal, pattern=_PLAIN_TIME)
    parsed = pc.strptime(
        pc.if_else(plain, normal, pa.scalar(None, pa.string())),
        format=_PLAIN_TIME_FORMAT,
        unit="s",
        error_is_null=True,
    )
    # strptime rolls 30 February over into March; a time whose day changed is not plain.
    stated_day = pc.cast(pc.utf8_slice_codeunits(pc.if_else(plain, normal, None), 8, 10), pa.int64())
    plain = pc.fill_null(pc.and_(plain, pc.equal(pc.day(parsed), stated_day)), False)
    as_utc = pc.subtract(parsed.cast(pa.int64()), _BEIJING_OFFSET_S)
    as_utc = pc.multiply(as_utc, 1_000_000).cast(TIME_TYPE)
    fast = pc.if_else(plain, as_utc, pa.scalar(None, TIME_TYPE))
    others = pc.and_(pc.invert(plain), _filled(text))
    return _patched(fast, others, text, parse_booking_time)


def _upper_currency(text: pa.Array) -> pa.Array:
    defaulted = pc.if_else(_filled(text), text, "CNY")
    upper = pc.ascii_upper(defaulted)
    return _patched(upper, pc.invert(pc.string_is_ascii(defaulted)), defaulted, str.upper)


def _required_fields(mapping: Mapping) -> list[str]:
    return list(dict.fromkeys((*mapping.required, *TRANSACTION_REQUIRED)))


def validate_batch(mapping: Mapping, record_no: pa.Array, fields: dict[str, pa.Array]) -> CheckedBatch:
    """``validate_transaction`` over a batch of standardised fields."""
    checked = CheckedBatch(
        record_no=record_no,
        fields=fields,
        amount=parse_amounts(_text(fields, "amount", len(record_no))),
        booked_at=parse_booking_times(_text(fields, "booked_at", len(record_no))),
        currency=_upper_currency(_text(fields, "currency", len(record_no))),
    )
    for name, values in fields.items():
        # The mark is not ASCII: a column of ASCII text (most of a journal) cannot carry it.
        ascii_only = pc.all(pc.string_is_ascii(values)).as_py() is not False
        broken = _none(len(values)) if ascii_only else pc.match_substring(values, pattern=UNDECODABLE)
        checked.problems.append(Problem(name, "text.encoding", UNDECODABLE_MESSAGE, broken, values))
    for name in _required_fields(mapping):
        empty = pc.invert(_filled(checked.text(name)))
        checked.problems.append(Problem(name, "required", REQUIRED_MESSAGE, empty, None))
    amount, booked_at, direction = (
        checked.text("amount"),
        checked.text("booked_at"),
        checked.text("direction"),
    )
    checked.problems += [
        Problem("amount", "amount.format", AMOUNT_MESSAGE, _unparsed(amount, checked.amount), amount),
        Problem(
            "booked_at", "datetime.format", TIME_MESSAGE, _unparsed(booked_at, checked.booked_at), booked_at
        ),
        Problem(
            "direction",
            "direction.known",
            DIRECTION_MESSAGE,
            pc.and_(_filled(direction), pc.invert(pc.is_in(direction, value_set=pa.array(["in", "out"])))),
            direction,
        ),
    ]
    checked.problems = [p for p in checked.problems if pc.any(p.failing).as_py()]
    rejected = _none(checked.size)
    for problem in checked.problems:
        rejected = pc.or_(rejected, problem.failing)
    checked.rejected = rejected
    return checked


def _text(fields: dict[str, pa.Array], name: str, size: int) -> pa.Array:
    found = fields.get(name)
    return found if found is not None else pa.array([""] * size, pa.string())


def _unparsed(text: pa.Array, parsed: pa.Array) -> pa.Array:
    return pc.and_(_filled(text), pc.is_null(parsed))


def problem_rows(checked: CheckedBatch) -> list[tuple[int, int, str, str, str | None, str, str]]:
    """(record number, rank, customer number, field, unmasked value, rule, message) of every problem:
    sorted by record and rank, they are in the order ``validate_transaction`` lists them."""
    numbers = checked.text("source_customer_no")
    found = []
    for rank, problem in enumerate(checked.problems):
        where = pc.indices_nonzero(problem.failing)
        records = pc.take(checked.record_no, where).to_pylist()
        customers = pc.take(numbers, where).to_pylist()
        values = (
            pc.take(problem.values, where).to_pylist()
            if problem.values is not None
            else [None] * len(records)
        )
        found += [
            (record, rank, customer, problem.field, value, problem.rule, problem.message)
            for record, customer, value in zip(records, customers, values, strict=True)
        ]
    found.sort(key=lambda row: (row[0], row[1]))
    return found


# --- quality -------------------------------------------------------------------------------------


@dataclass
class FieldTally:
    """One field's quality counts over the batches so far (``quality.measure``'s figures)."""

    filled: int = 0
    valid: int = 0
    distinct: list[pa.Array] = field(default_factory=list)  # each batch's distinct values
    distinct_other: list[pa.Array] = field(default_factory=list)  # unparsed text of a typed field
    newest: str = ""

    def distinct_count(self) -> int:
        return sum(
            len(pc.unique(pa.concat_arrays(parts))) for parts in (self.distinct, self.distinct_other) if parts
        )


def tally_batch(tallies: dict[str, FieldTally], mapped: list[str], checked: CheckedBatch) -> None:
    """Add a batch to the per-field counts: filled, valid (no problem on the field), distinct texts,
    and the newest booking time as ISO text (typed values print as ISO; an unparsed one as it came)."""
    for name in mapped:
        tally = tallies.setdefault(name, FieldTally())
        text = checked.text(name) if name != "currency" else checked.currency
        filled = _filled(text)
        broken = _none(checked.size)
        for problem in checked.problems:
            if problem.field == name:
                broken = pc.or_(broken, problem.failing)
        tally.filled += pc.sum(filled).as_py() or 0
        tally.valid += pc.sum(pc.and_(filled, pc.invert(broken))).as_py() or 0
        typed = {"amount": checked.amount, "booked_at": checked.booked_at}.get(name)
        if typed is None:
            tally.distinct.append(pc.unique(_where(text, filled)))
            continue
        # A typed value prints as one text and an unparsed one as itself; the two never coincide
        # (text that prints like a parsed value parses), so their distinct counts add up.
        tally.distinct.append(pc.unique(pc.drop_null(typed)))
        unparsed = pc.filter(text, _unparsed(text, typed))
        tally.distinct_other.append(pc.unique(unparsed))
        if name == "booked_at":
            tally.newest = max(tally.newest, _newest_text(typed, unparsed))


def _newest_text(times: pa.Array, unparsed: pa.Array) -> str:
    latest = pc.max(times).as_py()
    candidates = [latest.isoformat() if isinstance(latest, datetime) else ""]
    if len(unparsed):
        candidates.append(str(pc.max(unparsed).as_py()))
    return max(candidates)
