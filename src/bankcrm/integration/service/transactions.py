"""Loading a transaction journal into the lake, one record batch at a time.

Each batch is standardised and validated column-at-a-time (``integration.journal``), its rows are
given their customers by a join against the customer source's numbers, stripped of transactions
already loaded (by an earlier delivery, or earlier in this one), and written to the lake at once,
so memory holds one batch, not the delivery. The batch's lake files are named after the delivery's
checksum and the batch's number. A delivery that is loading has no committed batch row, so any
files of it in the lake were left by a run that was killed: they are removed first (after the batch
row is flushed, which makes a second run of the same delivery wait for the first), and the
delivery commits once.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.orm import Session

from bankcrm.core.config import get_settings
from bankcrm.core.i18n import N_
from bankcrm.core.lake import Lake
from bankcrm.core.masking import MaskKind, mask
from bankcrm.customers import lake_repository
from bankcrm.integration import journal
from bankcrm.integration import repository as repo
from bankcrm.integration.mapping import Mapping
from bankcrm.integration.models import Batch
from bankcrm.integration.service import quality

# Files of a batch written at a time: the machine this was measured on has two cores.
LAKE_WRITERS = 2
UNKNOWN_CUSTOMER = N_("No customer of this source has this number; load the customer first.")
# Values of these fields are masked in reject reports (the other journal fields carry no personal data).
SENSITIVE_FIELDS = {"account_no": MaskKind.ACCOUNT_NUMBER}


@dataclass
class JournalLoad:
    """What a delivery's batches add up to while they load."""

    problems: list[dict[str, Any]] = field(default_factory=list)  # validation rejects, by record
    unknown: list[dict[str, Any]] = field(default_factory=list)  # rows of no known customer
    tallies: dict[str, journal.FieldTally] = field(default_factory=dict)
    owners: dict[str, int | None] = field(default_factory=dict)  # customer number -> id, looked up once
    # Txn ids of loadable rows of earlier batches. A set, kept across batches: asking Arrow
    # instead meant hashing every earlier batch's ids again for each batch, quadratic in the
    # delivery (28 of 63 s for a journal of 10.8 million rows).
    seen: set[str] = field(default_factory=set)

    def reject_rows(self) -> list[dict[str, Any]]:
        # As the per-record load listed them: every validation reject, then the unknown customers.
        return self.problems + self.unknown


def delivery_key(mapping: Mapping, checksum: str) -> str:
    return f"{mapping.code}-{checksum[:16]}"


def load_journal(
    session: Session, mapping: Mapping, batch: Batch, checksum: str, tables: Iterable[pa.Table]
) -> list[dict[str, Any]]:
    """Load every record batch of a delivery; sets the batch's counts, records the quality figures
    and returns the reject rows."""
    lake = Lake(get_settings().lake_root)
    key = delivery_key(mapping, checksum)
    state = JournalLoad()
    lake_repository.remove_delivery(lake, key)
    mapped = quality.mapped_fields(mapping)
    # The lake writes (sorting, compressing, syncing: a third of the work) run beside the next
    # batch's validation on the machine's other core; one write at a time, so memory holds at
    # most two batches.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal-lake") as writer:
        writing: Future[int] | None = None
        for number, raw in enumerate(tables):
            batch.read_count += raw.num_rows
            checked = journal.validate_batch(
                mapping, raw[journal.RECORD_NO].combine_chunks(), journal.standardise_table(mapping, raw)
            )
            rows = _rows_of_known_customers(session, mapping, batch, checked, state)
            kept = _new_transactions_only(lake, rows, batch, key, state)
            if writing is not None:
                writing.result()
                writing = None
            if kept.num_rows:
                writing = writer.submit(
                    lake_repository.write_transactions,
                    lake,
                    kept,
                    batch_key=f"{key}-{number:05d}",
                    workers=LAKE_WRITERS,
                )
            batch.loaded_count += kept.num_rows
            # Measured while the batch is being written: the figures do not change what is written.
            journal.tally_batch(state.tallies, mapped, checked)
            state.problems += [_problem_row(batch.id, row) for row in journal.problem_rows(checked)]
        quality.record_tallies(session, batch, mapping, state.tallies)
        if writing is not None:
            writing.result()
    return state.reject_rows()


def _problem_row(batch_id: int, row: tuple[int, int, str, str, str | None, str, str]) -> dict[str, Any]:
    record_no, _rank, number, field_name, value, rule, message = row
    return {
        "batch_id": batch_id,
        "record_no": record_no,
        "source_customer_no": number,
        "field": field_name,
        "value": _masked(field_name, value),
        "rule": rule,
        "message": message,
    }


