"""Business verbs of the audit trail: record, read, export, verify.

``record_change`` and ``record_event`` are called by every module inside the transaction of the
change they describe, so a change and its audit row commit or vanish together.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bankcrm.audit import repository as repo
from bankcrm.audit.chain import GENESIS_HASH, canonical_json, row_digest
from bankcrm.audit.models import AuditChainHead, AuditEvent
from bankcrm.audit.schemas import AuditEventOut, AuditFilter, VerifyReport
from bankcrm.core.context import Actor
from bankcrm.core.db import utcnow
from bankcrm.core.errors import ValidationFailed
from bankcrm.core.formatting import BUSINESS_TZ, format_datetime
from bankcrm.core.i18n import N_
from bankcrm.core.masking import MaskKind, mask
from bankcrm.core.pagination import Page, PageRequest
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal

_MAX_TEXT = 500  # long free text is cut in the trail; the record itself keeps the full text


def _clip(value: Any) -> Any:
    if isinstance(value, str) and len(value) > _MAX_TEXT:
        return value[:_MAX_TEXT] + "…"
    return value


def _masked(field: str, value: Any, sensitive: Mapping[str, MaskKind]) -> Any:
    if field in sensitive and value is not None:
        return mask(sensitive[field], str(value))
    return _clip(value)


def diff(
    before: Mapping[str, Any], after: Mapping[str, Any], sensitive: Mapping[str, MaskKind] | None = None
) -> dict[str, dict[str, Any]]:
    """Changed fields as ``{field: {"before": old, "after": new}}``, personal data masked."""
    sensitive = sensitive or {}
    changed: dict[str, dict[str, Any]] = {}
    for field in sorted(set(before) | set(after)):
        old, new = before.get(field), after.get(field)
        if old != new:
            changed[field] = {
                "before": _masked(field, old, sensitive),
                "after": _masked(field, new, sensitive),
            }
    return changed


@dataclass(frozen=True)
class Entry:
    """One audit row to append, before the chain gives it its place: what, about which record, why."""

    action: str
    entity_type: str
    entity_id: str | int | None
    changes: Mapping[str, Any]
    reason: str | None = None


def change_entry(
    *,
    entity_type: str,
    entity_id: str | int,
    action: str,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    sensitive: Mapping[str, MaskKind] | None = None,
    reason: str | None = None,
) -> Entry:
    """The row ``record_change`` would write, for appending many at once with ``record_many``."""
    return Entry(action, entity_type, entity_id, diff(before, after, sensitive), reason)


def event_entry(
    *,
    action: str,
    entity_type: str,
    entity_id: str | int | None = None,
    details: Mapping[str, Any] | None = None,
    reason: str | None = None,
) -> Entry:
    """The row ``record_event`` would write, for appending many at once with ``record_many``."""
    return Entry(
        action, entity_type, entity_id, {key: _clip(value) for key, value in (details or {}).items()}, reason
    )


def _locked_head(session: Session) -> AuditChainHead:
    head = repo.lock_chain_head(session)
    if head is None:  # first event ever: the migration seeds the head, but be robust
        head = AuditChainHead(id=1, last_seq=0, last_hash=GENESIS_HASH)
        session.add(head)
    return head


def _chained(actor: Actor, entry: Entry, *, seq: int, prev_hash: str, at: datetime) -> dict[str, Any]:
    """The columns of the audit row for ``entry`` at ``seq``, its hash included."""
    row: dict[str, Any] = {
        "seq": seq,
        "occurred_at": at,
        "actor_id": actor.user_id,
        "actor_name": actor.username,
        "actor_role": actor.role,
        "action": entry.action,
        "entity_type": entry.entity_type,
        "entity_id": None if entry.entity_id is None else str(entry.entity_id),
        "changes": canonical_json(entry.changes),
        "reason": entry.reason,
        "ip": actor.origin.ip,
        "user_agent": _clip(actor.origin.user_agent),
        "request_id": actor.origin.request_id,
        "prev_hash": prev_hash,
    }
    row["row_hash"] = row_digest(**row)
    return row


def _append(
    session: Session,
    actor: Actor,
    *,
    action: str,
    entity_type: str,
    entity_id: str | int | None,
    changes: Mapping[str, Any],
    reason: str | None,
) -> AuditEvent:
    head = _locked_head(session)
    entry = Entry(action, entity_type, entity_id, changes, reason)
    event = AuditEvent(**_chained(actor, entry, seq=head.last_seq + 1, prev_hash=head.last_hash, at=utcnow()))
    repo.add_event(session, event)
    head.last_seq = event.seq
    head.last_hash = event.row_hash
    session.flush()  # the change and its audit row are written together
    return event


def record_many(session: Session, actor: Actor, entries: Sequence[Entry]) -> None:
    """Append ``entries`` in order, each its own chained row exactly as ``record_change`` or
    ``record_event`` would write it, with the chain head locked once and one INSERT for all.

    For loading jobs that change thousands of records in one transaction: a lock, an ORM object and a
    flush per row made the audit trail the slowest part of a delivery.
    """
    if not entries:
        return
    head = _locked_head(session)
    at = utcnow()
    seq, last_hash = head.last_seq, head.last_hash
    rows = []
    for entry in entries:
        seq += 1
        row = _chained(actor, entry, seq=seq, prev_hash=last_hash, at=at)
        last_hash = row["row_hash"]
        rows.append(row)
    repo.insert_events(session, rows)
    head.last_seq, head.last_hash = seq, last_hash
    session.flush()  # the changes and their audit rows are written together


def compute_hash(event: AuditEvent) -> str:
    return row_digest(
        seq=event.seq,
        occurred_at=event.occurred_at,
        actor_id=event.actor_id,
        actor_name=event.actor_name,
        actor_role=event.actor_role,
        action=event.action,
        entity_type=event.entity_type,
        entity_id=event.entity_id,
        changes=event.changes,
        reason=event.reason,
        ip=event.ip,
        user_agent=event.user_agent,
        request_id=event.request_id,
        prev_hash=event.prev_hash,
    )


def record_change(
    session: Session,
    actor: Actor,
    *,
    entity_type: str,
    entity_id: str | int,
    action: str,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    sensitive: Mapping[str, MaskKind] | None = None,
    reason: str | None = None,
) -> AuditEvent:
    """Record a create/update/state change with the changed fields (C2 masked)."""
    return _append(
        session,
        actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        changes=diff(before, after, sensitive),
        reason=reason,
    )


def record_event(
    session: Session,
    actor: Actor,
    *,
    action: str,
    entity_type: str,
    entity_id: str | int | None = None,
    details: Mapping[str, Any] | None = None,
    reason: str | None = None,
) -> AuditEvent:
    """Record something that is not a field change: a login, a denial, an unmask, an export."""
    return _append(
        session,
        actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        changes={key: _clip(value) for key, value in (details or {}).items()},
        reason=reason,
    )


def _day_bounds(filters: AuditFilter) -> tuple[datetime | None, datetime | None]:
    """Business dates (Asia/Shanghai) to UTC instants; ``date_to`` is inclusive."""
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise ValidationFailed.single(
            "date_to", "date.order", N_("The end date is before the start date."), filters.date_to.isoformat()
        )
    start = _start_of_day(filters.date_from) if filters.date_from else None
    end = (
        _start_of_day(filters.date_to + timedelta(days=1))
        if filters.date_to and filters.date_to < date.max
        else None
    )
    return start, end


def _start_of_day(day: date) -> datetime | None:
    """Midnight in Shanghai as a UTC instant; None when it lies before the first instant a
    datetime can hold (0001-01-01 in Shanghai is still year 0 in UTC), i.e. no bound at all."""
    try:
        return datetime.combine(day, time.min, BUSINESS_TZ).astimezone(UTC)
    except OverflowError:
        return None


def to_out(event: AuditEvent) -> AuditEventOut:
    return AuditEventOut(
        seq=event.seq,
        occurred_at=event.occurred_at,
        actor_id=event.actor_id,
        actor_name=event.actor_name,
        actor_role=event.actor_role,
        action=event.action,
        entity_type=event.entity_type,
        entity_id=event.entity_id,
        changes=json.loads(event.changes or "{}"),
        reason=event.reason,
        ip=event.ip,
        user_agent=event.user_agent,
        request_id=event.request_id,
    )


def list_events(
    session: Session, principal: Principal, *, filters: AuditFilter, page: PageRequest
) -> Page[AuditEventOut]:
    principal.require(Permission.AUDIT_READ)
    start, end = _day_bounds(filters)
    total = repo.count_events(session, filters, start=start, end=end)
    rows = repo.list_events(session, filters, start=start, end=end, offset=page.offset, limit=page.size)
    return Page(items=[to_out(row) for row in rows], total=total, page=page.page, size=page.size)


def filter_choices(session: Session, principal: Principal) -> dict[str, list[str]]:
    principal.require(Permission.AUDIT_READ)
    return {
        "action": repo.distinct_values(session, "action"),
        "entity_type": repo.distinct_values(session, "entity_type"),
    }


EXPORT_COLUMNS = (
    "seq",
    "occurred_at",
    "actor_id",
    "actor_name",
    "actor_role",
    "action",
    "entity_type",
    "entity_id",
    "changes",
    "reason",
    "ip",
    "user_agent",
    "request_id",
)


def export_csv(session: Session, principal: Principal, *, filters: AuditFilter) -> Iterator[str]:
    """The filtered trail as CSV; the export itself is audited, and the file names its exporter."""
    principal.require(Permission.AUDIT_EXPORT)
    start, end = _day_bounds(filters)
    record_event(
        session,
        principal.actor,
        action="export",
        entity_type="audit_event",
        details={"filters": filters.model_dump(mode="json", exclude_none=True)},
    )
    rows = list(repo.iter_events(session, filters, start=start, end=end))

    def generate() -> Iterator[str]:
        buffer = io.StringIO()
        buffer.write("\ufeff")  # byte-order mark: spreadsheet programs then read the Chinese text correctly
        writer = csv.writer(buffer)
        # The watermark line says who exported what and when (DOMAIN.md: exports carry the exporter).
        writer.writerow([f"# exported by {principal.username} at {format_datetime(utcnow(), seconds=True)}"])
        writer.writerow(EXPORT_COLUMNS)
        for row in rows:
            writer.writerow(
                [
                    row.seq,
                    format_datetime(row.occurred_at, seconds=True),
                    row.actor_id,
                    row.actor_name,
                    row.actor_role,
                    row.action,
                    row.entity_type,
                    row.entity_id,
                    row.changes,
                    row.reason,
                    row.ip,
                    row.user_agent,
                    row.request_id,
                ]
            )
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue()

    return generate()


def recent(session: Session, principal: Principal, *, limit: int = 8) -> list[AuditEventOut]:
    principal.require(Permission.AUDIT_READ)
    return [to_out(row) for row in repo.recent_events(session, limit=limit)]


def verify_chain(session: Session) -> VerifyReport:
    """Walk the whole chain; report the first row that was changed, removed or inserted out of order."""
    expected_seq = 1
    previous_hash = GENESIS_HASH
    previous_id = 0
    checked = 0
    for event in repo.iter_chain(session):
        problem = None
        if event.seq != expected_seq:
            problem = (
                f"sequence gap: expected seq {expected_seq}, found {event.seq} (a row was removed)"
                if event.seq > expected_seq
                else f"sequence {event.seq} repeats or goes backwards"
            )
        elif event.id <= previous_id:
            problem = f"row id {event.id} is lower than the row before it (inserted out of order)"
        elif event.prev_hash != previous_hash:
            problem = "prev_hash does not match the previous row (a row was removed or inserted)"
        elif compute_hash(event) != event.row_hash:
            problem = "row_hash does not match the row's content (the row was changed)"
        if problem:
            return VerifyReport(ok=False, checked=checked, first_bad_seq=event.seq, problem=problem)
        checked += 1
        expected_seq += 1
        previous_hash = event.row_hash
        previous_id = event.id
    head = repo.find_chain_head(session)
    head_seq, head_hash = (head.last_seq, head.last_hash) if head else (0, GENESIS_HASH)
    if head_seq != checked or head_hash != previous_hash:
        return VerifyReport(
            ok=False,
            checked=checked,
            first_bad_seq=checked + 1 if head_seq > checked else head_seq,
            problem=f"chain ends at seq {checked} but its head records seq {head_seq} "
            "(the newest rows were removed)",
        )
    return VerifyReport(ok=True, checked=checked)


def entity_history(
    session: Session, *, entity_type: str, entity_id: str | int, limit: int = 50
) -> list[AuditEventOut]:
    """Changes to one record, newest first, for the record's own timeline.

    The caller has already decided that the viewer may see the record; values are masked as stored.
    """
    filters = AuditFilter(entity_type=entity_type, entity_id=str(entity_id))
    rows = repo.list_events(session, filters, start=None, end=None, offset=0, limit=limit)
    return [to_out(row) for row in rows]
