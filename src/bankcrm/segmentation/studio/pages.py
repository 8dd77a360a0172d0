"""Model studio pages: the list with the training forms, a model's card, a customer's scores."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.responses import Response

from bankcrm.core.config import get_settings
from bankcrm.core.errors import ValidationFailed
from bankcrm.core.i18n import N_
from bankcrm.core.lake import Lake
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.segmentation.studio import service as studio
from bankcrm.segmentation.studio import targets
from bankcrm.segmentation.studio.card import CHART_BINS
from bankcrm.web.auth import PrincipalRoute, require
from bankcrm.web.forms import field_errors
from bankcrm.web.render import Navigation, NavItem, redirect, translator
from bankcrm.web.render import page as render
from bankcrm.web.transaction import db_session

router = APIRouter(prefix="/models", include_in_schema=False, route_class=PrincipalRoute)
MANAGE = Depends(require(Permission.MODEL_MANAGE))
READ = Depends(require(Permission.CUSTOMER_READ))
MAX_UPLOAD = 50 * 1024 * 1024


def register_navigation(navigation: Navigation) -> None:
    navigation.register(
        NavItem(
            "models",
            N_("Model studio"),
            "/models",
            Permission.MODEL_MANAGE,
            icon="brain",
            section=N_("Customers"),
            order=21,
        ),
    )


def _lake() -> Lake:
    return Lake(get_settings().lake_root)


def _list(
    request: Request,
    db: Session,
    principal: Principal,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    lake = _lake()
    return render(
        request,
        "segmentation/studio/list.html",
        {
            "models": studio.list_models(db, principal),
            "features": studio.feature_names(lake),
            "runs": studio.run_dates(lake),
            "history_targets": list(targets.HISTORY_TARGETS.values()),
            "values": values or {},
            "errors": errors or {},
        },
        principal=principal,
        status_code=status_code,
    )


@router.get("")
def model_list(
    request: Request, db: Session = Depends(db_session), principal: Principal = MANAGE
) -> Response:
    return _list(request, db, principal)


def _date(field: str, text: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed.single(field, "date", N_("Enter a date as YYYY-MM-DD."), text) from None


@router.post("/train")
async def train_on_history(
    request: Request, db: Session = Depends(db_session), principal: Principal = MANAGE
) -> Response:
    form = await request.form()
    name, split_text = str(form.get("name") or ""), str(form.get("split_date") or "")
    target = str(form.get("target") or targets.CHURN)
    features = [str(value) for value in form.getlist("features")]
    values: dict[str, Any] = {"name": name, "split_date": split_text, "features": features, "target": target}
    try:
        card = studio.train_on_history(
            db,
            principal,
            _lake(),
            target=target,
            name=name,
            features=features or None,
            split_date=_date("split_date", split_text),
        )
    except ValidationFailed as exc:
        errors = field_errors(exc, translator(request))
        if "target" in errors:  # shown above the form: the history (or the choice) is the problem
            errors["history"] = errors.pop("target")
        return _list(request, db, principal, values=values, errors=errors, status_code=422)
    return redirect(request, f"/models/{card.id}", flash=("success", N_("Model trained; review its card.")))


def _read_upload(name: str, content: bytes) -> pa.Table:
    suffix = Path(name).suffix.lower()
    try:
        if suffix == ".parquet":
            return pq.read_table(io.BytesIO(content))
        if suffix == ".csv":
            return pa_csv.read_csv(io.BytesIO(content))
    except (pa.ArrowInvalid, OSError):
        pass
    raise ValidationFailed.single(
        "file", "format", N_("Upload a CSV file with a header row, or a Parquet file."), name
    )


# The upload form's inputs by role; the campaign-response preset is a second form on the same page
# posting here, so its inputs have their own names (and element ids).
UPLOAD_INPUTS = {"name": "upload_name", "file": "file", "target": "target", "id_column": "id_column"}
RESPONSE_INPUTS = {
    "name": "response_name",
    "file": "response_file",
    "target": "response_column",
    "id_column": "response_id_column",
    "campaign_start": "campaign_start",
}


async def _uploaded_table(upload: object) -> tuple[pa.Table, str]:
    """The uploaded file read as a table, and its name; problems are the ``file`` field's."""
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise ValidationFailed.single("file", "required", N_("Choose a file to train on."))
    content = await upload.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        raise ValidationFailed.single(
            "file",
            "size",
            N_("The file is larger than 50 MB; train on it with the bankcrm model train command."),
        )
    return _read_upload(upload.filename, content), Path(upload.filename).name


