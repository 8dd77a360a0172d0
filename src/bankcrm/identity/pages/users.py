"""User administration pages: list with search and paging, create, edit, disable, reset, reveal."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from bankcrm.core.errors import ValidationFailed
from bankcrm.core.i18n import N_
from bankcrm.core.pagination import PageRequest
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.core.validation import parse_row_id
from bankcrm.identity.schemas import DisableIn, PasswordReset, RevealIn, UserCreate, UserUpdate
from bankcrm.identity.service import orgs, roles, users
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

router = APIRouter(prefix="/admin/users", route_class=PrincipalRoute)
SORTS = ("username", "display_name", "last_login_at", "created_at")


def _choices(db: Session, principal: Principal) -> dict[str, Any]:
    return {"units": orgs.org_unit_choices(db, principal), "role_codes": roles.role_codes(db)}


@router.get("")
def list_users(
    request: Request,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.USER_READ)),
) -> Response:
    params = request.query_params
    sort = params.get("sort", "username")
    if sort.lstrip("-") not in SORTS:
        sort = "username"
    search = query_text(params.get("q"), 100)
    role = query_text(params.get("role"), 40)
    unit_id = parse_row_id(params.get("org_unit_id"))
    active = parse_bool(params.get("active"))
    page = users.list_users(
        db,
        principal,
        page=PageRequest(parse_page(params.get("page")), 25),
        search=search,
        role=role,
        org_unit_id=unit_id,
        active=active,
        sort=sort.lstrip("-"),
        descending=sort.startswith("-"),
    )
    context = {
        "page": page,
        "q": search or "",
        "role": role or "",
        "org_unit_id": unit_id,
        "active": params.get("active", ""),
        "sort": sort,
        **_choices(db, principal),
    }
    template = (
        "identity/users_table.html"
        if request.headers.get("hx-target") == "users-table"
        else "identity/users.html"
    )
    return render(request, template, context, principal=principal)


def _form_context(db: Session, principal: Principal, **extra: Any) -> dict[str, Any]:
    return {"errors": {}, "values": {}, **_choices(db, principal), **extra}


@router.get("/new")
def new_user_form(
    request: Request,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.USER_WRITE)),
) -> Response:
    return render(
        request, "identity/user_form.html", _form_context(db, principal, user=None), principal=principal
    )


@router.post("/new")
async def create_user(
    request: Request,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.USER_WRITE)),
) -> Response:
    fields = blank_to_none(await form_fields(request), "email", "mobile", "employee_no", "password")
    try:
        created = users.create_user(db, principal, data=parse_form(UserCreate, fields))
    except ValidationFailed as exc:
        return render(
            request,
            "identity/user_form.html",
            _form_context(
                db, principal, user=None, values=fields, errors=field_errors(exc, translator(request))
            ),
            principal=principal,
            status_code=422,
        )
    return redirect(
        request,
        f"/admin/users/{created.id}",
        flash=("success", N_("User %(name)s created.")),
        name=created.username,
    )


@router.get("/{user_id}")
def show_user(
    request: Request,
    user_id: PathId,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.USER_READ)),
) -> Response:
    user = users.get_user(db, principal, user_id=user_id)
    return render(
        request,
        "identity/user_detail.html",
        {"user": user, "errors": {}, "failed_action": ""},
        principal=principal,
    )


@router.get("/{user_id}/edit")
def edit_user_form(
    request: Request,
    user_id: PathId,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.USER_WRITE)),
) -> Response:
    user = users.get_user(db, principal, user_id=user_id)
    values = user.model_dump()
    values["mobile"] = ""  # shown masked as a hint; a blank field keeps the stored number
    return render(
        request,
        "identity/user_form.html",
        _form_context(db, principal, user=user, values=values),
        principal=principal,
    )


@router.post("/{user_id}/edit")
async def update_user(
    request: Request,
    user_id: PathId,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.USER_WRITE)),
) -> Response:
    user = users.get_user(db, principal, user_id=user_id)
    fields = blank_to_none(await form_fields(request), "email", "employee_no")
    if not fields.get("mobile"):
        fields.pop("mobile", None)  # not sent = keep the current number (PATCH semantics)
    try:
        data = parse_form(UserUpdate, fields)
        updated = users.update_user(db, principal, user_id=user_id, data=data)
    except ValidationFailed as exc:
        return render(
            request,
            "identity/user_form.html",
            _form_context(
                db, principal, user=user, values=fields, errors=field_errors(exc, translator(request))
            ),
            principal=principal,
            status_code=422,
        )
    return redirect(request, f"/admin/users/{updated.id}", flash=("success", N_("Changes saved.")))


async def _reason(request: Request) -> DisableIn:
    return parse_form(DisableIn, await form_fields(request))


def _detail_with_errors(
    request: Request, db: Session, principal: Principal, user_id: int, exc: ValidationFailed, action: str
) -> Response:
    user = users.get_user(db, principal, user_id=user_id)
    return render(
        request,
        "identity/user_detail.html",
        {"user": user, "errors": field_errors(exc, translator(request)), "failed_action": action},
        principal=principal,
        status_code=422,
    )


@router.post("/{user_id}/disable")
async def disable_user(
    request: Request,
    user_id: PathId,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.USER_WRITE)),
) -> Response:
    try:
        users.set_user_active(
            db, principal, user_id=user_id, active=False, reason=(await _reason(request)).reason
        )
    except ValidationFailed as exc:
        return _detail_with_errors(request, db, principal, user_id, exc, "disable")
    return redirect(
        request,
        f"/admin/users/{user_id}",
        flash=("success", N_("User disabled; their sessions and API tokens have ended.")),
    )


@router.post("/{user_id}/enable")
async def enable_user(
    request: Request,
    user_id: PathId,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.USER_WRITE)),
) -> Response:
    try:
        users.set_user_active(
            db, principal, user_id=user_id, active=True, reason=(await _reason(request)).reason
        )
    except ValidationFailed as exc:
        return _detail_with_errors(request, db, principal, user_id, exc, "enable")
    return redirect(request, f"/admin/users/{user_id}", flash=("success", N_("User enabled.")))


@router.post("/{user_id}/unlock")
async def unlock_user(
    request: Request,
    user_id: PathId,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.USER_WRITE)),
) -> Response:
    try:
        users.unlock_user(db, principal, user_id=user_id, reason=(await _reason(request)).reason)
    except ValidationFailed as exc:
        return _detail_with_errors(request, db, principal, user_id, exc, "unlock")
    return redirect(request, f"/admin/users/{user_id}", flash=("success", N_("User unlocked.")))


@router.post("/{user_id}/password-reset")
async def reset_password(
    request: Request,
    user_id: PathId,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.USER_WRITE)),
) -> Response:
    try:
        users.reset_password(
            db, principal, user_id=user_id, data=parse_form(PasswordReset, await form_fields(request))
        )
    except ValidationFailed as exc:
        return _detail_with_errors(request, db, principal, user_id, exc, "reset")
    return redirect(
        request,
        f"/admin/users/{user_id}",
        flash=("success", N_("Temporary password set; the user must change it at next sign-in.")),
    )


@router.post("/{user_id}/reveal")
async def reveal(
    request: Request,
    user_id: PathId,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.PII_UNMASK)),
) -> Response:
    """HTMX: swap the masked value for the clear one after a reason is given (audited)."""
    fields = await form_fields(request)
    # The form echoes the masked value so an error can redraw it; it is not part of the request.
    masked = fields.pop("masked", "")
    try:
        result = users.reveal(db, principal, user_id=user_id, data=parse_form(RevealIn, fields))
    except ValidationFailed as exc:
        return render(
            request,
            "components/masked_fragment.html",
            {
                "url": f"/admin/users/{user_id}/reveal",
                "field": fields.get("field", ""),
                "masked": masked,
                "error": next(iter(field_errors(exc, translator(request)).values())),
            },
            principal=principal,
            status_code=200,
        )
    return render(request, "components/revealed.html", {"value": result.value}, principal=principal)
