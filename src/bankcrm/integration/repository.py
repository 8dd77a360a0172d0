"""All SQL of the integration module."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, insert, select
from sqlalchemy.orm import Session

from bankcrm.core.db import Base, insert_many, table_of
from bankcrm.integration.models import (
    Batch,
    BatchReject,
    FieldQuality,
    GoldenFieldChange,
    IdempotentRequest,
    LandedRecord,
    MatchCandidate,
    SourceRecord,
)

SourceRecordRow = Row[int, int | None, str, str, str, datetime]
ChoiceRow = Row[int, str, str, str, datetime]
LinkedRecordRow = Row[int, str, int | None, str]


def add(session: Session, row: object) -> None:
    session.add(row)


def find_batch(session: Session, source: str, checksum: str) -> Batch | None:
    stmt = select(Batch).where(Batch.source_code == source, Batch.checksum == checksum)
    return session.execute(stmt).scalar_one_or_none()


def get_batch(session: Session, batch_id: int) -> Batch | None:
    return session.get(Batch, batch_id)


def add_rejects(session: Session, rows: list[dict[str, Any]]) -> None:
    _insert_after_flush(session, BatchReject, rows)


def _insert_after_flush(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """Many rows of a model's table in one executemany, after the session's pending changes (which
    an ORM insert of the model would have flushed first): a delivery writes hundreds of thousands
    of such rows, and the ORM's per-row bookkeeping cost more than the database's work."""
    if rows:
        session.flush()
        insert_many(session, table_of(model), rows)


def rejects_of(session: Session, batch_id: int, *, offset: int, limit: int) -> list[BatchReject]:
    stmt = (
        select(BatchReject)
        .where(BatchReject.batch_id == batch_id)
        .order_by(BatchReject.record_no, BatchReject.id)
        .offset(offset)
        .limit(limit)
    )
    return list(session.execute(stmt).scalars())


def all_rejects_of(session: Session, batch_id: int) -> list[BatchReject]:
    stmt = (
        select(BatchReject)
        .where(BatchReject.batch_id == batch_id)
        .order_by(BatchReject.record_no, BatchReject.id)
    )
    return list(session.execute(stmt).scalars())


def count_rejects(session: Session, batch_id: int) -> int:
    stmt = select(func.count()).select_from(BatchReject).where(BatchReject.batch_id == batch_id)
    return int(session.execute(stmt).scalar_one())


def list_batches(session: Session, *, source: str | None, offset: int, limit: int) -> list[Batch]:
    stmt = select(Batch).order_by(Batch.id.desc()).offset(offset).limit(limit)
    if source:
        stmt = stmt.where(Batch.source_code == source)
    return list(session.execute(stmt).scalars())


def count_batches(session: Session, *, source: str | None) -> int:
    stmt = select(func.count()).select_from(Batch)
    if source:
        stmt = stmt.where(Batch.source_code == source)
    return int(session.execute(stmt).scalar_one())


def latest_batches_by_source(session: Session) -> dict[str, Batch]:
    latest = select(Batch.source_code, func.max(Batch.id).label("id")).group_by(Batch.source_code).subquery()
    stmt = select(Batch).join(latest, latest.c.id == Batch.id)
    return {batch.source_code: batch for batch in session.execute(stmt).scalars()}


def find_source_record(session: Session, source: str, number: str) -> SourceRecord | None:
    stmt = select(SourceRecord).where(
        SourceRecord.source_code == source, SourceRecord.source_customer_no == number
    )
    return session.execute(stmt).scalar_one_or_none()


def source_records_by_number(
    session: Session, source: str, numbers: Iterable[str]
) -> dict[str, SourceRecord]:
    """``find_source_record`` for a whole delivery in a few queries: number -> stored record."""
    wanted = sorted(set(numbers))
    found: dict[str, SourceRecord] = {}
    for start in range(0, len(wanted), 500):  # bounded IN lists
        stmt = select(SourceRecord).where(
            SourceRecord.source_code == source,
            SourceRecord.source_customer_no.in_(wanted[start : start + 500]),
        )
        found.update({record.source_customer_no: record for record in session.execute(stmt).scalars()})
    return found


def insert_source_records(session: Session, rows: list[dict[str, Any]]) -> None:
    """Many new source records in one executemany (every row has every column)."""
    _insert_after_flush(session, SourceRecord, rows)


def landed_batch_ids_before(session: Session, source: str, batch_id: int) -> list[int]:
    """The source's batches landed before ``batch_id`` and still waiting to be resolved, oldest first."""
    stmt = (
        select(Batch.id)
        .where(Batch.source_code == source, Batch.status == "landed", Batch.id < batch_id)
        .order_by(Batch.id)
    )
    return list(session.execute(stmt).scalars())


