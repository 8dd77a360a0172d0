"""Segment pages: the builder with its live count, a segment's profile and runs, compare, export."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response, StreamingResponse

from bankcrm.core.config import get_settings
from bankcrm.core.errors import PermissionDenied, ValidationFailed
from bankcrm.core.i18n import N_
from bankcrm.core.lake import Lake
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.customers.service import tags as customer_tags
from bankcrm.identity.service import orgs
from bankcrm.segmentation import clustering, tag_rules
from bankcrm.segmentation import segment_reports as reports
from bankcrm.segmentation import service as segments
from bankcrm.segmentation.builder import apply_action, blank_rule, rule_from_form
from bankcrm.segmentation.features import BALANCE_CATEGORIES
from bankcrm.segmentation.rules import FIELDS, OPERATOR_LABELS, OPERATORS
from bankcrm.segmentation.schemas import ModelTagIn, RuleTagIn, SegmentIn
from bankcrm.segmentation.studio import service as studio
from bankcrm.web.auth import PrincipalRoute, require
from bankcrm.web.forms import field_errors, form_fields, parse_form
from bankcrm.web.params import PathId
from bankcrm.web.render import Renderer, redirect, translator
from bankcrm.web.render import page as render
from bankcrm.web.transaction import db_session

router = APIRouter(prefix="/segments", include_in_schema=False, route_class=PrincipalRoute)
READ = Depends(require(Permission.CUSTOMER_READ))
MANAGE = Depends(require(Permission.SEGMENT_MANAGE))
EXPORT = Depends(require(Permission.CUSTOMER_EXPORT))
TXN_CATEGORIES = ("salary", "groceries", "dining", "transport", "shopping", "utilities", "health", "transfer")
TXN_CHANNELS = ("mobile", "online", "pos", "counter", "atm")


def register_context(renderer: Renderer) -> None:
    renderer.audit_labels.add(
        actions={"snapshot": N_("Snapshot taken"), "archive": N_("Archived")},
        entities={"segment": N_("Segment")},
        fields={"rule": N_("Rule"), "members": N_("Members"), "kind": N_("Kind")},
    )


def _refused(request: Request, url: str, error: ValidationFailed) -> Response:
    """Back to ``url`` with the first broken rule as the message (forms of a single field)."""
    problem = error.problems[0]
    return redirect(request, url, flash=("danger", problem.message), **problem.params)


def _lake() -> Lake:
    return Lake(get_settings().lake_root)


def _builder_choices(db: Session, principal: Principal) -> dict[str, Any]:
    """What the builder's selects offer: fields by group, operators, the bank's branches and tags."""
    groups: dict[str, list[Any]] = {}
    for spec in FIELDS.values():
        groups.setdefault(spec.group, []).append(spec)
    return {
        "field_groups": groups,
        "fields": FIELDS,
        "operators": OPERATORS,
        "operator_labels": OPERATOR_LABELS,
        "branches": [(str(u.id), u.name) for u in orgs.org_unit_choices(db, principal)],
        "tags": [(t.code, t.name) for t in customer_tags.list_tags(db, principal)],
        "txn_categories": TXN_CATEGORIES,
        "txn_channels": TXN_CHANNELS,
    }


def _preview_context(
    db: Session, principal: Principal, rule: dict[str, Any], request: Request
) -> dict[str, Any]:
    """The live count and sample of a rule being edited, or why it cannot be counted."""
    try:
        preview = segments.preview(db, principal, _lake(), rule=rule)
    except ValidationFailed as exc:
        return {"rule_errors": field_errors(exc, translator(request)), "preview": None, "preview_error": None}
    except segments.NoScoringRun as exc:
        return {"rule_errors": {}, "preview": None, "preview_error": exc.message}
    return {"rule_errors": {}, "preview": preview, "preview_error": None}


def _builder_page(
    request: Request,
    db: Session,
    principal: Principal,
    *,
    values: dict[str, Any],
    rule: dict[str, Any],
    segment: segments.SegmentItem | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "values": values,
        "rule": rule,
        "segment": segment,
        "errors": errors or {},
        **_builder_choices(db, principal),
        **_preview_context(db, principal, rule, request),
    }
    return render(request, "segmentation/builder.html", context, principal=principal, status_code=status_code)


@router.get("/new")
def new_segment(
    request: Request, db: Session = Depends(db_session), principal: Principal = MANAGE
) -> Response:
    return _builder_page(request, db, principal, values={"kind": "dynamic"}, rule=blank_rule())


@router.post("/builder")
async def redraw_builder(
    request: Request, db: Session = Depends(db_session), principal: Principal = MANAGE
) -> Response:
    """The builder redrawn after a change or one of its buttons, with the rule's live count."""
    fields = await form_fields(request)
    rule = rule_from_form(fields)
    action = str(fields.get("action") or "")
    if action:
        rule = apply_action(rule, action)
    context = {
        "rule": rule,
        **_builder_choices(db, principal),
        **_preview_context(db, principal, rule, request),
    }
    return render(request, "segmentation/_builder.html", context, principal=principal)


