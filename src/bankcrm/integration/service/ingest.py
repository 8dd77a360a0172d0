"""Ingestion: land a delivery, validate every record, load the good ones exactly once, report the rest.

A customer delivery goes in two steps, each one transaction. *Landing* reads, standardises and
validates every record, reports the rejects and stores the good records as landed records (batch
status ``landed``). *Resolving* links each landed record to the customer holding its ID or makes it a
new golden record, and turns it into a source record (status ``loaded``). Landing is what the source
system waits for (its rejects are known once it commits); resolving is the golden-record work, the
same kind as matching's. ``ingest_file`` does both in the caller's one transaction (the web page and
the API); ``bankcrm ingest`` commits after each.

Exactly once, even after a crash: a delivery is identified by its checksum; what a step writes to the
operational store commits in one transaction with the batch row, and the files a journal writes to
the lake are named after the checksum, so re-running a delivery that died half-way replaces its lake
files and commits once; one that died after landing is resolved; one that finished is skipped.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy.orm import Session

from bankcrm.audit import service as audit
from bankcrm.core.collection import paused_garbage_collection
from bankcrm.core.config import get_settings
from bankcrm.core.context import Actor
from bankcrm.core.db import loading_cache, utcnow
from bankcrm.core.i18n import N_
from bankcrm.core.masking import MaskKind, mask
from bankcrm.customers.service import bulk, customers, holdings
from bankcrm.identity.service import orgs
from bankcrm.integration import journal
from bankcrm.integration import repository as repo
from bankcrm.integration.mapping import Mapping, registry
from bankcrm.integration.models import Batch, SourceRecord
from bankcrm.integration.records import (
    CleanRecord,
    FileRefused,
    read_rows,
    standardiser,
    validate_customer,
)
from bankcrm.integration.repository import LandedRow
from bankcrm.integration.service import golden, quality, transactions

SENSITIVE_FIELDS = {
    "id_number": MaskKind.ID_NUMBER,
    "mobile": MaskKind.MOBILE,
    "email": MaskKind.EMAIL,
    "address": MaskKind.ADDRESS,
    "account_no": MaskKind.ACCOUNT_NUMBER,
}
NEW_CUSTOMER_RULE = "new customer from this source"
SAME_ID_RULE = "same ID type and number"
NOT_YET_WRITTEN = 1 << 62  # sorts after every record id
# New customers' first-value history is written as it is made: held for a whole delivery, its five
# or so rows per customer were the largest thing in memory (about 2 KiB per new customer).
HISTORY_ROWS_AT_A_TIME = 50_000
UNKNOWN_SOURCE = N_("There is no source %(code)s; add a mapping file for it.")


class UnknownSource(ValueError):
    pass


@dataclass
class IngestResult:
    batch_id: int | None
    source: str
    file_name: str
    status: str  # landed | loaded | skipped | refused
    read: int = 0
    loaded: int = 0
    rejected: int = 0
    duplicates: int = 0
    linked: int = 0
    created: int = 0
    message: str | None = None
    rejects: list[dict[str, Any]] = field(default_factory=list)


def mappings() -> dict[str, Mapping]:
    return registry()


def mapping_for(code: str) -> Mapping:
    found = mappings().get(code)
    if found is None:
        raise UnknownSource(code)
    return found


def checksum_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _keep_copy(source: str, path: Path, checksum: str) -> None:
    """Keep the delivery as received (for audit and re-runs); atomic, like every write to var/."""
    landing = get_settings().var_dir / "landing" / source
    landing.mkdir(parents=True, exist_ok=True)
    target = landing / f"{checksum[:16]}-{path.name}"
    if not target.exists():
        temporary = landing / f".{target.name}.tmp"
        shutil.copyfile(path, temporary)
        os.replace(temporary, target)


def ingest_file(session: Session, actor: Actor, *, source: str, path: Path) -> IngestResult:
    """Land and resolve a delivered file in the caller's one transaction."""
    return resolve_landed(session, actor, land_file(session, actor, source=source, path=path))


