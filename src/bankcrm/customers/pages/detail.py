"""The 360° page: a header, then sections that load after it (HTMX), and quick actions.

The sections that read only the operational store are quick; they come together in one request,
each swapped into its own card. The sections that read the lake (a customer's whole history) come
one request each, so a slow one never holds the others back. Every section's own URL answers on
its own too (filters, paging, a refresh).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from markupsafe import Markup
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from bankcrm.core.errors import DomainError, ValidationFailed, problems_from_pydantic
from bankcrm.core.formatting import business_today
from bankcrm.core.i18n import N_
from bankcrm.core.logging import get_logger
from bankcrm.core.pagination import PageRequest
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.core.validation import parse_row_id
from bankcrm.customers.pages.labels import LABELS
from bankcrm.customers.schemas import (
    AssistantIn,
    ConsentIn,
    CorporateContactIn,
    CustomerHeader,
    DoNotContactIn,
    InteractionIn,
    ReasonIn,
    RelationshipIn,
    RevealIn,
    TransactionFilter,
)
from bankcrm.customers.service import (
    contacts,
    customers,
    interactions,
    portfolio,
    relationships,
    tags,
    view360,
)
from bankcrm.customers.service.errors import CustomerNotFound
from bankcrm.identity.service import users
from bankcrm.web.auth import PrincipalRoute, require
from bankcrm.web.errors import HTTP_DETAILS
from bankcrm.web.forms import (
    blank_to_none,
    field_errors,
    form_fields,
    parse_form,
    parse_page,
)
from bankcrm.web.params import PathId
from bankcrm.web.render import Renderer, redirect, translator
from bankcrm.web.render import page as render
from bankcrm.web.transaction import db_session

router = APIRouter(prefix="/customers/{customer_id}", route_class=PrincipalRoute)
# Order matters for the layout: half-width pairs, with accounts and transactions at full width.
SECTIONS = (
    "assets",
    "holdings",
    "accounts",
    "transactions",
    "timeline",
    "tags",
    "relationships",
    "contacts",
    "sources",
    "scores",
)
LAKE_SECTIONS = ("assets", "transactions")
STORE_SECTIONS = tuple(name for name in SECTIONS if name not in LAKE_SECTIONS)
READ = Depends(require(Permission.CUSTOMER_READ))
log = get_logger(__name__)
TXN_CATEGORIES = tuple(LABELS["txn_category"])
TXN_FILTER_KEYS = ("date_from", "date_to", "min_amount", "max_amount", "direction", "category", "channel")


@router.get("")
def customer_360(
    request: Request, customer_id: PathId, db: Session = Depends(db_session), principal: Principal = READ
) -> Response:
    return render(
        request, "customers/view360.html", _page_context(db, principal, customer_id), principal=principal
    )


def _page_context(db: Session, principal: Principal, customer_id: int, **extra: Any) -> dict[str, Any]:
    return {
        "customer": customers.get_customer(db, principal, customer_id=customer_id),
        "assignments": portfolio.assignments(db, principal, customer_id=customer_id),
        "sections": SECTIONS,
        "store_sections": STORE_SECTIONS,
        "tags": tags.list_tags(db, principal),
        "my_groups": tags.my_groups(db, principal),
        "today": business_today(),
        "interaction_errors": {},
        "interaction_values": {},
        **extra,
    }


def _section_context(
    db: Session, principal: Principal, customer_id: int, name: str, request: Request
) -> dict[str, Any]:
    if name == "assets":
        return {"assets": view360.assets(db, principal, customer_id=customer_id)}
    if name == "accounts":
        return {"accounts": view360.accounts(db, principal, customer_id=customer_id)}
    if name == "holdings":
        return {"holdings": view360.holdings(db, principal, customer_id=customer_id)}
    if name == "transactions":
        return _transactions_context(db, principal, customer_id, request)
    if name == "timeline":
        return {"timeline": view360.timeline(db, principal, customer_id=customer_id)}
    if name == "tags":
        return {
            "customer_tags": tags.tags_of(db, principal, customer_id=customer_id),
            "tag_history": tags.tag_history(db, principal, customer_id=customer_id, limit=8),
            "groups": tags.groups_of(db, principal, customer_id=customer_id),
            "all_tags": tags.list_tags(db, principal),
            "my_groups": tags.my_groups(db, principal),
        }
    if name == "relationships":
        return {
            "links": relationships.relationships(db, principal, customer_id=customer_id),
            "household": relationships.household(db, principal, customer_id=customer_id),
        }
    if name == "contacts":
        return {
            "contacts": view360.contact_points(db, principal, customer_id=customer_id),
            "consents": view360.consents(db, principal, customer_id=customer_id),
            "corporate_contacts": contacts.list_contacts(db, principal, customer_id=customer_id),
            "assignments": portfolio.assignments(db, principal, customer_id=customer_id),
            "rms": users.portfolio_owners(db, principal) if principal.can(Permission.CUSTOMER_WRITE) else [],
        }
    if name == "sources":
        return {
            "xrefs": view360.xrefs(db, principal, customer_id=customer_id),
            "quality": view360.data_quality_flags(db, principal, customer_id=customer_id),
        }
    scores = view360.scores(db, principal, customer_id=customer_id)
    as_of = next((score.computed_on for score in scores if score.computed_on is not None), None)
    history = view360.tier_history(db, principal, customer_id=customer_id)
    return {"scores": scores, "scores_as_of": as_of, "tier_history": history}


def _transactions_context(
    db: Session, principal: Principal, customer_id: int, request: Request
) -> dict[str, Any]:
    values = {key: request.query_params.get(key, "") for key in TXN_FILTER_KEYS}
    errors: dict[str, str] = {}
    try:
        filters = TransactionFilter.model_validate({k: v for k, v in values.items() if v})
    except ValidationError as exc:
        errors = field_errors(ValidationFailed(problems_from_pydantic(exc)), translator(request))
        filters = TransactionFilter()
    result = view360.transactions(
        db,
        principal,
        customer_id=customer_id,
        filters=filters,
        page=PageRequest(parse_page(request.query_params.get("page")), 25),
    )
    # Categories are codes; people choose them by name (a source's own code still filters from a link).
    return {"txns": result, "txn_values": values, "txn_errors": errors, "txn_categories": TXN_CATEGORIES}


@router.get("/sections/{name}")
def section(
    request: Request,
    customer_id: PathId,
    name: str,
    db: Session = Depends(db_session),
    principal: Principal = READ,
) -> Response:
    """One section as an HTML fragment; a failure shows in the section, the rest of the page stays."""
    if name not in SECTIONS:
        return render(
            request,
            "customers/sections/error.html",
            {"message": translator(request).gettext(HTTP_DETAILS[404])},
            principal=principal,
            status_code=404,
        )
    customer = customers.get_customer_header(db, principal, customer_id=customer_id)
    context = {
        "customer": customer,
        "section": name,
        **_section_context(db, principal, customer_id, name, request),
    }
    return render(request, f"customers/sections/{name}.html", context, principal=principal)


@router.get("/sections")
def store_sections(
    request: Request, customer_id: PathId, db: Session = Depends(db_session), principal: Principal = READ
) -> Response:
    """The operational-store sections in one response, each an out-of-band swap into its own card.

    One request instead of eight saves their fixed cost (session, principal, access check, the
    thread hop), about half of what these sections cost. A section that fails shows its error in its
    own card; the others still arrive.
    """
    customer = customers.get_customer_header(db, principal, customer_id=customer_id)
    parts = [_store_section_html(request, db, principal, customer, name) for name in STORE_SECTIONS]
    return render(request, "customers/sections/group.html", {"parts": parts}, principal=principal)


def _store_section_html(
    request: Request, db: Session, principal: Principal, customer: CustomerHeader, name: str
) -> tuple[str, Markup]:
    renderer: Renderer = request.app.state.renderer
    try:
        context = {
            "customer": customer,
            "section": name,
            **_section_context(db, principal, customer.id, name, request),
        }
        template = f"customers/sections/{name}.html"
        return name, renderer.fragment(request, template, context, principal=principal)
    except DomainError as exc:
        message = translator(request).gettext(exc.message, **exc.params)
    except Exception:
        log.exception("customer360.section_failed", section=name, customer_id=customer.id)
        # A failed statement leaves a PostgreSQL transaction unusable; this one only read.
        db.rollback()
        message = translator(request).gettext(HTTP_DETAILS[500])
    error = {"message": message}
    return name, renderer.fragment(request, "customers/sections/error.html", error, principal=principal)


@router.post("/interactions")
async def log_interaction(
    request: Request,
    customer_id: PathId,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.INTERACTION_WRITE)),
) -> Response:
    fields = blank_to_none(await form_fields(request), "next_step", "follow_up_on", "occurred_at")
    try:
        interactions.log_interaction(
            db, principal, customer_id=customer_id, data=parse_form(InteractionIn, fields)
        )
    except ValidationFailed as exc:
        # The whole 360 page again (the form is posted without HTMX), its form open with the errors.
        context = _page_context(
            db,
            principal,
            customer_id,
            interaction_errors=field_errors(exc, translator(request)),
            interaction_values=fields,
        )
        return render(request, "customers/view360.html", context, principal=principal, status_code=422)
    return redirect(request, f"/customers/{customer_id}", flash=("success", N_("Interaction logged.")))


@router.post("/tags")
async def change_tag(
    request: Request,
    customer_id: PathId,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.CUSTOMER_TAG)),
) -> Response:
    fields = await form_fields(request)
    target = str(fields.get("target", ""))
    kind, _, raw = target.partition(":")
    add = fields.get("operation", "add") == "add"
    chosen = parse_row_id(raw)
    if chosen is None:
        return redirect(
            request, f"/customers/{customer_id}", flash=("warning", N_("Choose a tag or a list."))
        )
    if kind == "tag":
        tags.tag_customers(db, principal, tag_id=chosen, customer_ids=[customer_id], add=add)
    else:
        tags.set_group_membership(db, principal, group_id=chosen, customer_ids=[customer_id], add=add)
    return redirect(request, f"/customers/{customer_id}", flash=("success", N_("Saved.")))


@router.post("/reveal")
async def reveal(
    request: Request,
    customer_id: PathId,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.PII_UNMASK)),
) -> Response:
    fields = await form_fields(request)
    # The form echoes the masked value so an error can redraw it; it is not part of the request.
    masked = fields.pop("masked", "")
    try:
        result = customers.reveal(db, principal, customer_id=customer_id, data=parse_form(RevealIn, fields))
    except ValidationFailed as exc:
        return render(
            request,
            "components/masked_fragment.html",
            {
                "url": f"/customers/{customer_id}/reveal",
                "field": fields.get("field", ""),
                "masked": masked,
                "error": next(iter(field_errors(exc, translator(request)).values())),
            },
            principal=principal,
        )
    return render(request, "components/revealed.html", {"value": result.value}, principal=principal)


@router.post("/status")
async def change_status(
    request: Request,
    customer_id: PathId,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.CUSTOMER_DEACTIVATE)),
) -> Response:
    fields = await form_fields(request)
    active = fields.get("active") == "true"
    try:
        customers.set_active(
            db,
            principal,
            customer_id=customer_id,
            active=active,
            reason=parse_form(ReasonIn, {"reason": fields.get("reason", "")}).reason,
        )
    except ValidationFailed as exc:
        return redirect(
            request,
            f"/customers/{customer_id}",
            flash=("danger", N_("Not saved: %(why)s")),
            why="; ".join(field_errors(exc, translator(request)).values()),
        )
    message = N_("Customer reactivated.") if active else N_("Customer deactivated.")
    return redirect(request, f"/customers/{customer_id}", flash=("success", message))


async def _apply(
    request: Request, customer_id: int, action: Callable[[dict[str, Any]], None], done: str
) -> Response:
    """Run a small 360 action from a form; show the outcome as a flash message on the 360 page."""
    fields = await form_fields(request)
    try:
        action(fields)
    except ValidationFailed as exc:
        return redirect(
            request,
            f"/customers/{customer_id}",
            flash=("danger", N_("Not saved: %(why)s")),
            why="; ".join(field_errors(exc, translator(request)).values()),
        )
    return redirect(request, f"/customers/{customer_id}", flash=("success", done))


WRITE = Depends(require(Permission.CUSTOMER_WRITE))


@router.post("/consents")
async def set_consent(
    request: Request, customer_id: PathId, db: Session = Depends(db_session), principal: Principal = WRITE
) -> Response:
    def act(fields: dict[str, Any]) -> None:
        data = parse_form(
            ConsentIn,
            {
                "channel": fields.get("channel"),
                "granted": fields.get("granted") == "true",
                "source": fields.get("source") or "crm",
            },
        )
        customers.set_consent(
            db,
            principal,
            customer_id=customer_id,
            channel=data.channel,
            granted=data.granted,
            source=data.source,
        )

    return await _apply(request, customer_id, act, N_("Consent recorded."))


@router.post("/do-not-contact")
async def set_do_not_contact(
    request: Request, customer_id: PathId, db: Session = Depends(db_session), principal: Principal = WRITE
) -> Response:
    def act(fields: dict[str, Any]) -> None:
        data = parse_form(
            DoNotContactIn,
            {"do_not_contact": fields.get("do_not_contact") == "true", "reason": fields.get("reason", "")},
        )
        customers.set_do_not_contact(
            db, principal, customer_id=customer_id, value=data.do_not_contact, reason=data.reason
        )

    return await _apply(request, customer_id, act, N_("Saved."))


@router.post("/corporate-contacts")
async def add_corporate_contact(
    request: Request, customer_id: PathId, db: Session = Depends(db_session), principal: Principal = WRITE
) -> Response:
    def act(fields: dict[str, Any]) -> None:
        data = parse_form(CorporateContactIn, blank_to_none(fields, "mobile", "id_type", "id_number"))
        contacts.add_contact(db, principal, customer_id=customer_id, data=data)

    return await _apply(request, customer_id, act, N_("Contact added."))


@router.post("/relationships")
async def add_relationship(
    request: Request, customer_id: PathId, db: Session = Depends(db_session), principal: Principal = WRITE
) -> Response:
    # The customer of the page first: outside the scope it is a 404 page, whatever number was typed.
    customers.get_customer(db, principal, customer_id=customer_id)

    def act(fields: dict[str, Any]) -> None:
        number = str(fields.get("customer_no", ""))
        try:
            other = customers.find_by_number(db, principal, customer_no=number)
        except CustomerNotFound as exc:
            raise ValidationFailed.single(
                "customer_no", "customer.exists", exc.message, number, **exc.params
            ) from exc
        data = parse_form(
            RelationshipIn,
            {
                "to_customer_id": other.id,
                "kind": fields.get("kind"),
                "share_pct": fields.get("share_pct") or None,
            },
        )
        relationships.add_relationship(db, principal, customer_id=customer_id, data=data)

    return await _apply(request, customer_id, act, N_("Relationship added."))


@router.post("/relationships/{relationship_id}/end")
async def end_relationship(
    request: Request,
    customer_id: PathId,
    relationship_id: PathId,
    db: Session = Depends(db_session),
    principal: Principal = WRITE,
) -> Response:
    def act(fields: dict[str, Any]) -> None:
        reason = parse_form(ReasonIn, {"reason": fields.get("reason", "")}).reason
        relationships.end_relationship(
            db, principal, customer_id=customer_id, relationship_id=relationship_id, reason=reason
        )

    return await _apply(request, customer_id, act, N_("Relationship ended."))


@router.post("/assistants")
async def add_assistant(
    request: Request, customer_id: PathId, db: Session = Depends(db_session), principal: Principal = WRITE
) -> Response:
    def act(fields: dict[str, Any]) -> None:
        data = parse_form(AssistantIn, {"user_id": fields.get("user_id")})
        portfolio.add_assistant(db, principal, customer_id=customer_id, user_id=data.user_id)

    return await _apply(request, customer_id, act, N_("Assistant added."))
