"""The audit viewer: filter by user, entity, action and date; export CSV (itself audited)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response, StreamingResponse

from bankcrm.audit import service
from bankcrm.audit.schemas import AuditFilter
from bankcrm.core.db import utcnow
from bankcrm.core.errors import ValidationFailed, problems_from_pydantic
from bankcrm.core.formatting import BUSINESS_TZ
from bankcrm.core.i18n import N_
from bankcrm.core.pagination import Page, PageRequest
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.core.validation import without_control_characters
from bankcrm.web.auth import PrincipalRoute, require
from bankcrm.web.forms import field_errors, form_fields
from bankcrm.web.render import Navigation, NavItem, Renderer, translator
from bankcrm.web.transaction import db_session

router = APIRouter(prefix="/admin/audit", include_in_schema=False, route_class=PrincipalRoute)
FILTER_FIELDS = ("actor", "entity_type", "entity_id", "action", "date_from", "date_to")


# Actions any module writes, and what the platform itself records.
AUDIT_LABELS = {
    "actions": {
        "create": N_("Created"),
        "update": N_("Changed"),
        "enable": N_("Enabled"),
        "disable": N_("Disabled"),
        "close": N_("Closed"),
        "reopen": N_("Reopened"),
        "unmask": N_("Unmasked"),
        "export": N_("Exported"),
        "permission_denied": N_("Access denied"),
    },
    "entities": {"route": N_("Page or API call"), "audit_event": N_("Audit trail")},
    "fields": {
        "field": N_("Field"),
        "why": N_("Cause"),
        "permission": N_("Permission"),
        "method": N_("Method"),
        "path": N_("Address"),
    },
}


def register_context(renderer: Renderer) -> None:
    renderer.audit_labels.add(**AUDIT_LABELS)


def register_navigation(navigation: Navigation) -> None:
    navigation.register(
        NavItem(
            "audit",
            N_("Audit trail"),
            "/admin/audit",
            Permission.AUDIT_READ,
            icon="history",
            section=N_("Administration"),
            order=95,
        ),
    )


def _filters(values: dict[str, str]) -> AuditFilter:
    # Like every page search, the filters drop control characters rather than refuse them.
    texts = {key: without_control_characters(values.get(key, "")).strip() for key in FILTER_FIELDS}
    cleaned = {key: text for key, text in texts.items() if text}
    try:
        return AuditFilter.model_validate(cleaned)
    except ValidationError as exc:
        raise ValidationFailed(problems_from_pydantic(exc)) from exc


@router.get("")
def audit_viewer(
    request: Request,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.AUDIT_READ)),
) -> Response:
    values = {key: request.query_params.get(key, "") for key in FILTER_FIELDS}
    raw_page = request.query_params.get("page", "1")
    page_no = int(raw_page) if raw_page.isascii() and raw_page.isdigit() else 1
    page_no = page_no if 0 < page_no <= 1_000_000 else 1
    errors: dict[str, str] = {}
    try:
        page = service.list_events(db, principal, filters=_filters(values), page=PageRequest(page_no, 50))
    except ValidationFailed as exc:
        errors = field_errors(exc, translator(request))
        page = Page(items=[], total=0, page=1, size=50)
    renderer: Renderer = request.app.state.renderer
    return renderer.render(
        request,
        "audit/events.html",
        {"page": page, "values": values, "errors": errors, "choices": service.filter_choices(db, principal)},
        principal=principal,
        status_code=422 if errors else 200,
    )


@router.post("/export")
async def export_csv(
    request: Request,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.AUDIT_EXPORT)),
) -> Response:
    fields = await form_fields(request)
    filters = _filters({key: str(fields.get(key, "")) for key in FILTER_FIELDS})
    rows = service.export_csv(db, principal, filters=filters)
    stamp = utcnow().astimezone(BUSINESS_TZ).strftime("%Y%m%d-%H%M%S")
    return StreamingResponse(
        rows,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="audit-{stamp}-{principal.username}.csv"'},
    )