def insert_landed_records(session: Session, rows: list[dict[str, Any]]) -> None:
    _insert_after_flush(session, LandedRecord, rows)


LandedRow = Row[int, str, str, str, str]


def landed_records(session: Session, batch_id: int) -> list[LandedRow]:
    """A landed batch's records in delivery order: record number, customer number, content hash,
    canonical fields and ID digest (plain rows: a delivery holds hundreds of thousands)."""
    stmt = (
        select(
            LandedRecord.record_no,
            LandedRecord.source_customer_no,
            LandedRecord.content_hash,
            LandedRecord.fields,
            LandedRecord.id_digest,
        )
        .where(LandedRecord.batch_id == batch_id)
        .order_by(LandedRecord.id)
    )
    return list(session.execute(stmt).all())


def delete_landed_records(session: Session, batch_id: int) -> None:
    session.execute(delete(LandedRecord).where(LandedRecord.batch_id == batch_id))


# Numbers per IN list: within SQLite's 32,766 and PostgreSQL's 65,535 parameters, and few
# round trips for a journal of a hundred thousand customers.
NUMBERS_PER_QUERY = 5000


def customer_ids_for(session: Session, source: str, numbers: Iterable[str]) -> dict[str, int]:
    wanted = list(set(numbers))
    found: dict[str, int] = {}
    for start in range(0, len(wanted), NUMBERS_PER_QUERY):
        stmt = select(SourceRecord.source_customer_no, SourceRecord.customer_id).where(
            SourceRecord.source_code == source,
            SourceRecord.source_customer_no.in_(wanted[start : start + NUMBERS_PER_QUERY]),
            SourceRecord.customer_id.is_not(None),
        )
        found.update(
            {str(number): int(customer) for number, customer in session.execute(stmt).all() if customer}
        )
    return found


def find_idempotent(session: Session, key: str, scope: str) -> IdempotentRequest | None:
    return session.get(IdempotentRequest, (key, scope))


def linked_source_records(session: Session) -> list[LinkedRecordRow]:
    """(id, source, customer id, fields JSON) of every record linked to a customer, as plain rows:
    a matching run reads them all, and as mapped objects they would crowd the session it merges in."""
    stmt = (
        select(SourceRecord.id, SourceRecord.source_code, SourceRecord.customer_id, SourceRecord.fields)
        .where(SourceRecord.customer_id.is_not(None))
        .order_by(SourceRecord.id)
    )
    return list(session.execute(stmt).all())


def get_source_record(session: Session, record_id: int) -> SourceRecord | None:
    return session.get(SourceRecord, record_id)


def source_records_of_customers(session: Session, customer_ids: Iterable[int]) -> list[SourceRecord]:
    stmt = (
        select(SourceRecord).where(SourceRecord.customer_id.in_(list(customer_ids))).order_by(SourceRecord.id)
    )
    return list(session.execute(stmt).scalars())


def source_record_rows_of(session: Session, customer_ids: Iterable[int]) -> list[SourceRecordRow]:
    """What survivorship reads of the source records of many customers (id, customer_id,
    source_code, source_customer_no, fields, received_at), in id order: plain rows, not ORM objects,
    which cost more to build than the decisions they feed."""
    wanted = sorted(set(customer_ids))
    found: list[SourceRecordRow] = []
    for start in range(0, len(wanted), 500):
        stmt = select(
            SourceRecord.id,
            SourceRecord.customer_id,
            SourceRecord.source_code,
            SourceRecord.source_customer_no,
            SourceRecord.fields,
            SourceRecord.received_at,
        ).where(SourceRecord.customer_id.in_(wanted[start : start + 500]))
        found += session.execute(stmt).all()
    return sorted(found, key=lambda row: int(row.id))


