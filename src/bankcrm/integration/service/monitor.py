"""What the integration pages and API show: sources, batches, rejects (integration rights only)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from sqlalchemy.orm import Session

from bankcrm.audit import service as audit
from bankcrm.core.errors import NotFound
from bankcrm.core.i18n import N_
from bankcrm.core.pagination import Page, PageRequest
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.integration import repository as repo
from bankcrm.integration.mapping import registry
from bankcrm.integration.schemas import BatchOut, RejectOut, SourceOut
from bankcrm.integration.service import quality


class BatchNotFound(NotFound):
    code = "batch-not-found"
    default_message = N_("Batch %(id)s does not exist.")


def sources(session: Session, principal: Principal) -> list[SourceOut]:
    principal.require(Permission.INTEGRATION_READ)
    latest = repo.latest_batches_by_source(session)
    return [
        SourceOut(
            code=m.code,
            name=m.name,
            kind=m.kind,
            file_pattern=m.file_pattern,
            format=m.format,
            encoding=m.encoding,
            trust=m.trust,
            columns=m.columns,
            last_batch=BatchOut.model_validate(latest[m.code]) if m.code in latest else None,
        )
        for m in registry().values()
    ]


def batches(
    session: Session, principal: Principal, *, source: str | None, page: PageRequest
) -> Page[BatchOut]:
    principal.require(Permission.INTEGRATION_READ)
    rows = repo.list_batches(session, source=source, offset=page.offset, limit=page.size)
    return Page(
        items=[BatchOut.model_validate(row) for row in rows],
        total=repo.count_batches(session, source=source),
        page=page.page,
        size=page.size,
    )


def batch(session: Session, principal: Principal, *, batch_id: int) -> BatchOut:
    principal.require(Permission.INTEGRATION_READ)
    row = repo.get_batch(session, batch_id)
    if row is None:
        raise BatchNotFound(id=batch_id)
    return BatchOut.model_validate(row)


def rejects(session: Session, principal: Principal, *, batch_id: int, page: PageRequest) -> Page[RejectOut]:
    batch(session, principal, batch_id=batch_id)
    rows = repo.rejects_of(session, batch_id, offset=page.offset, limit=page.size)
    return Page(
        items=[RejectOut.model_validate(row) for row in rows],
        total=repo.count_rejects(session, batch_id),
        page=page.page,
        size=page.size,
    )


def reject_report(session: Session, principal: Principal, *, batch_id: int) -> Iterator[str]:
    """The batch's reject report as CSV (record, field, value, rule); the download is audited."""
    found = batch(session, principal, batch_id=batch_id)
    rows = repo.all_rejects_of(session, batch_id)
    audit.record_event(
        session,
        principal.actor,
        action="export",
        entity_type="ingest_batch",
        entity_id=batch_id,
        details={"rejects": len(rows)},
    )

    def generate() -> Iterator[str]:
        buffer = io.StringIO()
        buffer.write("\ufeff")
        writer = csv.writer(buffer)
        writer.writerow(
            [
                f"# reject report of batch {found.id} ({found.source_code}, {found.file_name}), "
                f"exported by {principal.username}"
            ]
        )
        writer.writerow(["record_no", "source_customer_no", "field", "value", "rule", "message"])
        for row in rows:
            writer.writerow(
                [
                    row.record_no,
                    row.source_customer_no or "",
                    row.field,
                    row.value or "",
                    row.rule,
                    row.message,
                ]
            )
        yield buffer.getvalue()

    return generate()


def batch_quality(session: Session, principal: Principal, *, batch_id: int) -> list[quality.FieldFigures]:
    principal.require(Permission.INTEGRATION_READ)
    found = repo.get_batch(session, batch_id)
    if found is None:
        raise BatchNotFound(id=batch_id)
    return quality.batch_figures(session, principal, batch=found)
