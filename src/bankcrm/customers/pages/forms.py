"""Create and edit customers; likely duplicates are shown before saving, with the reason."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from bankcrm.core.errors import ValidationFailed
from bankcrm.core.i18n import N_
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.customers.schemas import CORPORATE_ID_TYPES, INDIVIDUAL_ID_TYPES, CustomerCreate, CustomerUpdate
from bankcrm.customers.service import customers
from bankcrm.customers.service.errors import LikelyDuplicates
from bankcrm.identity.service import orgs, users
from bankcrm.web.auth import PrincipalRoute, require
from bankcrm.web.forms import blank_to_none, field_errors, form_fields, parse_form
from bankcrm.web.params import PathId
from bankcrm.web.render import page as render
from bankcrm.web.render import redirect, translator
from bankcrm.web.transaction import db_session

router = APIRouter(prefix="/customers", route_class=PrincipalRoute)
OPTIONAL = (
    "name_en",
    "birth_date",
    "gender",
    "mobile",
    "email",
    "address",
    "occupation",
    "income_band",
    "industry",
    "registered_capital",
    "risk_level",
    "risk_assessed_on",
    "org_unit_id",
    "primary_rm_id",
)
WRITE = Depends(require(Permission.CUSTOMER_WRITE))


def _choices(db: Session, principal: Principal) -> dict[str, Any]:
    return {
        "units": [u for u in orgs.org_unit_choices(db, principal) if u.is_active]
        if principal.can(Permission.ORG_READ)
        else [],
        "rms": users.portfolio_owners(db, principal),
        "individual_id_types": INDIVIDUAL_ID_TYPES,
        "corporate_id_types": CORPORATE_ID_TYPES,
    }


def _form(
    request: Request,
    db: Session,
    principal: Principal,
    *,
    customer: Any,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    duplicates: list[Any] | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "customer": customer,
        "values": values,
        "errors": errors or {},
        "duplicates": duplicates or [],
        **_choices(db, principal),
    }
    return render(request, "customers/form.html", context, principal=principal, status_code=status_code)


def _checkbox(fields: dict[str, Any]) -> dict[str, Any]:
    fields["confirm_not_duplicate"] = fields.get("confirm_not_duplicate") == "on"
    return fields


@router.get("/new")
def new_customer(
    request: Request, db: Session = Depends(db_session), principal: Principal = WRITE
) -> Response:
    kind = "corporate" if request.query_params.get("kind") == "corporate" else "individual"
    values = {
        "kind": kind,
        "id_type": "resident_id" if kind == "individual" else "uscc",
        "nationality": "CHN",
    }
    return _form(request, db, principal, customer=None, values=values)


@router.post("/new")
async def create_customer(
    request: Request, db: Session = Depends(db_session), principal: Principal = WRITE
) -> Response:
    fields = _checkbox(blank_to_none(await form_fields(request), *OPTIONAL))
    try:
        created = customers.create_customer(db, principal, data=parse_form(CustomerCreate, fields))
    except LikelyDuplicates as exc:
        return _form(
            request,
            db,
            principal,
            customer=None,
            values=fields,
            duplicates=[translator(request).gettext(p.message, **p.params) for p in exc.problems],
            status_code=409,
        )
    except ValidationFailed as exc:
        return _form(
            request,
            db,
            principal,
            customer=None,
            values=fields,
            errors=field_errors(exc, translator(request)),
            status_code=422,
        )
    return redirect(
        request,
        f"/customers/{created.id}",
        flash=("success", N_("Customer %(no)s created.")),
        no=created.customer_no,
    )


@router.get("/{customer_id}/edit")
def edit_customer(
    request: Request, customer_id: PathId, db: Session = Depends(db_session), principal: Principal = WRITE
) -> Response:
    customer = customers.get_customer(db, principal, customer_id=customer_id)
    values = customer.model_dump()
    # Identifiers and contact data are shown masked as hints; blank fields keep what is stored.
    for masked in ("id_number", "mobile", "email", "address"):
        values[masked] = ""
    return _form(request, db, principal, customer=customer, values=values)


@router.post("/{customer_id}/edit")
async def update_customer(
    request: Request, customer_id: PathId, db: Session = Depends(db_session), principal: Principal = WRITE
) -> Response:
    customer = customers.get_customer(db, principal, customer_id=customer_id)
    fields = _checkbox(blank_to_none(await form_fields(request), *OPTIONAL))
    for keep in ("mobile", "email", "address"):
        if fields.get(keep) is None:
            fields.pop(keep, None)  # not sent = unchanged
    if not fields.get("id_number"):
        fields.pop("id_number", None)  # blank keeps the stored number, which never reaches the page
    fields.pop("kind", None)
    for ignored in ("org_unit_id", "primary_rm_id"):
        fields.pop(ignored, None)  # placement changes go through a handover
    try:
        customers.update_customer(
            db, principal, customer_id=customer_id, data=parse_form(CustomerUpdate, fields)
        )
    except LikelyDuplicates as exc:
        return _form(
            request,
            db,
            principal,
            customer=customer,
            values=fields,
            duplicates=[translator(request).gettext(p.message, **p.params) for p in exc.problems],
            status_code=409,
        )
    except ValidationFailed as exc:
        return _form(
            request,
            db,
            principal,
            customer=customer,
            values=fields,
            errors=field_errors(exc, translator(request)),
            status_code=422,
        )
    return redirect(request, f"/customers/{customer_id}", flash=("success", N_("Changes saved.")))