def _masked(field_name: str, value: str | None) -> str | None:
    if value in (None, ""):
        return None
    text = str(value)[:300]
    kind = SENSITIVE_FIELDS.get(field_name)
    return mask(kind, text) if kind else text


def _customer_ids(session: Session, mapping: Mapping, numbers: pa.Array, state: JournalLoad) -> pa.Array:
    """Each row's customer id (null when the source has no such customer), asking the store only
    for numbers no earlier batch asked about."""
    distinct = pc.unique(numbers)
    new = [number for number in distinct.to_pylist() if number not in state.owners]
    if new:
        found = repo.customer_ids_for(session, mapping.customer_source or mapping.code, new)
        state.owners.update({number: found.get(number) for number in new})
    ids = pa.array([state.owners[number] for number in distinct.to_pylist()], pa.int64())
    return pc.take(ids, pc.index_in(numbers, value_set=distinct))


def _rows_of_known_customers(
    session: Session, mapping: Mapping, batch: Batch, checked: journal.CheckedBatch, state: JournalLoad
) -> pa.Table:
    """The batch's valid records as lake rows; those naming no known customer become rejects."""
    rejected = checked.rejected
    if rejected is None or not pc.any(rejected).as_py():
        take = pa.array(range(checked.size), pa.uint64())
        numbers = checked.text("source_customer_no")
    else:
        take = pc.indices_nonzero(pc.invert(rejected))
        numbers = pc.take(checked.text("source_customer_no"), take)
    customer_ids = _customer_ids(session, mapping, numbers, state)
    unknown = pc.is_null(customer_ids)
    if pc.any(unknown).as_py():
        records = pc.filter(pc.take(checked.record_no, take), unknown).to_pylist()
        for record_no, number in zip(records, pc.filter(numbers, unknown).to_pylist(), strict=True):
            state.unknown.append(
                {
                    "batch_id": batch.id,
                    "record_no": record_no,
                    "source_customer_no": number,
                    "field": "source_customer_no",
                    "value": number,
                    "rule": "customer.unknown",
                    "message": UNKNOWN_CUSTOMER,
                }
            )
    rows = pc.indices_nonzero(pc.invert(unknown))
    chosen = pc.take(take, rows)
    every_row = len(chosen) == checked.size  # the usual journal: no copies needed

    def pick(values: pa.Array) -> pa.Array:
        return values if every_row else pc.take(values, chosen)

    def column(name: str) -> pa.Array:
        return pick(checked.text(name))

    def or_default(name: str, default: str | None) -> pa.Array:
        values = column(name)
        filled = pc.not_equal(pc.binary_length(values), 0)
        if pc.all(filled).as_py() is not False:
            return values
        return pc.if_else(filled, values, pa.scalar(default, pa.string()))

    return pa.table(
        {
            "txn_id": pc.binary_join_element_wise(f"{mapping.code}:", column("txn_id"), ""),
            "customer_id": customer_ids if every_row else pc.take(customer_ids, rows),
            "account_no": column("account_no"),
            "booked_at": pick(checked.booked_at),
            "direction": column("direction"),
            "amount": pick(checked.amount),
            "currency": pick(checked.currency),
            "category": or_default("category", "other"),
            "channel": or_default("channel", "other"),
            "counterparty": or_default("counterparty", None),
            "description": or_default("description", None),
        },
        schema=lake_repository.TRANSACTION_SCHEMA,
    )


def _new_transactions_only(
    lake: Lake, table: pa.Table, batch: Batch, key: str, state: JournalLoad
) -> pa.Table:
    """Drop transactions seen earlier in this delivery or loaded by an earlier one (deliveries that
    overlap, a journal re-extracted): counted as duplicates, never written twice."""
    ids = table["txn_id"].combine_chunks()
    first = _first_sightings(ids.to_pylist(), state.seen)
    months = set(lake_repository.business_months(table["booked_at"]).to_pylist())
    known = lake_repository.loaded_transaction_ids(lake, ids, months, except_delivery=key)
    keep = pc.and_(first, pc.invert(pc.is_in(ids, value_set=pa.array(sorted(known), pa.string()))))
    kept = table if pc.all(keep).as_py() is not False else table.filter(keep)
    batch.duplicate_count += table.num_rows - kept.num_rows
    return kept


def _first_sightings(ids: list[str], seen: set[str]) -> pa.Array:
    """For each id, whether it is the first of its value in the delivery (not in ``seen``, not
    earlier in ``ids``); ``seen`` then holds them all."""
    fresh = set(ids)
    if len(fresh) == len(ids) and seen.isdisjoint(fresh):  # the usual batch: every row its first
        seen |= fresh
        return pa.nulls(len(ids), pa.bool_()).fill_null(True)
    first = []
    for value in ids:
        first.append(value not in seen)
        seen.add(value)
    return pa.array(first, pa.bool_())
