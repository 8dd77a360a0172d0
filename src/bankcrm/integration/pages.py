"""Integration pages: sources and their mappings, batches with counts, rejects, uploads."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.responses import Response, StreamingResponse

from bankcrm.core.errors import DomainError, NotFound, PermissionDenied
from bankcrm.core.i18n import N_
from bankcrm.core.pagination import PageRequest
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.core.validation import RowId
from bankcrm.integration.service import golden, matching, monitor, quality, runs
from bankcrm.web.auth import PrincipalRoute, require
from bankcrm.web.forms import parse_page
from bankcrm.web.render import Navigation, NavItem, Renderer, redirect, translator
from bankcrm.web.render import page as render
from bankcrm.web.transaction import db_session

router = APIRouter(prefix="/integration", include_in_schema=False, route_class=PrincipalRoute)
# Source and field codes in paths: short identifiers, never free text.
SourceCode = Annotated[str, PathParam(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
FieldCode = Annotated[str, PathParam(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
READ = Depends(require(Permission.INTEGRATION_READ))
SECTION = N_("Data integration")
MAX_UPLOAD = 200 * 1024 * 1024
# Canonical fields as people read them (the mapping files use the codes).
FIELD_LABELS = {
    "source_customer_no": N_("Source customer number"),
    "branch_code": N_("Branch code"),
    "kind": N_("Customer kind"),
    "name": N_("Name"),
    "name_en": N_("English name"),
    "pinyin": N_("Name reading (pinyin)"),
    "id_type": N_("ID type"),
    "id_number": N_("ID number"),
    "birth_date": N_("Date of birth"),
    "gender": N_("Gender"),
    "mobile": N_("Mobile"),
    "email": N_("Email"),
    "address": N_("Address"),
    "occupation": N_("Occupation"),
    "income_band": N_("Income band"),
    "industry": N_("Industry"),
    "risk_level": N_("Risk level"),
    "risk_assessed_on": N_("Risk assessed on"),
    "updated_at": N_("Updated in the source"),
    "txn_id": N_("Transaction id"),
    "account_no": N_("Account number"),
    "booked_at": N_("Booked at"),
    "direction": N_("Direction"),
    "amount": N_("Amount"),
    "currency": N_("Currency"),
    "category": N_("Category"),
    "channel": N_("Channel"),
    "counterparty": N_("Counterparty"),
    "description": N_("Description"),
}


LABELS = {
    "landed": N_("landed, resolving"),
    "loaded": N_("loaded"),
    "refused": N_("refused"),
    "skipped": N_("skipped"),
    "customers": N_("customers"),
    "transactions": N_("transactions"),
    "pending": N_("pending review"),
    "accepted": N_("accepted"),
    "rejected": N_("rejected"),
    "auto_merged": N_("merged automatically"),
    "same": N_("same"),
    "differs": N_("differs"),
    "blank": N_("blank"),
    "not_comparable": N_("different documents"),
}


# A batch's status as a badge colour: landed is on its way (resolving follows in the same run).
STATUS_BADGES = {"loaded": "bg-green-lt", "landed": "bg-yellow-lt"}

RULE_LABELS = {
    "most_trusted": N_("most trusted source"),
    "most_recent": N_("most recent value"),
    "most_complete": N_("most complete value"),
}


def integration_context(request: Request, principal: Principal | None) -> dict[str, Any]:
    del request, principal
    return {
        "integration_label": lambda code: LABELS.get(code, code),
        "field_label": lambda code: FIELD_LABELS.get(code, code),
        "rule_label": lambda code: RULE_LABELS.get(code, code),
        "status_badge": lambda status: STATUS_BADGES.get(status, "bg-red-lt"),
    }


# What integration writes to the audit trail, in words (Renderer.audit_labels).
AUDIT_LABELS = {
    "actions": {
        "ingest_landed": N_("Delivery landed"),
        "ingest": N_("Delivery loaded"),
        "ingest_refused": N_("Delivery refused"),
        "xref_linked": N_("Linked to a source record"),
        "update_from_source": N_("Updated from a source system"),
        "match_run": N_("Matching run"),
    },
    "entities": {
        "ingest_batch": N_("Delivery batch"),
        "match_candidate": N_("Possible duplicate"),
        "match_run": N_("Matching run"),
    },
}


def register_context(renderer: Renderer) -> None:
    renderer.add_context_processor(integration_context)
    renderer.audit_labels.add(**AUDIT_LABELS)


def register_navigation(navigation: Navigation) -> None:
    navigation.register(
        NavItem(
            "integration",
            N_("Sources"),
            "/integration",
            Permission.INTEGRATION_READ,
            icon="database-import",
            section=SECTION,
            order=80,
        ),
        NavItem(
            "matches",
            N_("Match review"),
            "/integration/matches",
            Permission.INTEGRATION_READ,
            icon="git-compare",
            section=SECTION,
            order=80,
        ),
        NavItem(
            "quality",
            N_("Data quality"),
            "/integration/quality",
            Permission.INTEGRATION_READ,
            icon="chart-bar",
            section=SECTION,
            order=80,
        ),
        NavItem(
            "batches",
            N_("Batches"),
            "/integration/batches",
            Permission.INTEGRATION_READ,
            icon="stack-2",
            section=SECTION,
            order=80,
        ),
    )


@router.get("")
def sources(request: Request, db: Session = Depends(db_session), principal: Principal = READ) -> Response:
    return render(
        request,
        "integration/sources.html",
        {"sources": monitor.sources(db, principal), "survivorship": golden.rules(principal)},
        principal=principal,
    )


@router.get("/batches")
def batches(request: Request, db: Session = Depends(db_session), principal: Principal = READ) -> Response:
    source = request.query_params.get("source") or None
    page = monitor.batches(
        db, principal, source=source, page=PageRequest(parse_page(request.query_params.get("page")), 25)
    )
    return render(
        request, "integration/batches.html", {"page": page, "source": source or ""}, principal=principal
    )


@router.get("/batches/{batch_id}")
def batch_detail(
    request: Request, batch_id: int, db: Session = Depends(db_session), principal: Principal = READ
) -> Response:
    batch = monitor.batch(db, principal, batch_id=batch_id)
    rejects = monitor.rejects(
        db, principal, batch_id=batch_id, page=PageRequest(parse_page(request.query_params.get("page")), 50)
    )
    figures = monitor.batch_quality(db, principal, batch_id=batch_id)
    return render(
        request,
        "integration/batch.html",
        {"batch": batch, "rejects": rejects, "figures": figures},
        principal=principal,
    )


@router.post("/batches/{batch_id}/rejects.csv")
def reject_report(
    request: Request, batch_id: int, db: Session = Depends(db_session), principal: Principal = READ
) -> Response:
    rows = monitor.reject_report(db, principal, batch_id=batch_id)
    return StreamingResponse(
        rows,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="rejects-{batch_id}.csv"'},
    )


@router.post("/upload")
async def upload(
    request: Request,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.INTEGRATION_RUN)),
) -> Response:
    """Load a file delivered by hand (the usual path is the nightly `bankcrm ingest` job)."""
    form = await request.form()
    source = str(form.get("source") or "")
    upload_file = form.get("file")
    if not isinstance(upload_file, UploadFile) or not upload_file.filename:
        return redirect(request, "/integration", flash=("warning", N_("Choose a file to load.")))
    content = await upload_file.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        return redirect(
            request,
            "/integration",
            flash=("danger", N_("The file is larger than 200 MB; load it with the bankcrm ingest command.")),
        )
    name = Path(upload_file.filename).name
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(content)
        try:
            result = runs.run_file(db, principal, source=source, path=path)
        except DomainError as exc:
            return redirect(
                request,
                "/integration",
                flash=("danger", N_("Not loaded: %(why)s")),
                why=translator(request).gettext(exc.message, **exc.params),
            )
    if result.batch_id is None:
        return redirect(
            request, "/integration", flash=("warning", result.message or N_("Nothing was loaded."))
        )
    return redirect(
        request,
        f"/integration/batches/{result.batch_id}",
        flash=("success" if result.status == "loaded" else "warning", N_("Batch %(id)s: %(status)s.")),
        id=result.batch_id,
        status=result.status,
    )


@router.get("/matches")
def match_queue(request: Request, db: Session = Depends(db_session), principal: Principal = READ) -> Response:
    status = request.query_params.get("status") or "pending"
    status = status if status in ("pending", "accepted", "rejected", "auto_merged") else "pending"
    page = matching.review_queue(
        db, principal, status=status, page=PageRequest(parse_page(request.query_params.get("page")), 20)
    )
    return render(
        request,
        "integration/matches.html",
        {"page": page, "status": status},
        principal=principal,
    )


@router.post("/matches/{candidate_id}/decision")
async def decide_match(
    request: Request,
    candidate_id: int,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.MATCH_REVIEW)),
) -> Response:
    form = await request.form()
    try:
        matching.decide(db, principal, candidate_id=candidate_id, accept=form.get("decision") == "accept")
    except (NotFound, PermissionDenied):
        raise  # a missing pair is a 404 page and a missing right a 403 page, like everywhere else
    except DomainError as exc:
        return redirect(
            request,
            "/integration/matches",
            flash=("danger", N_("Not done: %(why)s")),
            why=translator(request).gettext(exc.message, **exc.params),
        )
    return redirect(request, "/integration/matches", flash=("success", N_("Decision recorded.")))


@router.get("/quality")
def quality_overview(
    request: Request, db: Session = Depends(db_session), principal: Principal = READ
) -> Response:
    return render(
        request,
        "integration/quality.html",
        {"sources": quality.overview(db, principal)},
        principal=principal,
    )


@router.get("/quality/{source}")
def quality_of_source(
    request: Request, source: SourceCode, db: Session = Depends(db_session), principal: Principal = READ
) -> Response:
    figures = quality.source_quality(db, principal, source=source)
    history = quality.trend(db, principal, source=source)
    return render(
        request,
        "integration/quality_source.html",
        {"source": figures, "trend": history, "chart": _trend_chart(request, history)},
        principal=principal,
    )


def _trend_chart(request: Request, history: quality.Trend) -> dict[str, Any]:
    """Mean completeness and validity of the source's recent batches, in percent."""
    gettext = translator(request).gettext

    def mean_percent(series: dict[str, list[float | None]], index: int) -> float | None:
        present = [values[index] for values in series.values() if values[index] is not None]
        return round(100 * sum(present) / len(present), 1) if present else None  # type: ignore[arg-type]

    count = len(history.batches)
    return {
        "kind": "percent",
        "title": gettext("Completeness and validity of the last %(n)s batches", n=count),
        "unit": "%",
        "labels": [f"#{batch.id}" for batch in history.batches],
        "series": [
            {
                "name": gettext("Completeness"),
                "values": [mean_percent(history.completeness, i) for i in range(count)],
            },
            {
                "name": gettext("Validity"),
                "values": [mean_percent(history.validity, i) for i in range(count)],
            },
        ],
    }


@router.get("/quality/{source}/{field}")
def quality_failing_records(
    request: Request,
    source: SourceCode,
    field: FieldCode,
    db: Session = Depends(db_session),
    principal: Principal = READ,
) -> Response:
    page = quality.failing_records(
        db,
        principal,
        source=source,
        field=field,
        page=PageRequest(parse_page(request.query_params.get("page")), 50),
    )
    return render(
        request,
        "integration/quality_field.html",
        {"source": source, "field": field, "page": page},
        principal=principal,
    )


@router.get("/golden/{customer_id}")
def golden_record(
    request: Request, customer_id: RowId, db: Session = Depends(db_session), principal: Principal = READ
) -> Response:
    return render(
        request,
        "integration/golden.html",
        {"record": golden.golden_record(db, principal, customer_id=customer_id)},
        principal=principal,
    )
