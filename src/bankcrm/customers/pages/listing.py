"""Customer list and search: one box, filters, sorting, paging, bulk tagging, export."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response, StreamingResponse

from bankcrm.core.errors import ValidationFailed, problems_from_pydantic
from bankcrm.core.i18n import N_
from bankcrm.core.pagination import PageRequest
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import DataScope, Principal
from bankcrm.core.validation import parse_row_id
from bankcrm.customers.schemas import CustomerFilter, GroupIn, TagIn
from bankcrm.customers.service import customers, tags
from bankcrm.identity.service import orgs, users
from bankcrm.web.auth import PrincipalRoute, require
from bankcrm.web.forms import (
    blank_to_none,
    field_errors,
    form_fields,
    parse_form,
    parse_page,
)
from bankcrm.web.render import page as render
from bankcrm.web.render import redirect, translator
from bankcrm.web.transaction import db_session

router = APIRouter(route_class=PrincipalRoute)
FILTER_KEYS = (
    "q",
    "kind",
    "tier",
    "status",
    "risk_level",
    "tag_id",
    "group_id",
    "org_unit_id",
    "rm_id",
    "mine",
    "sort",
)


def read_filter(values: dict[str, str]) -> CustomerFilter:
    cleaned: dict[str, Any] = {key: values[key] for key in FILTER_KEYS if values.get(key, "") != ""}
    if "status" not in cleaned:
        cleaned["status"] = "active"
    elif cleaned["status"] == "all":
        cleaned["status"] = None
    try:
        return CustomerFilter.model_validate(cleaned)
    except ValidationError as exc:
        raise ValidationFailed(problems_from_pydantic(exc)) from exc


@router.get("/search")
def global_search(
    request: Request, principal: Principal = Depends(require(Permission.CUSTOMER_READ))
) -> Response:
    """The top bar's search box lands on the customer list (the query passed on whole, as one value)."""
    query = (request.query_params.get("q") or "").strip()[:100]
    return RedirectResponse(
        f"/customers?{urlencode({'q': query})}" if query else "/customers", status_code=303
    )


@router.get("/customers")
def list_customers(
    request: Request,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.CUSTOMER_READ)),
) -> Response:
    values = {key: request.query_params.get(key, "") for key in FILTER_KEYS}
    errors: dict[str, str] = {}
    try:
        filters = read_filter(values)
        page = customers.list_customers(
            db, principal, filters=filters, page=PageRequest(parse_page(request.query_params.get("page")), 25)
        )
    except ValidationFailed as exc:
        errors = field_errors(exc, translator(request))
        filters = CustomerFilter()
        page = customers.list_customers(db, principal, filters=filters, page=PageRequest(1, 25))
    context = {
        "page": page,
        "values": values,
        "sort": filters.sort,
        "errors": errors,
        "tags": tags.list_tags(db, principal),
        "groups": tags.my_groups(db, principal),
        "units": orgs.org_unit_choices(db, principal) if principal.can(Permission.ORG_READ) else [],
        "rms": users.portfolio_owners(db, principal) if principal.scope is not DataScope.OWN else [],
    }
    template = (
        "customers/list_table.html"
        if request.headers.get("hx-target") == "customer-table"
        else "customers/list.html"
    )
    return render(request, template, context, principal=principal, status_code=422 if errors else 200)


@router.post("/customers/bulk")
async def bulk_action(
    request: Request,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.CUSTOMER_TAG)),
) -> Response:
    """Add or remove a tag or a list for the customers ticked in a search result."""
    fields = await form_fields(request)
    raw_ids = fields.get("customer_ids", [])
    parsed = (parse_row_id(str(i)) for i in (raw_ids if isinstance(raw_ids, list) else [raw_ids]))
    ids = [i for i in parsed if i is not None]
    back = str(fields.get("back", "/customers"))
    back = back if back.startswith("/customers") else "/customers"
    target = str(fields.get("target", ""))
    add = fields.get("operation", "add") == "add"
    if not ids or ":" not in target:
        return redirect(
            request, back, flash=("warning", N_("Tick customers and choose a tag or list first."))
        )
    kind, _, raw_target = target.partition(":")
    chosen = parse_row_id(raw_target)
    if chosen is None:
        return redirect(
            request, back, flash=("warning", N_("Tick customers and choose a tag or list first."))
        )
    if kind == "tag":
        changed = tags.tag_customers(db, principal, tag_id=chosen, customer_ids=ids, add=add)
    else:
        changed = tags.set_group_membership(db, principal, group_id=chosen, customer_ids=ids, add=add)
    return redirect(request, back, flash=("success", N_("%(count)s customers updated.")), count=changed)


@router.post("/customers/export")
async def export_customers(
    request: Request,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.CUSTOMER_EXPORT)),
) -> Response:
    fields = await form_fields(request)
    filters = read_filter({key: str(fields.get(key, "")) for key in FILTER_KEYS})
    rows = customers.export_csv(db, principal, filters=filters)
    return StreamingResponse(
        rows,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="customers-{principal.username}.csv"'},
    )


@router.get("/customers/lists")
def my_lists(
    request: Request,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.CUSTOMER_READ)),
) -> Response:
    return render(
        request,
        "customers/lists.html",
        {
            "groups": tags.my_groups(db, principal),
            "catalogue": tags.list_tags(db, principal),
            "errors": {},
            "values": {},
        },
        principal=principal,
    )


@router.post("/customers/lists")
async def create_list(
    request: Request,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.CUSTOMER_TAG)),
) -> Response:
    fields = blank_to_none(await form_fields(request), "description")
    try:
        tags.create_group(db, principal, data=parse_form(GroupIn, fields))
    except ValidationFailed as exc:
        return render(
            request,
            "customers/lists.html",
            {
                "groups": tags.my_groups(db, principal),
                "catalogue": tags.list_tags(db, principal),
                "errors": field_errors(exc, translator(request)),
                "values": fields,
            },
            principal=principal,
            status_code=422,
        )
    return redirect(request, "/customers/lists", flash=("success", N_("List created.")))


@router.post("/customers/tags")
async def create_tag(
    request: Request,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.TAG_MANAGE)),
) -> Response:
    fields = blank_to_none(await form_fields(request), "description")
    try:
        tags.create_tag(db, principal, data=parse_form(TagIn, fields))
    except ValidationFailed as exc:
        return render(
            request,
            "customers/lists.html",
            {
                "groups": tags.my_groups(db, principal),
                "catalogue": tags.list_tags(db, principal),
                "errors": field_errors(exc, translator(request)),
                "values": fields,
            },
            principal=principal,
            status_code=422,
        )
    return redirect(request, "/customers/lists", flash=("success", N_("Tag created.")))
