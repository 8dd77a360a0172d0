"""Starting ingestion from the web and the API, with permission checks and idempotency keys."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

from sqlalchemy.orm import Session

from bankcrm.core.errors import Conflict, NotFound, ValidationFailed
from bankcrm.core.i18n import N_
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.integration import repository as repo
from bankcrm.integration.models import IdempotentRequest
from bankcrm.integration.schemas import IngestOut, RecordsIn, RejectOut
from bankcrm.integration.service.ingest import IngestResult, UnknownSource, ingest_file, ingest_records


class SourceNotFound(NotFound):
    code = "source-not-found"
    default_message = N_("There is no source %(code)s; add a mapping file for it.")


class IdempotencyConflict(Conflict):
    code = "idempotency-key-reused"
    default_message = N_("This Idempotency-Key was already used with a different request body.")


def to_out(result: IngestResult) -> IngestOut:
    data = asdict(result)
    data["rejects"] = [RejectOut.model_validate(row) for row in result.rejects[:200]]
    data.pop("file_name")
    return IngestOut.model_validate(data)


def run_file(session: Session, principal: Principal, *, source: str, path: Path) -> IngestOut:
    principal.require(Permission.INTEGRATION_RUN)
    try:
        return to_out(ingest_file(session, principal.actor, source=source, path=path))
    except UnknownSource as exc:
        raise SourceNotFound(code=source) from exc


def run_records(
    session: Session, principal: Principal, *, source: str, data: RecordsIn, idempotency_key: str | None
) -> tuple[int, IngestOut]:
    """Load records sent to the API. The same key and body replay the first answer; the same key with
    a different body is a conflict."""
    principal.require(Permission.INTEGRATION_RUN)
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 100:
        raise ValidationFailed.single(
            "Idempotency-Key",
            "idempotency.length",
            N_("An Idempotency-Key has 1 to 100 characters."),
            idempotency_key,
        )
    body = json.dumps(data.model_dump(), sort_keys=True, ensure_ascii=False)
    body_hash = hashlib.sha256(body.encode()).hexdigest()
    scope = f"{principal.user_id}:ingest:{source}"
    if idempotency_key:
        earlier = repo.find_idempotent(session, idempotency_key, scope)
        if earlier is not None:
            if earlier.body_hash != body_hash:
                raise IdempotencyConflict()
            return earlier.status_code, IngestOut.model_validate_json(earlier.response)
    try:
        result = ingest_records(
            session,
            principal.actor,
            source=source,
            records=data.records,
            label=f"api:{idempotency_key or body_hash[:12]}",
        )
    except UnknownSource as exc:
        raise SourceNotFound(code=source) from exc
    out = to_out(result)
    status = 201 if result.status == "loaded" else 200
    if idempotency_key:
        repo.add(
            session,
            IdempotentRequest(
                key=idempotency_key,
                scope=scope,
                body_hash=body_hash,
                status_code=status,
                response=out.model_dump_json(),
            ),
        )
        session.flush()
    return status, out