@router.post("/upload")
async def train_upload(
    request: Request, db: Session = Depends(db_session), principal: Principal = MANAGE
) -> Response:
    form = await request.form()
    response = form.get("preset") == "response"
    inputs = RESPONSE_INPUTS if response else UPLOAD_INPUTS
    values = {inputs[role]: str(form.get(inputs[role]) or "") for role in inputs if role != "file"}
    role_of = {name: role for role, name in inputs.items()}
    given = {role_of[name]: value.strip() for name, value in values.items()}
    try:
        table, source = await _uploaded_table(form.get(inputs["file"]))
        if response:
            card = _train_response(db, principal, table, source, given)
        else:
            card = studio.train_from_table(
                db,
                principal,
                table=table,
                name=given["name"],
                target=given["target"],
                id_column=given["id_column"] or None,
                source=source,
            )
    except ValidationFailed as exc:
        errors = {
            inputs.get(field, field): text for field, text in field_errors(exc, translator(request)).items()
        }
        return _list(request, db, principal, values=values, errors=errors, status_code=422)
    return redirect(request, f"/models/{card.id}", flash=("success", N_("Model trained; review its card.")))


def _train_response(
    db: Session, principal: Principal, table: pa.Table, source: str, given: dict[str, str]
) -> studio.ModelCard:
    """The campaign-response preset of the upload: a response list, its columns named by default."""
    start = _date("campaign_start", given["campaign_start"])
    if start is None:
        raise ValidationFailed.single(
            "campaign_start", "required", N_("Give the date the campaign began."), given["campaign_start"]
        )
    return studio.train_campaign_response(
        db,
        principal,
        _lake(),
        table=table,
        name=given["name"],
        source=source,
        campaign_start=start,
        id_column=given["id_column"] or "customer_id",
        responded_column=given["target"] or "responded",
    )


def _calibration_chart(request: Request, card: studio.ModelCard) -> dict[str, Any]:
    gettext = translator(request).gettext
    bins = card.metrics["lightgbm"]["calibration"][:CHART_BINS]
    return {
        "kind": "percent",
        "title": gettext("Calibration on the hold-out: predicted against observed, by tenth of score"),
        "unit": "%",
        "labels": [str(index + 1) for index in range(len(bins))],
        "series": [
            {
                "name": gettext("Mean predicted"),
                "values": [round(100 * b["mean_predicted"], 1) for b in bins],
            },
            {"name": gettext("Observed rate"), "values": [round(100 * b["observed_rate"], 1) for b in bins]},
        ],
    }


@router.get("/{model_id}")
def model_card(
    request: Request, model_id: int, db: Session = Depends(db_session), principal: Principal = MANAGE
) -> Response:
    card = studio.get_model(db, principal, model_id=model_id)
    return render(
        request,
        "segmentation/studio/card.html",
        {"card": card, "chart": _calibration_chart(request, card)},
        principal=principal,
    )


@router.post("/{model_id}/activate")
def activate(
    request: Request, model_id: int, db: Session = Depends(db_session), principal: Principal = MANAGE
) -> Response:
    card = studio.activate_model(db, principal, _lake(), model_id=model_id)
    return redirect(
        request,
        f"/models/{card.id}",
        flash=("success", N_("Model active; customers scored: %(n)s.")),
        n=card.scored_customers,
    )


@router.post("/{model_id}/retire")
def retire(
    request: Request, model_id: int, db: Session = Depends(db_session), principal: Principal = MANAGE
) -> Response:
    card = studio.retire_model(db, principal, model_id=model_id)
    return redirect(
        request, f"/models/{card.id}", flash=("success", N_("Model retired; it no longer scores."))
    )


@router.get("/customers/{customer_id}")
def customer_scores(
    request: Request, customer_id: int, db: Session = Depends(db_session), principal: Principal = READ
) -> Response:
    customer, scores = studio.customer_scores_page(db, principal, customer_id=customer_id)
    return render(
        request,
        "segmentation/studio/customer.html",
        {"scores": scores, "customer": customer},
        principal=principal,
    )
