"""Maker-checker pages: merge requests (compare, request, review, undo) and portfolio handovers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from bankcrm.core.errors import Conflict, DomainError, ValidationFailed
from bankcrm.core.i18n import N_
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.core.validation import parse_row_id
from bankcrm.customers.schemas import HandoverIn, MergeRequestIn
from bankcrm.customers.service import customers, interactions, merge, portfolio
from bankcrm.customers.service.merge import MERGEABLE_FIELDS
from bankcrm.identity.service import users
from bankcrm.web.auth import PrincipalRoute, require
from bankcrm.web.forms import field_errors, form_fields, parse_form
from bankcrm.web.params import PathId
from bankcrm.web.render import page as render
from bankcrm.web.render import redirect, translator
from bankcrm.web.transaction import db_session

router = APIRouter(prefix="/customers", route_class=PrincipalRoute)
READ = Depends(require(Permission.CUSTOMER_READ))


def _ids(raw: str) -> list[int]:
    parsed = (parse_row_id(part) for part in raw.replace(" ", ",").split(","))
    return [i for i in parsed if i is not None][:10]


# A refused rule (bad input, a conflict) is explained on the page; a record outside the scope and a
# missing right are not the page's to explain: they answer 404 and 403 like everywhere else.
REFUSED = (ValidationFailed, Conflict)


def _why(request: Request, exc: DomainError) -> str:
    translate = translator(request)
    if isinstance(exc, ValidationFailed):
        return "; ".join(translate.gettext(p.message, **p.params) for p in exc.problems)
    return translate.gettext(exc.message, **exc.params)


@router.get("/merges")
def merge_queue(request: Request, db: Session = Depends(db_session), principal: Principal = READ) -> Response:
    status = request.query_params.get("status") or "pending"
    status = status if status in ("pending", "approved", "rejected", "void", "unmerged") else "pending"
    return render(
        request,
        "customers/merges.html",
        {"merges": merge.list_merges(db, principal, status=status), "status": status},
        principal=principal,
    )


@router.get("/merges/new")
def compare_for_merge(
    request: Request,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.MERGE_REQUEST)),
) -> Response:
    """Side by side: every field of every candidate, with a choice of the value that survives."""
    ids = _ids(",".join(request.query_params.getlist("customer_ids")) or request.query_params.get("ids", ""))
    candidates = [customers.get_customer(db, principal, customer_id=i) for i in ids]
    return render(
        request,
        "customers/merge_compare.html",
        {"candidates": candidates, "fields": MERGEABLE_FIELDS, "errors": [], "ids": ids},
        principal=principal,
    )


@router.post("/merges/new")
async def request_merge(
    request: Request,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.MERGE_REQUEST)),
) -> Response:
    fields = await form_fields(request)
    ids = _ids(
        ",".join(fields.get("ids", [])) if isinstance(fields.get("ids"), list) else str(fields.get("ids", ""))
    )
    survivor = str(fields.get("survivor_id", ""))
    chosen = {
        field: chosen
        for field in MERGEABLE_FIELDS
        if (chosen := parse_row_id(str(fields.get(f"choose_{field}", "")))) is not None
    }
    try:
        data = parse_form(
            MergeRequestIn,
            {
                "survivor_id": survivor,
                "merged_ids": [i for i in ids if str(i) != survivor],
                "chosen_values": {k: v for k, v in chosen.items() if str(v) != survivor},
                "reason": fields.get("reason", ""),
            },
        )
        created = merge.request_merge(db, principal, data=data)
    except REFUSED as exc:
        candidates = [customers.get_customer(db, principal, customer_id=i) for i in ids]
        return render(
            request,
            "customers/merge_compare.html",
            {
                "candidates": candidates,
                "fields": MERGEABLE_FIELDS,
                "errors": [_why(request, exc)],
                "ids": ids,
            },
            principal=principal,
            status_code=422,
        )
    return redirect(
        request,
        f"/customers/merges/{created.id}",
        flash=("success", N_("Merge request filed; another authorised user must approve it.")),
    )


def _review_context(db: Session, principal: Principal, merge_id: int) -> dict[str, Any]:
    request_out = merge.get_merge(db, principal, merge_id=merge_id)
    ids = [request_out.survivor_id, *request_out.merged_ids]
    return {
        "merge": request_out,
        "candidates": [customers.get_customer(db, principal, customer_id=i) for i in ids],
        "fields": MERGEABLE_FIELDS,
    }


@router.get("/merges/{merge_id}")
def review_merge(
    request: Request, merge_id: PathId, db: Session = Depends(db_session), principal: Principal = READ
) -> Response:
    return render(
        request, "customers/merge_review.html", _review_context(db, principal, merge_id), principal=principal
    )


@router.post("/merges/{merge_id}/decision")
async def decide_merge(
    request: Request,
    merge_id: PathId,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.MERGE_APPROVE)),
) -> Response:
    fields = await form_fields(request)
    decision = fields.get("decision")
    version = int(str(fields.get("version", "0"))) if str(fields.get("version", "")).isdigit() else 0
    note = str(fields.get("note", "")).strip()
    try:
        if decision != "approve" and len(note) < 4:
            raise ValidationFailed.single(
                "note", "string_too_short", N_("Give a reason of at least 4 characters.")
            )
        if decision == "approve":
            merge.approve_merge(db, principal, merge_id=merge_id, version=version)
            message = N_("Merge approved.")
        elif decision == "unmerge":
            merge.unmerge(db, principal, merge_id=merge_id, reason=note)
            message = N_("Merge undone; the customers are separate again.")
        else:
            merge.reject_merge(db, principal, merge_id=merge_id, note=note)
            message = N_("Merge rejected.")
    except REFUSED as exc:
        return redirect(
            request,
            f"/customers/merges/{merge_id}",
            flash=("danger", N_("Not done: %(why)s")),
            why=_why(request, exc),
        )
    return redirect(request, f"/customers/merges/{merge_id}", flash=("success", message))


@router.get("/handovers")
def handovers(request: Request, db: Session = Depends(db_session), principal: Principal = READ) -> Response:
    return render(
        request,
        "customers/handovers.html",
        {
            "handovers": portfolio.list_handovers(db, principal),
            "rms": users.portfolio_owners(db, principal),
            "errors": {},
            "values": {},
        },
        principal=principal,
    )


@router.post("/handovers")
async def request_handover(
    request: Request,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.HANDOVER_REQUEST)),
) -> Response:
    fields = await form_fields(request)
    raw_ids = str(fields.get("customer_ids", "")).strip()
    payload = {
        "from_rm_id": fields.get("from_rm_id"),
        "to_rm_id": fields.get("to_rm_id"),
        "customer_ids": _ids(raw_ids) if raw_ids else None,
        "reason": fields.get("reason", ""),
    }
    try:
        portfolio.request_handover(db, principal, data=parse_form(HandoverIn, payload))
    except ValidationFailed as exc:
        return render(
            request,
            "customers/handovers.html",
            {
                "handovers": portfolio.list_handovers(db, principal),
                "rms": users.portfolio_owners(db, principal),
                "errors": field_errors(exc, translator(request)),
                "values": fields,
            },
            principal=principal,
            status_code=422,
        )
    return redirect(
        request,
        "/customers/handovers",
        flash=("success", N_("Handover requested; another authorised user must approve it.")),
    )


@router.post("/handovers/{handover_id}/decision")
async def decide_handover(
    request: Request,
    handover_id: PathId,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.HANDOVER_APPROVE)),
) -> Response:
    fields = await form_fields(request)
    note = str(fields.get("note", "")).strip() or "-"
    try:
        portfolio.decide_handover(
            db, principal, handover_id=handover_id, approve=fields.get("decision") == "approve", note=note
        )
    except REFUSED as exc:
        return redirect(
            request, "/customers/handovers", flash=("danger", N_("Not done: %(why)s")), why=_why(request, exc)
        )
    return redirect(request, "/customers/handovers", flash=("success", N_("Decision recorded.")))


@router.post("/follow-ups/{interaction_id}/done")
def follow_up_done(
    request: Request,
    interaction_id: PathId,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.INTERACTION_WRITE)),
) -> Response:
    interactions.complete_follow_up(db, principal, interaction_id=interaction_id)
    return redirect(request, "/", flash=("success", N_("Follow-up done.")))