def resolve_landed(session: Session, actor: Actor, landed: IngestResult) -> IngestResult:
    """Resolve what ``land_file`` or ``ingest_records`` landed; any other outcome is already final.

    An earlier delivery of the same source still waiting (its run died after landing) is resolved
    first: resolved after this one, its older values would overwrite this one's."""
    if landed.status != "landed" or landed.batch_id is None:
        return landed
    for earlier in repo.landed_batch_ids_before(session, landed.source, landed.batch_id):
        resolve_batch(session, actor, earlier)
    resolved = resolve_batch(session, actor, landed.batch_id)
    resolved.rejects = landed.rejects + resolved.rejects
    return resolved


def land_file(session: Session, actor: Actor, *, source: str, path: Path) -> IngestResult:
    """Step one: a customer delivery's records validated and stored as landed (status ``landed``), its
    rejects reported; a journal loads whole. A delivery landed earlier but never resolved (the
    process died between the steps) answers ``landed`` again, so the caller resolves it now."""
    mapping = mapping_for(source)
    checksum = checksum_of(path)
    previous = repo.find_batch(session, source, checksum)
    if previous is not None:
        if previous.status == "landed":
            return _result_of(previous, [])
        return IngestResult(
            batch_id=previous.id,
            source=source,
            file_name=path.name,
            status="skipped",
            message=N_("This file was already loaded in batch %(id)s; nothing was done."),
        )
    if not mapping.accepts(path.name):
        return _refused(
            session,
            actor,
            mapping,
            path.name,
            checksum,
            f"the file name does not match {mapping.file_pattern}",
        )
    if mapping.kind == "transactions":
        return _ingest_journal(session, actor, mapping, path, checksum)
    with paused_garbage_collection():  # reading makes a dict per record too
        try:
            records = _validated(mapping, read_rows(mapping, path))
        except FileRefused as exc:
            return _refused(session, actor, mapping, path.name, checksum, str(exc))
        _keep_copy(source, path, checksum)
        return _land_records(session, actor, mapping, path.name, checksum, records)


def _ingest_journal(
    session: Session, actor: Actor, mapping: Mapping, path: Path, checksum: str
) -> IngestResult:
    """A journal is read batch by batch while it loads; what would refuse it (bytes that are not its
    encoding, authentication data in its header) is found before anything of it is loaded."""
    try:
        journal.check_decodable(mapping, path)
        tables = journal.read_batches(mapping, path, records_per_batch=get_settings().journal_batch_records)
        first = next(tables, None)
    except FileRefused as exc:
        return _refused(session, actor, mapping, path.name, checksum, str(exc))
    _keep_copy(mapping.code, path, checksum)
    batches = itertools.chain([first] if first is not None else [], tables)
    return _load_journal(session, actor, mapping, path.name, checksum, batches)


