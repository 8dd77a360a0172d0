"""Integration pages: sources and their mappings, batches with counts, rejects, uploads."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.responses import Response, StreamingResponse

from bankcrm.core.errors import DomainError
from bankcrm.core.i18n import N_
from bankcrm.core.pagination import PageRequest
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.integration.service import matching, monitor, runs
from bankcrm.web.auth import require
from bankcrm.web.forms import parse_page
from bankcrm.web.render import Navigation, NavItem, Renderer, redirect, translator
from bankcrm.web.render import page as render
from bankcrm.web.transaction import db_session

router = APIRouter(prefix="/integration", include_in_schema=False)
READ = Depends(require(Permission.INTEGRATION_READ))
SECTION = N_("Data integration")
MAX_UPLOAD = 200 * 1024 * 1024
FIELD_LABELS = {
    "name": N_("Name"),
    "pinyin": N_("Name reading (pinyin)"),
    "id_type": N_("ID type"),
    "id_number": N_("ID number"),
    "birth_date": N_("Date of birth"),
    "mobile": N_("Mobile"),
    "email": N_("Email"),
    "address": N_("Address"),
}


LABELS = {
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


def integration_context(request: Request, principal: Principal | None) -> dict[str, Any]:
    del request, principal
    return {"integration_label": lambda code: LABELS.get(code, code)}


def register_context(renderer: Renderer) -> None:
    renderer.add_context_processor(integration_context)


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
        request, "integration/sources.html", {"sources": monitor.sources(db, principal)}, principal=principal
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
    return render(
        request, "integration/batch.html", {"batch": batch, "rejects": rejects}, principal=principal
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
        {"page": page, "status": status, "field_labels": FIELD_LABELS},
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
    except DomainError as exc:
        return redirect(
            request,
            "/integration/matches",
            flash=("danger", N_("Not done: %(why)s")),
            why=translator(request).gettext(exc.message, **exc.params),
        )
    return redirect(request, "/integration/matches", flash=("success", N_("Decision recorded.")))