def _segment_in(fields: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": fields.get("name", ""),
        "description": fields.get("description") or None,
        "kind": fields.get("kind") or "dynamic",
        "rule": rule_from_form(fields),
    }


@router.post("/new")
async def create_segment(
    request: Request, db: Session = Depends(db_session), principal: Principal = MANAGE
) -> Response:
    fields = await form_fields(request)
    values = _segment_in(fields)
    try:
        created = segments.create_segment(db, principal, _lake(), data=parse_form(SegmentIn, values))
    except ValidationFailed as exc:
        errors = field_errors(exc, translator(request))
        return _builder_page(
            request, db, principal, values=values, rule=values["rule"], errors=errors, status_code=422
        )
    return redirect(
        request,
        f"/segments/{created.id}",
        flash=("success", N_("Segment %(name)s saved.")),
        name=created.name,
    )


TAG = Depends(require(Permission.TAG_MANAGE))
TAG_CATEGORIES = ("basic", "behaviour", "value", "risk", "preference", "lifecycle")


def _tag_page(
    request: Request,
    db: Session,
    principal: Principal,
    *,
    values: dict[str, Any],
    rule: dict[str, Any],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "values": values,
        "rule": rule,
        "errors": errors or {},
        "tag_categories": TAG_CATEGORIES,
        "model_targets": studio.model_targets(db),
        **_builder_choices(db, principal),
        **_preview_context(db, principal, rule, request),
    }
    return render(
        request, "segmentation/tag_form.html", context, principal=principal, status_code=status_code
    )


@router.get("/tags/new")
def new_rule_tag(request: Request, db: Session = Depends(db_session), principal: Principal = TAG) -> Response:
    return _tag_page(request, db, principal, values={"category": "behaviour"}, rule=blank_rule())


@router.post("/tags/new")
async def create_rule_tag(
    request: Request, db: Session = Depends(db_session), principal: Principal = TAG
) -> Response:
    fields = await form_fields(request)
    values = {
        "code": fields.get("code", ""),
        "name": fields.get("name", ""),
        "category": fields.get("category") or "behaviour",
        "description": fields.get("description") or None,
    }
    rule = rule_from_form(fields)
    try:
        if fields.get("tag_kind") == "model":
            target = fields.get("model_target") or "churn"
            model_values = {**values, "target": target, "bands": fields.get("bands") or []}
            if isinstance(model_values["bands"], str):
                model_values["bands"] = [model_values["bands"]]
            tag = tag_rules.create_model_tag(
                db, principal, _lake(), data=parse_form(ModelTagIn, model_values)
            )
        else:
            tag = tag_rules.create_rule_tag(
                db, principal, _lake(), data=parse_form(RuleTagIn, {**values, "rule": rule})
            )
    except ValidationFailed as exc:
        errors = field_errors(exc, translator(request))
        return _tag_page(
            request, db, principal, values={**values, **fields}, rule=rule, errors=errors, status_code=422
        )
    return redirect(request, "/customers/lists", flash=("success", N_("Tag %(name)s saved.")), name=tag.name)


@router.post("/clusters/{as_of}/{cluster:int}/promote")
async def promote_cluster(
    request: Request,
    as_of: date,
    cluster: int,
    db: Session = Depends(db_session),
    principal: Principal = MANAGE,
) -> Response:
    """A cluster of a clustering run kept as a static segment (its members as of the run)."""
    fields = await form_fields(request)
    name = str(fields.get("name") or "").strip()[:100]
    lake = _lake()
    try:
        if not clustering.may_see_clusters(principal):
            raise PermissionDenied()
        if not name:
            raise ValidationFailed.single("name", "missing", N_("This field is required."))
        members = clustering.cluster_members(lake, as_of=as_of, cluster=cluster)
        created = segments.create_static_from_ids(
            db,
            principal,
            lake,
            name=name,
            description=str(fields.get("description") or "")[:500] or None,
            origin={"cluster": {"as_of": as_of.isoformat(), "number": cluster}},
            customer_ids=members,
            as_of=as_of,
        )
    except ValidationFailed as exc:
        return _refused(request, "/segments/clusters", exc)
    return redirect(
        request,
        f"/segments/{created.id}",
        flash=("success", N_("Segment %(name)s saved.")),
        name=created.name,
    )