def find_candidate(session: Session, left: int, right: int) -> MatchCandidate | None:
    stmt = select(MatchCandidate).where(
        MatchCandidate.left_record_id == left, MatchCandidate.right_record_id == right
    )
    return session.execute(stmt).scalar_one_or_none()


def get_candidate(session: Session, candidate_id: int) -> MatchCandidate | None:
    return session.get(MatchCandidate, candidate_id)


def candidates(session: Session, *, status: str, offset: int, limit: int) -> list[MatchCandidate]:
    stmt = (
        select(MatchCandidate)
        .where(MatchCandidate.status == status)
        .order_by(MatchCandidate.match_probability.desc(), MatchCandidate.id)
        .offset(offset)
        .limit(limit)
    )
    return list(session.execute(stmt).scalars())


def count_candidates(session: Session, *, status: str) -> int:
    stmt = select(func.count()).select_from(MatchCandidate).where(MatchCandidate.status == status)
    return int(session.execute(stmt).scalar_one())


def add_field_quality(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(FieldQuality), rows)


def recent_loaded_batches(session: Session, source: str, *, limit: int) -> list[Batch]:
    """The source's last ``limit`` loaded batches, newest first."""
    stmt = (
        select(Batch)
        .where(Batch.source_code == source, Batch.status == "loaded")
        .order_by(Batch.id.desc())
        .limit(limit)
    )
    return list(session.execute(stmt).scalars())


def field_quality_of(session: Session, batch_ids: Iterable[int]) -> list[FieldQuality]:
    ids = list(batch_ids)
    if not ids:
        return []
    stmt = select(FieldQuality).where(FieldQuality.batch_id.in_(ids)).order_by(FieldQuality.id)
    return list(session.execute(stmt).scalars())


def _field_rejects(source: str, field: str) -> Any:
    return (
        select(BatchReject)
        .join(Batch, Batch.id == BatchReject.batch_id)
        .where(Batch.source_code == source, BatchReject.field == field)
    )


def rejects_for_field(
    session: Session, source: str, field: str, *, offset: int, limit: int
) -> list[BatchReject]:
    stmt = (
        _field_rejects(source, field)
        .order_by(BatchReject.batch_id.desc(), BatchReject.record_no)
        .offset(offset)
        .limit(limit)
    )
    return list(session.execute(stmt).scalars())


def count_rejects_for_field(session: Session, source: str, field: str) -> int:
    stmt = select(func.count()).select_from(_field_rejects(source, field).subquery())
    return int(session.execute(stmt).scalar_one())


def latest_golden_changes(session: Session, customer_id: int) -> dict[str, GoldenFieldChange]:
    """Per field, the last survivorship decision recorded for the customer."""
    rows = session.execute(
        select(GoldenFieldChange)
        .where(GoldenFieldChange.customer_id == customer_id)
        .order_by(GoldenFieldChange.id)
    ).scalars()
    return {row.field: row for row in rows}


def latest_golden_changes_of(
    session: Session, customer_ids: Iterable[int]
) -> dict[int, dict[str, ChoiceRow]]:
    """``latest_golden_changes`` for many customers: customer -> field -> (source_code,
    value_digest, changed_at) of the last decision, as plain rows."""
    wanted = sorted(set(customer_ids))
    found: dict[int, dict[str, ChoiceRow]] = {}
    for start in range(0, len(wanted), 500):
        stmt = (
            select(
                GoldenFieldChange.customer_id,
                GoldenFieldChange.field,
                GoldenFieldChange.source_code,
                GoldenFieldChange.value_digest,
                GoldenFieldChange.changed_at,
            )
            .where(GoldenFieldChange.customer_id.in_(wanted[start : start + 500]))
            .order_by(GoldenFieldChange.id)
        )
        for row in session.execute(stmt).all():
            found.setdefault(int(row.customer_id), {})[str(row.field)] = row
    return found


def golden_history(session: Session, customer_id: int, *, limit: int) -> list[GoldenFieldChange]:
    stmt = (
        select(GoldenFieldChange)
        .where(GoldenFieldChange.customer_id == customer_id)
        .order_by(GoldenFieldChange.id.desc())
        .limit(limit)
    )
    return list(session.execute(stmt).scalars())


def add_golden_changes(session: Session, rows: list[dict[str, Any]]) -> None:
    _insert_after_flush(session, GoldenFieldChange, rows)