def ingest_records(
    session: Session, actor: Actor, *, source: str, records: list[dict[str, str]], label: str
) -> IngestResult:
    """Small batches and real-time events sent to the API: the same pipeline as a file, both steps in
    the caller's transaction."""
    mapping = mapping_for(source)
    checksum = hashlib.sha256(json.dumps(records, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    previous = repo.find_batch(session, source, checksum)
    if previous is not None:
        return resolve_landed(session, actor, _result_of(previous, []))
    numbered = list(enumerate(records, start=1))
    if mapping.kind == "transactions":
        table = journal.records_table(list(mapping.columns), numbered)
        return _load_journal(session, actor, mapping, label, checksum, [table])
    with paused_garbage_collection():
        landed = _land_records(session, actor, mapping, label, checksum, _validated(mapping, numbered))
        return resolve_landed(session, actor, landed)


def _refused(
    session: Session, actor: Actor, mapping: Mapping, name: str, checksum: str, why: str
) -> IngestResult:
    batch = Batch(
        source_code=mapping.code,
        file_name=name,
        checksum=checksum,
        kind=mapping.kind,
        status="refused",
        message=why,
        finished_at=utcnow(),
        started_by=actor.username,
    )
    repo.add(session, batch)
    session.flush()
    audit.record_event(
        session,
        actor,
        action="ingest_refused",
        entity_type="ingest_batch",
        entity_id=batch.id,
        details={"source": mapping.code, "file": name, "why": why},
    )
    return _result_of(batch, [])


def _result_of(batch: Batch, rejects: list[dict[str, Any]]) -> IngestResult:
    return IngestResult(
        batch_id=batch.id,
        source=batch.source_code,
        file_name=batch.file_name,
        status=batch.status,
        read=batch.read_count,
        loaded=batch.loaded_count,
        rejected=batch.rejected_count,
        duplicates=batch.duplicate_count,
        linked=batch.linked_count,
        created=batch.created_count,
        message=batch.message,
        rejects=rejects,
    )


def _validated(mapping: Mapping, rows: Iterable[tuple[int, dict[str, str]]]) -> list[CleanRecord]:
    """A customer delivery's records standardised and validated as they are read: each raw row is
    let go once its record is made, so a delivery never holds all its raw rows beside its records."""
    standardise = standardiser(mapping)
    return [validate_customer(mapping, number, standardise(raw)) for number, raw in rows]


def _land_records(
    session: Session,
    actor: Actor,
    mapping: Mapping,
    name: str,
    checksum: str,
    records: list[CleanRecord],
) -> IngestResult:
    """Step one of a customer delivery: its quality measured, its rejects stored and its good records
    stored as landed, with the batch in status ``landed``."""
    batch = Batch(
        source_code=mapping.code,
        file_name=name,
        checksum=checksum,
        kind=mapping.kind,
        status="landed",
        read_count=len(records),
        started_by=actor.username,
    )
    repo.add(session, batch)
    session.flush()
    with paused_garbage_collection():
        quality.record_measures(session, batch, mapping, records)
        reject_rows = [row for record in records if record.problems for row in _reject_row(batch.id, record)]
        good = [record for record in records if not record.problems]
        repo.insert_landed_records(session, _landed_rows(batch, good, reject_rows))
        _store_rejects(session, batch, reject_rows)
        _audit_batch(
            session, actor, batch, "ingest_landed", read=batch.read_count, rejected=batch.rejected_count
        )
        return _result_of(batch, reject_rows)


def _landed_rows(
    batch: Batch, good: list[CleanRecord], reject_rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The good records as landed rows: canonical fields, content hash and ID digest taken now, so
    resolving only reads them. A customer number repeated in the delivery is rejected."""
    seen_numbers: set[str] = set()
    rows = []
    for record in good:
        number = str(record.fields["source_customer_no"])
        if number in seen_numbers:
            reject_rows.append(
                {
                    "batch_id": batch.id,
                    "record_no": record.record_no,
                    "source_customer_no": number,
                    "field": "source_customer_no",
                    "value": number,
                    "rule": "record.repeated",
                    "message": N_("The same source customer number appears earlier in this delivery."),
                }
            )
            continue
        seen_numbers.add(number)
        text = _canonical(record.fields)
        rows.append(
            {
                "batch_id": batch.id,
                "record_no": record.record_no,
                "source_customer_no": number,
                "content_hash": hashlib.sha256(text.encode()).hexdigest(),
                "fields": text,
                "id_digest": customers.identity_digest(
                    str(record.fields["id_type"]), str(record.fields["id_number"])
                ),
            }
        )
    return rows


def resolve_batch(session: Session, actor: Actor, batch_id: int) -> IngestResult:
    """Step two of a customer delivery: each landed record linked to the customer holding its ID or
    made a new golden record, and stored as a source record; the batch becomes ``loaded``."""
    batch = repo.get_batch(session, batch_id)
    if batch is None or batch.status != "landed":
        raise ValueError(f"batch {batch_id} is not a landed batch")
    mapping = mapping_for(batch.source_code)
    with paused_garbage_collection(), loading_cache(session, get_settings().loading_cache_mib):
        reject_rows: list[dict[str, Any]] = []
        _load_customers(session, actor, mapping, batch, repo.landed_records(session, batch.id), reject_rows)
        repo.delete_landed_records(session, batch.id)
        batch.status = "loaded"
        return _finish(session, actor, batch, reject_rows)


def _load_journal(
    session: Session, actor: Actor, mapping: Mapping, name: str, checksum: str, tables: Iterable[pa.Table]
) -> IngestResult:
    batch = Batch(
        source_code=mapping.code,
        file_name=name,
        checksum=checksum,
        kind=mapping.kind,
        status="loaded",
        read_count=0,
        loaded_count=0,
        duplicate_count=0,
        started_by=actor.username,
    )
    repo.add(session, batch)
    session.flush()
    reject_rows = transactions.load_journal(session, mapping, batch, checksum, tables)
    return _finish(session, actor, batch, reject_rows)


def _finish(session: Session, actor: Actor, batch: Batch, reject_rows: list[dict[str, Any]]) -> IngestResult:
    """Store the rejects, close the batch and audit it (in the step's one transaction)."""
    _store_rejects(session, batch, reject_rows)
    batch.finished_at = utcnow()
    _audit_batch(
        session,
        actor,
        batch,
        "ingest",
        read=batch.read_count,
        loaded=batch.loaded_count,
        rejected=batch.rejected_count,
        duplicates=batch.duplicate_count,
    )
    return _result_of(batch, reject_rows)


def _store_rejects(session: Session, batch: Batch, reject_rows: list[dict[str, Any]]) -> None:
    """A step's rejects, counted on the batch by record (a record may break several rules)."""
    repo.add_rejects(session, reject_rows)
    batch.rejected_count = (batch.rejected_count or 0) + len({row["record_no"] for row in reject_rows})


def _audit_batch(session: Session, actor: Actor, batch: Batch, action: str, **counts: int) -> None:
    session.flush()
    audit.record_event(
        session,
        actor,
        action=action,
        entity_type="ingest_batch",
        entity_id=batch.id,
        details={"source": batch.source_code, "file": batch.file_name, **counts},
    )


def _masked(field_name: str, value: Any) -> str | None:
    if value in (None, ""):
        return None
    text = str(value)[:300]
    kind = SENSITIVE_FIELDS.get(field_name)
    return mask(kind, text) if kind else text


def _reject_row(batch_id: int, record: CleanRecord) -> list[dict[str, Any]]:
    number = record.fields.get("source_customer_no")
    return [
        {
            "batch_id": batch_id,
            "record_no": record.record_no,
            "source_customer_no": number,
            "field": p.field,
            "value": _masked(p.field, p.value),
            "rule": p.rule,
            "message": p.message,
        }
        for p in record.problems
    ]


def _canonical(fields: dict[str, Any]) -> str:
    return json.dumps(fields, sort_keys=True, default=str, ensure_ascii=False)


@dataclass
class Incoming:
    """A new or changed record of a customer delivery, on its way to becoming a source record.

    A record the store already holds is updated through its ORM object; a new one is inserted with
    the others in one statement once its customer is known (a rejected one never is), which costs a
    fraction of building and flushing an ORM object per record.
    """

    record: CleanRecord
    existing: SourceRecord | None
    number: str
    text: str  # the canonical JSON of the fields, also what the content hash is taken of
    content: str
    digest: str
    received_at: datetime = field(default_factory=utcnow)
    customer_id: int | None = None
    match_rule: str | None = None

    def version(self, source_code: str, position: int) -> golden.RecordVersion:
        """The record as survivorship reads it, ``position`` ordering it among its customer's."""
        return golden.RecordVersion(
            source_code, self.number, _as_stored(self.record.fields), self.received_at, position
        )


def _as_stored(fields: dict[str, Any]) -> dict[str, Any]:
    """``json.loads(_canonical(fields))`` - the fields as the stored record reads back - without
    writing and parsing the JSON again: text, numbers and None stay, dates and times become the
    text ``str`` gives them (``default=str``); anything else takes the JSON round trip."""
    return {name: _stored_value(fields[name]) for name in sorted(fields)}


_AS_IS = frozenset({str, int, float, bool, type(None)})


def _stored_value(value: Any) -> Any:
    if type(value) in _AS_IS:
        return value
    if type(value) in (date, datetime):
        return str(value)
    return json.loads(_canonical({"v": value}))["v"]


def _load_customers(
    session: Session,
    actor: Actor,
    mapping: Mapping,
    batch: Batch,
    landed: list[LandedRow],
    reject_rows: list[dict[str, Any]],
) -> None:
    """Upsert source records, then match: same ID type and number links to the existing customer; a
    record nobody matches becomes a new customer (its golden record) through the bulk loader.

    Set-based: what the delivery's records already are, the customers holding their IDs and what
    survivorship reads about those customers are looked up for the whole delivery in a few queries;
    the decisions are made in memory record by record, as one-at-a-time loading made them, and
    written with a few statements per table. Per record, the queries (and the autoflush before each)
    made loading a hundred times slower.
    """
    changed = _changed_records(session, mapping, batch, landed)
    holders = customers.find_customers_by_identity(session, {item.digest for item in changed})
    for item in changed:
        # The customer it belongs to: the one it is linked to, else the one holding its ID.
        linked = item.existing.customer_id if item.existing is not None else None
        item.customer_id = linked if linked is not None else holders.get(item.digest)
        if item.existing is not None and linked is not None:
            item.match_rule = item.existing.match_rule
        elif item.customer_id is not None:
            item.match_rule = SAME_ID_RULE
    # Read before any source record changes: each decision below sees the delivery's earlier records
    # in their new version and its later ones as they were.
    state = golden.read_delivery_state(session, {i.customer_id for i in changed if i.customer_id is not None})
    unmatched: list[Incoming] = []
    links: list[tuple[int, str]] = []
    steps: list[tuple[int, golden.RecordVersion]] = []
    for item in changed:
        batch.loaded_count += 1
        if item.customer_id is None:
            unmatched.append(item)
            continue
        if item.existing is None or item.existing.customer_id is None:
            links.append((item.customer_id, item.number))
        # Records not yet written come after the written ones, in this order, as their ids will.
        position = item.existing.id if item.existing is not None else NOT_YET_WRITTEN + len(steps)
        steps.append((item.customer_id, item.version(mapping.code, position)))
        batch.linked_count += 1
    holdings.link_existing_customers(
        session, actor, source_system=mapping.code, links=links, match_rule=SAME_ID_RULE
    )
    golden.refresh_delivery(session, actor, state, steps=steps, batch_id=batch.id)
    if unmatched:
        _create_golden_records(session, actor, mapping, batch, unmatched, reject_rows)
    _store(session, mapping, batch, changed)


def _changed_records(
    session: Session, mapping: Mapping, batch: Batch, landed: list[LandedRow]
) -> list[Incoming]:
    """The landed records that are new or changed; an unchanged one is counted."""
    known = repo.source_records_by_number(session, mapping.code, [row[1] for row in landed])
    changed = []
    for record_no, number, content, text, digest in landed:
        existing = known.get(number)
        if existing is not None and existing.content_hash == content:
            batch.duplicate_count += 1
            continue
        # The fields as the stored record reads back, which is what survivorship takes (_as_stored).
        record = CleanRecord(record_no, json.loads(text))
        changed.append(Incoming(record, existing, number, text, content, digest))
    return changed


def _store(session: Session, mapping: Mapping, batch: Batch, changed: list[Incoming]) -> None:
    """Write the delivery's records: the known ones updated, the new ones with a customer inserted
    in one statement (in delivery order, so their ids keep it); the rest never became a customer."""
    rows = []
    for item in changed:
        stored = item.existing
        if stored is None:
            if item.customer_id is not None:
                rows.append(_new_source_record(mapping, batch, item))
            continue
        if item.customer_id is None:
            session.delete(stored)  # never became a customer: keep no half-loaded source record
            continue
        stored.batch_id, stored.content_hash, stored.id_digest = batch.id, item.content, item.digest
        stored.fields, stored.received_at = item.text, item.received_at
        stored.customer_id, stored.match_rule = item.customer_id, item.match_rule
    session.flush()
    repo.insert_source_records(session, rows)


def _new_source_record(mapping: Mapping, batch: Batch, item: Incoming) -> dict[str, Any]:
    return {
        "source_code": mapping.code,
        "source_customer_no": item.number,
        "batch_id": batch.id,
        "content_hash": item.content,
        "fields": item.text,
        "id_digest": item.digest,
        "customer_id": item.customer_id,
        "match_rule": item.match_rule,
        "received_at": item.received_at,
    }


def _create_golden_records(
    session: Session,
    actor: Actor,
    mapping: Mapping,
    batch: Batch,
    unmatched: list[Incoming],
    reject_rows: list[dict[str, Any]],
) -> None:
    units: dict[object, int] = {}
    loadable = []
    for item in unmatched:
        branch = item.record.fields.get("branch_code")
        if branch not in units:
            units[branch] = _unit_for(session, mapping, item.record)
        loadable.append(
            bulk.CustomerRecord(
                fields=_customer_fields(item.record.fields), org_unit_id=units[branch], primary_rm_id=None
            )
        )
    result = bulk.load_customers(session, actor, loadable, batch_label=f"ingest-{batch.id}")
    rejected = {r.index for r in result.rejected}
    for problem in result.rejected:
        item = unmatched[problem.index]
        reject_rows.append(
            {
                "batch_id": batch.id,
                "record_no": item.record.record_no,
                "source_customer_no": item.number,
                "field": problem.field,
                "value": _masked(problem.field, problem.value),
                "rule": problem.rule,
                "message": problem.message,
            }
        )
    created = iter(result.loaded_ids)
    first_values: list[dict[str, Any]] = []
    links: list[tuple[int, str]] = []
    for index, item in enumerate(unmatched):
        if index in rejected:
            batch.loaded_count -= 1
            continue
        customer_id = next(created)
        item.customer_id, item.match_rule = customer_id, NEW_CUSTOMER_RULE
        links.append((customer_id, item.number))
        version = item.version(mapping.code, 0)
        first_values += golden.record_first_values(customer_id, version, batch.id)
        if len(first_values) >= HISTORY_ROWS_AT_A_TIME:
            golden.add_history(session, first_values)
            first_values = []
        batch.created_count += 1
    holdings.link_new_customers(
        session,
        actor,
        source_system=mapping.code,
        links=links,
        match_rule=NEW_CUSTOMER_RULE,
        batch_label=f"ingest-{batch.id}",
    )
    golden.add_history(session, first_values)


def _unit_for(session: Session, mapping: Mapping, record: CleanRecord) -> int:
    """New customers belong to the branch the source names, else to the mapping's default unit."""
    for code in (record.fields.get("branch_code"), mapping.default_unit):
        if code:
            unit = orgs.find_unit_by_code(session, str(code))
            if unit is not None and unit.is_active:
                return unit.id
    raise ValueError(f"source {mapping.code}: default_unit {mapping.default_unit!r} is not an open unit")


def _customer_fields(fields: dict[str, Any]) -> dict[str, Any]:
    keep = (
        "kind",
        "name",
        "name_en",
        "id_type",
        "id_number",
        "mobile",
        "email",
        "address",
        "occupation",
        "income_band",
        "industry",
        "risk_level",
        "risk_assessed_on",
    )
    values = {name: fields.get(name) for name in keep if fields.get(name) not in (None, "")}
    if values.get("risk_level") and not values.get("risk_assessed_on"):
        values.pop("risk_level")
    return values