@router.get("/compare")
def compare_segments(
    request: Request,
    first: int = Query(ge=1),
    second: int = Query(ge=1),
    db: Session = Depends(db_session),
    principal: Principal = READ,
) -> Response:
    comparison = reports.compare_segments(db, principal, _lake(), first_id=first, second_id=second)
    context = {
        "comparison": comparison,
        "categories": BALANCE_CATEGORIES,
    }
    return render(request, "segmentation/compare.html", context, principal=principal)


@router.get("/{segment_id:int}")
def segment_detail(
    request: Request, segment_id: PathId, db: Session = Depends(db_session), principal: Principal = READ
) -> Response:
    lake = _lake()
    segment = segments.get_segment(db, principal, lake, segment_id=segment_id)
    profile = reports.segment_profile(db, principal, lake, segment_id=segment_id)
    context = {
        "segment": segment,
        "profile": profile,
        "runs": segments.segment_runs(db, principal, segment_id=segment_id),
        "sample": segments.sample_members(db, principal, lake, segment_id=segment_id),
        "others": [s for s in segments.list_segments(db, principal, lake) if s.id != segment_id],
        **_builder_choices(db, principal),
    }
    return render(request, "segmentation/segment.html", context, principal=principal)


@router.get("/{segment_id:int}/edit")
def edit_segment(
    request: Request, segment_id: PathId, db: Session = Depends(db_session), principal: Principal = MANAGE
) -> Response:
    segment = segments.get_segment(db, principal, _lake(), segment_id=segment_id)
    values = {"name": segment.name, "description": segment.description or "", "kind": segment.kind}
    return _builder_page(request, db, principal, values=values, rule=segment.rule, segment=segment)


@router.post("/{segment_id:int}/edit")
async def update_segment(
    request: Request, segment_id: PathId, db: Session = Depends(db_session), principal: Principal = MANAGE
) -> Response:
    fields = await form_fields(request)
    values = _segment_in(fields)
    lake = _lake()
    segment = segments.get_segment(db, principal, lake, segment_id=segment_id)
    values["kind"] = segment.kind
    try:
        version = int(fields.get("version") or 0)
        updated = segments.update_segment(
            db, principal, lake, segment_id=segment_id, data=parse_form(SegmentIn, values), version=version
        )
    except ValidationFailed as exc:
        errors = field_errors(exc, translator(request))
        return _builder_page(
            request,
            db,
            principal,
            values=values,
            rule=values["rule"],
            segment=segment,
            errors=errors,
            status_code=422,
        )
    return redirect(
        request,
        f"/segments/{updated.id}",
        flash=("success", N_("Segment %(name)s saved.")),
        name=updated.name,
    )


@router.post("/{segment_id:int}/snapshot")
async def snapshot_segment(
    request: Request, segment_id: PathId, db: Session = Depends(db_session), principal: Principal = MANAGE
) -> Response:
    fields = await form_fields(request)
    name = str(fields.get("name") or "").strip()
    try:
        if not name:
            raise ValidationFailed.single("name", "missing", N_("This field is required."))
        snapshot = segments.snapshot_segment(db, principal, _lake(), segment_id=segment_id, name=name[:100])
    except ValidationFailed as exc:
        return _refused(request, f"/segments/{segment_id}", exc)
    return redirect(
        request,
        f"/segments/{snapshot.id}",
        flash=("success", N_("Snapshot %(name)s kept.")),
        name=snapshot.name,
    )


@router.post("/{segment_id:int}/archive")
def archive_segment(
    request: Request, segment_id: PathId, db: Session = Depends(db_session), principal: Principal = MANAGE
) -> Response:
    archived = segments.archive_segment(db, principal, _lake(), segment_id=segment_id)
    return redirect(
        request, "/segments", flash=("success", N_("Segment %(name)s archived.")), name=archived.name
    )


@router.get("/{segment_id:int}/export.csv")
def export_segment(
    request: Request, segment_id: PathId, db: Session = Depends(db_session), principal: Principal = EXPORT
) -> Response:
    rows = reports.export_members(db, principal, _lake(), segment_id=segment_id)
    headers = {"Content-Disposition": f'attachment; filename="segment-{segment_id}.csv"'}
    return StreamingResponse(rows, media_type="text/csv; charset=utf-8", headers=headers)
