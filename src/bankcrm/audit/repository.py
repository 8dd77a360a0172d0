"""All SQL of the audit trail."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from bankcrm.audit.models import AuditChainHead, AuditEvent
from bankcrm.audit.schemas import AuditFilter
from bankcrm.core.db import insert_many, table_of
from bankcrm.core.validation import parse_row_id


def lock_chain_head(session: Session) -> AuditChainHead | None:
    """The head row, locked for the rest of the transaction (a no-op lock on SQLite, whose
    writers already hold the database lock from BEGIN IMMEDIATE)."""
    return session.execute(
        select(AuditChainHead).where(AuditChainHead.id == 1).with_for_update()
    ).scalar_one_or_none()


def find_chain_head(session: Session) -> AuditChainHead | None:
    return session.get(AuditChainHead, 1, populate_existing=True)


def add_event(session: Session, event: AuditEvent) -> None:
    session.add(event)


def insert_events(session: Session, rows: list[dict[str, Any]]) -> None:
    """Many chained rows in one executemany (the caller has locked the chain head), after the
    session's pending changes, as an ORM insert of the rows would have flushed them first."""
    if rows:
        session.flush()
        insert_many(session, table_of(AuditEvent), rows)


def _filtered(
    stmt: Select[AuditEvent], filters: AuditFilter, *, start: datetime | None, end: datetime | None
) -> Select[AuditEvent]:
    if filters.actor:
        actor_id = parse_row_id(filters.actor)
        if actor_id is not None:
            stmt = stmt.where(AuditEvent.actor_id == actor_id)
        else:
            stmt = stmt.where(AuditEvent.actor_name == filters.actor)
    if filters.entity_type:
        stmt = stmt.where(AuditEvent.entity_type == filters.entity_type)
    if filters.entity_id:
        stmt = stmt.where(AuditEvent.entity_id == filters.entity_id)
    if filters.action:
        stmt = stmt.where(AuditEvent.action == filters.action)
    if start is not None:
        stmt = stmt.where(AuditEvent.occurred_at >= start)
    if end is not None:
        stmt = stmt.where(AuditEvent.occurred_at < end)
    return stmt


def count_events(
    session: Session, filters: AuditFilter, *, start: datetime | None, end: datetime | None
) -> int:
    stmt = _filtered(select(AuditEvent), filters, start=start, end=end)
    return int(session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one())


def list_events(
    session: Session,
    filters: AuditFilter,
    *,
    start: datetime | None,
    end: datetime | None,
    offset: int,
    limit: int,
) -> list[AuditEvent]:
    stmt = _filtered(select(AuditEvent), filters, start=start, end=end)
    stmt = stmt.order_by(AuditEvent.seq.desc()).offset(offset).limit(limit)
    return list(session.execute(stmt).scalars())


def iter_events(
    session: Session, filters: AuditFilter, *, start: datetime | None, end: datetime | None, batch: int = 1000
) -> Iterator[AuditEvent]:
    stmt = _filtered(select(AuditEvent), filters, start=start, end=end).order_by(AuditEvent.seq)
    yield from session.execute(stmt.execution_options(yield_per=batch)).scalars()


def iter_chain(session: Session, *, batch: int = 2000) -> Iterator[AuditEvent]:
    """Every event in sequence order, streamed, for verification."""
    # populate_existing: verification must judge what is stored, never rows cached in this session.
    stmt = (
        select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=batch, populate_existing=True)
    )
    yield from session.execute(stmt).scalars()


def distinct_values(session: Session, column: str) -> list[str]:
    attribute = {"action": AuditEvent.action, "entity_type": AuditEvent.entity_type}[column]
    return [str(v) for v in session.execute(select(attribute).distinct().order_by(attribute)).scalars()]


def recent_events(session: Session, *, limit: int) -> list[AuditEvent]:
    return list(session.execute(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)).scalars())
