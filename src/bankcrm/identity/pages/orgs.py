"""Organisation units: tree listing with search, create, rename, move (effective-dated), close."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from bankcrm.core.errors import ValidationFailed
from bankcrm.core.formatting import business_today
from bankcrm.core.i18n import N_
from bankcrm.core.pagination import PageRequest
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.identity.schemas import DisableIn, OrgUnitCreate, OrgUnitMoveIn, OrgUnitUpdate
from bankcrm.identity.service import orgs
from bankcrm.web.auth import PrincipalRoute, require
from bankcrm.web.forms import (
    blank_to_none,
    field_errors,
    form_fields,
    parse_bool,
    parse_form,
    parse_page,
    query_text,
)
from bankcrm.web.params import PathId
from bankcrm.web.render import page as render
from bankcrm.web.render import redirect, translator
from bankcrm.web.transaction import db_session

router = APIRouter(prefix="/admin/org-units", route_class=PrincipalRoute)
KINDS = ("head_office", "branch", "sub_branch", "team")


@router.get("")
def list_units(
    request: Request,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.ORG_READ)),
) -> Response:
    params = request.query_params
    search = query_text(params.get("q"), 100)
    kind = params.get("kind") if params.get("kind") in KINDS else None
    page = orgs.list_org_units(
        db,
        principal,
        page=PageRequest(parse_page(params.get("page")), 50),
        search=search,
        kind=kind,
        active=parse_bool(params.get("active")),
    )
    return render(
        request,
        "identity/org_units.html",
        {
            "page": page,
            "q": search or "",
            "kind": kind or "",
            "active": params.get("active", ""),
            "kinds": KINDS,
        },
        principal=principal,
    )


def _form_context(db: Session, principal: Principal, **extra: Any) -> dict[str, Any]:
    return {
        "errors": {},
        "values": {},
        "units": orgs.org_unit_choices(db, principal),
        "kinds": KINDS,
        **extra,
    }


@router.get("/new")
def new_unit_form(
    request: Request,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.ORG_WRITE)),
) -> Response:
    values = {"parent_id": request.query_params.get("parent_id", "")}
    return render(
        request,
        "identity/org_unit_form.html",
        _form_context(db, principal, unit=None, values=values),
        principal=principal,
    )


@router.post("/new")
async def create_unit(
    request: Request,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.ORG_WRITE)),
) -> Response:
    fields = blank_to_none(await form_fields(request), "name_en", "parent_id")
    if isinstance(fields.get("code"), str):
        fields["code"] = fields["code"].strip().upper()
    try:
        unit = orgs.create_org_unit(db, principal, data=parse_form(OrgUnitCreate, fields))
    except ValidationFailed as exc:
        return render(
            request,
            "identity/org_unit_form.html",
            _form_context(
                db, principal, unit=None, values=fields, errors=field_errors(exc, translator(request))
            ),
            principal=principal,
            status_code=422,
        )
    return redirect(
        request,
        f"/admin/org-units/{unit.id}",
        flash=("success", N_("Unit %(name)s created.")),
        name=unit.name,
    )


def _detail(
    request: Request, db: Session, principal: Principal, unit_id: int, *, status_code: int = 200, **extra: Any
) -> Response:
    unit = orgs.get_org_unit(db, principal, unit_id=unit_id)
    context = {
        "unit": unit,
        "moves": orgs.moves_of(db, principal, unit_id=unit_id),
        "units": orgs.org_unit_choices(db, principal),
        "errors": {},
        "failed_action": "",
        "values": {
            "name": unit.name,
            "name_en": unit.name_en or "",
            "effective_date": business_today().isoformat(),
        },
        **extra,
    }
    return render(
        request, "identity/org_unit_detail.html", context, principal=principal, status_code=status_code
    )


@router.get("/{unit_id}")
def show_unit(
    request: Request,
    unit_id: PathId,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.ORG_READ)),
) -> Response:
    return _detail(request, db, principal, unit_id)


@router.post("/{unit_id}")
async def update_unit(
    request: Request,
    unit_id: PathId,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.ORG_WRITE)),
) -> Response:
    fields = blank_to_none(await form_fields(request), "name_en")
    try:
        orgs.update_org_unit(db, principal, unit_id=unit_id, data=parse_form(OrgUnitUpdate, fields))
    except ValidationFailed as exc:
        return _detail(
            request,
            db,
            principal,
            unit_id,
            status_code=422,
            errors=field_errors(exc, translator(request)),
            failed_action="edit",
        )
    return redirect(request, f"/admin/org-units/{unit_id}", flash=("success", N_("Changes saved.")))


@router.post("/{unit_id}/move")
async def move_unit(
    request: Request,
    unit_id: PathId,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.ORG_WRITE)),
) -> Response:
    fields = blank_to_none(await form_fields(request), "effective_date")
    try:
        move = orgs.move_org_unit(db, principal, unit_id=unit_id, data=parse_form(OrgUnitMoveIn, fields))
    except ValidationFailed as exc:
        return _detail(
            request,
            db,
            principal,
            unit_id,
            status_code=422,
            errors=field_errors(exc, translator(request)),
            failed_action="move",
        )
    message = N_("Unit moved.") if move.status == "applied" else N_("Move scheduled for %(date)s.")
    return redirect(
        request,
        f"/admin/org-units/{unit_id}",
        flash=("success", message),
        date=move.effective_date.isoformat(),
    )


@router.post("/{unit_id}/close")
async def close_unit(
    request: Request,
    unit_id: PathId,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.ORG_WRITE)),
) -> Response:
    return await _set_active(request, db, principal, unit_id, active=False)


@router.post("/{unit_id}/reopen")
async def reopen_unit(
    request: Request,
    unit_id: PathId,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.ORG_WRITE)),
) -> Response:
    return await _set_active(request, db, principal, unit_id, active=True)


async def _set_active(
    request: Request, db: Session, principal: Principal, unit_id: int, *, active: bool
) -> Response:
    try:
        data = parse_form(DisableIn, await form_fields(request))
        orgs.set_org_unit_active(db, principal, unit_id=unit_id, active=active, reason=data.reason)
    except ValidationFailed as exc:
        return _detail(
            request,
            db,
            principal,
            unit_id,
            status_code=422,
            errors=field_errors(exc, translator(request)),
            failed_action="close",
        )
    return redirect(
        request,
        f"/admin/org-units/{unit_id}",
        flash=("success", N_("Unit reopened.") if active else N_("Unit closed.")),
    )
