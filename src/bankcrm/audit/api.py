"""JSON routes of the audit trail."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy.orm import Session

from bankcrm.audit import service
from bankcrm.audit.schemas import AuditEventOut, AuditFilter
from bankcrm.core.pagination import MAX_PAGE_SIZE, PageRequest
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.core.validation import TEXT_PATTERN, IsoDate
from bankcrm.web.auth import PrincipalRoute, require
from bankcrm.web.transaction import db_session

router = APIRouter(prefix="/api/v1", tags=["audit"], route_class=PrincipalRoute)
PROBLEM = {"description": "Problem details (RFC 9457)", "content": {"application/problem+json": {}}}


class AuditPage(BaseModel):
    items: list[AuditEventOut]
    total: int
    page: int
    size: int


@router.get("/audit-events", response_model=AuditPage, responses={401: PROBLEM, 403: PROBLEM, 422: PROBLEM})
def list_audit_events(
    db: Annotated[Session, Depends(db_session)],
    principal: Principal = Depends(require(Permission.AUDIT_READ)),
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    actor: Annotated[str | None, Query(max_length=150, pattern=TEXT_PATTERN)] = None,
    entity_type: Annotated[str | None, Query(max_length=64, pattern=TEXT_PATTERN)] = None,
    entity_id: Annotated[str | None, Query(max_length=64, pattern=TEXT_PATTERN)] = None,
    action: Annotated[str | None, Query(max_length=64, pattern=TEXT_PATTERN)] = None,
    date_from: Annotated[IsoDate | None, Query()] = None,
    date_to: Annotated[IsoDate | None, Query()] = None,
) -> dict[str, Any]:
    filters = AuditFilter(
        actor=actor,
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        date_from=date_from,
        date_to=date_to,
    )
    result = service.list_events(db, principal, filters=filters, page=PageRequest(page, size))
    return {"items": list(result.items), "total": result.total, "page": result.page, "size": result.size}
