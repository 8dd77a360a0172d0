"""The model studio's verbs: train a model (from the lake's feature history or an uploaded table),
read its card, activate it (it scores every customer, now and after each nightly run), and show a
customer's scores with their top factors inside the viewer's data scope.

Training and the cards are about the whole bank's aggregate behaviour, so they need the studio's
permission but no data scope; a customer's own score is read only where the customer is visible.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.orm import Session

from bankcrm.audit import service as audit
from bankcrm.core.context import Actor
from bankcrm.core.db import utcnow
from bankcrm.core.errors import NotFound, ValidationFailed
from bankcrm.core.i18n import N_
from bankcrm.core.lake import Lake
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.customers.schemas import CustomerHeader
from bankcrm.customers.service import customers as customer_service
from bankcrm.customers.service import scoring as customer_scoring
from bankcrm.segmentation.studio import repository as repo
from bankcrm.segmentation.studio import targets, training
from bankcrm.segmentation.studio.card import card_metrics
from bankcrm.segmentation.studio.models import PropensityModel
from bankcrm.segmentation.studio.training import TrainingInputError

FEATURES = "features"  # the scoring run's lake dataset (segmentation.jobs.FEATURES)


class ModelNotFound(NotFound):
    code = "model-not-found"


@dataclass(frozen=True)
class ModelCard:
    id: int
    name: str
    target: str
    target_definition: str
    features: list[str]
    metrics: dict[str, Any]
    training_data: str
    status: str
    author_name: str
    trained_at: Any
    activated_at: Any
    scored_customers: int


@dataclass(frozen=True)
class CustomerModelScore:
    model_id: int
    model_name: str
    target: str
    score: float
    band: str
    factors: list[dict[str, Any]]
    as_of: date


def _card(session: Session, model: PropensityModel) -> ModelCard:
    return ModelCard(
        id=model.id,
        name=model.name,
        target=model.target,
        target_definition=model.target_definition,
        features=json.loads(model.features),
        metrics=json.loads(model.metrics),
        training_data=model.training_data,
        status=model.status,
        author_name=model.author_name,
        trained_at=model.trained_at,
        activated_at=model.activated_at,
        scored_customers=repo.score_count(session, model.id),
    )


def list_models(session: Session, principal: Principal) -> list[ModelCard]:
    principal.require(Permission.MODEL_MANAGE)
    return [_card(session, model) for model in repo.list_models(session)]


def get_model(session: Session, principal: Principal, *, model_id: int) -> ModelCard:
    principal.require(Permission.MODEL_MANAGE)
    return _card(session, _model(session, model_id))


def _model(session: Session, model_id: int) -> PropensityModel:
    model = repo.find_model(session, model_id)
    if model is None:
        raise ModelNotFound()
    return model


# --- training ---------------------------------------------------------------------------------------


def _invalid(field: str, error: TrainingInputError) -> ValidationFailed:
    # The training core explains in English with the column and the rule; shown as the detail.
    return ValidationFailed.single(
        field,
        "trainable",
        N_("The data cannot be trained on: %(detail)s"),
        value=error.column,
        detail=str(error),
    )


def _store(
    session: Session,
    principal: Principal,
    result: training.TrainingResult,
    *,
    name: str,
    target: str,
    target_definition: str,
    training_data: str,
    source: dict[str, Any],
) -> ModelCard:
    model = repo.add_model(
        session,
        PropensityModel(
            name=name,
            target=target,
            target_definition=target_definition,
            features=json.dumps(result.feature_names),
            # ``source`` lets the card say where the rows came from in the reader's language.
            metrics=json.dumps({**card_metrics(result), "source": source}),
            training_data=training_data,
            status="draft",
            author_id=principal.user_id,
            author_name=principal.display_name,
            trained_at=utcnow(),
            model_text=result.model_text,
        ),
    )
    audit.record_event(
        session,
        principal.actor,
        action="model_train",
        entity_type="propensity_model",
        entity_id=model.id,
        details={
            "name": name,
            "target": target,
            "rows": result.rows,
            "features": len(result.feature_names),
            "leakage": [w.feature for w in result.leakage],
        },
    )
    return _card(session, model)


def _check_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned or len(cleaned) > 100:
        raise ValidationFailed.single(
            "name", "length", N_("Give the model a name of 1 to 100 characters."), name
        )
    return cleaned


def train_from_table(
    session: Session,
    principal: Principal,
    *,
    table: pa.Table,
    name: str,
    target: str,
    source: str,
    id_column: str | None = None,
    time_column: str | None = None,
    holdout_from: str | None = None,
    exclude: tuple[str, ...] = (),
) -> ModelCard:
    """Train on an uploaded table with a labelled 0/1 column; stored as a draft with its card."""
    principal.require(Permission.MODEL_MANAGE)
    name = _check_name(name)
    try:
        data = training.prepare(
            table, target=target, id_column=id_column, time_column=time_column, exclude=exclude
        )
        result = training.train(data, holdout_from=holdout_from)
    except TrainingInputError as exc:
        raise _invalid("target", exc) from None
    return _store(
        session,
        principal,
        result,
        name=name,
        target=f"column:{target}"[:40],
        target_definition=f"column {target} of {source}",
        training_data=f"{source}: {result.rows} rows, {result.positives} with {target} = 1",
        source={"kind": "upload", "file": source, "column": target},
    )


CAMPAIGN_RESPONSE = "campaign_response"


def _run_before(lake: Lake, day: date) -> date:
    """The latest features run before ``day`` (what was known of the customers when it began)."""
    earlier = [run for run in run_dates(lake) if run < day]
    if not earlier:
        raise ValidationFailed.single(
            "campaign_start",
            "history",
            N_("No scoring run before %(day)s: the customers' features then are not known."),
            day.isoformat(),
            day=day.isoformat(),
        )
    return earlier[-1]


def _responses(table: pa.Table, *, id_column: str, responded_column: str) -> pa.Table:
    """The list's customer ids and their 0/1 response, checked as the table path checks a target."""
    try:
        ids = training.named_column(table, id_column, "id")
        answers = training.binary_target(table, responded_column)
    except TrainingInputError as exc:
        raise _invalid("target", exc) from None
    try:
        customer_ids = pc.cast(ids, pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        error = TrainingInputError(f"id column {id_column!r} must hold customer ids (whole numbers).")
        raise _invalid("id_column", error) from None
    return pa.table({"customer_id": customer_ids, "responded": pa.array(answers, pa.int64())})


def train_campaign_response(
    session: Session,
    principal: Principal,
    lake: Lake,
    *,
    table: pa.Table,
    name: str,
    source: str,
    campaign_start: date,
    id_column: str = "customer_id",
    responded_column: str = "responded",
) -> ModelCard:
    """Train on a campaign's response list (customer id, responded 0/1): each listed customer's
    features are those of the last scoring run before the campaign began, so nothing the campaign
    caused is an input. There is no marketing module yet to define responses over history."""
    principal.require(Permission.MODEL_MANAGE)
    name = _check_name(name)
    as_of = _run_before(lake, campaign_start)
    responses = _responses(table, id_column=id_column, responded_column=responded_column)
    run = _features_run(lake, as_of)
    features = feature_names(lake)
    labelled = run.select(["customer_id", *features]).join(responses, "customer_id", join_type="inner")
    try:
        data = training.prepare(labelled, target="responded", id_column="customer_id")
        result = training.train(data)
    except TrainingInputError as exc:
        raise _invalid("target", exc) from None
    unmatched = responses.num_rows - labelled.num_rows
    return _store(
        session,
        principal,
        result,
        name=name,
        target=CAMPAIGN_RESPONSE,
        target_definition=(
            f"campaign response: column {responded_column} (1 = responded) of the response list {source}, "
            f"with each customer's features from the scoring run of {as_of.isoformat()}, the last "
            f"before the campaign began on {campaign_start.isoformat()}"
        ),
        training_data=(
            f"{source}: {responses.num_rows} customers listed, {result.rows} found in the run of "
            f"{as_of.isoformat()} ({unmatched} not), {result.positives} responded"
        ),
        source={
            "kind": "response",
            "file": source,
            "column": responded_column,
            "run": as_of.isoformat(),
            "start": campaign_start.isoformat(),
            "unmatched": unmatched,
        },
    )


def feature_names(lake: Lake) -> list[str]:
    """The numeric columns of the lake's feature runs, the studio's feature list."""
    if not lake.has_dataset(FEATURES):
        return []
    schema = lake.ibis_backend().table(FEATURES).schema()
    return [name for name, kind in schema.items() if name not in targets.NOT_FEATURES and kind.is_numeric()]


def run_dates(lake: Lake) -> list[date]:
    if not lake.has_dataset(FEATURES):
        return []
    backend = lake.ibis_backend()
    table = backend.table(FEATURES)
    dates = backend.to_pyarrow(table.select(as_of=table.as_of.cast("date")).distinct()).column("as_of")
    return sorted(dates.to_pylist())


def history_table(lake: Lake, target: targets.HistoryTarget, *, features: list[str]) -> pa.Table:
    """One row per customer and usable start run: the chosen features, the run date and the label."""
    backend = lake.ibis_backend()
    windows = targets.label_windows(run_dates(lake), target.months)
    rows = target.rows(backend.table(FEATURES), windows)
    return backend.to_pyarrow(
        rows.select("customer_id", "as_of", *features, target.label).order_by(["as_of", "customer_id"])
    )


def _history_target(key: str) -> targets.HistoryTarget:
    target = targets.HISTORY_TARGETS.get(key)
    if target is None:
        raise ValidationFailed.single("target", "known", N_("Choose a target from the list."), key)
    return target


def _chosen_features(lake: Lake, target: targets.HistoryTarget, features: list[str] | None) -> list[str]:
    """The ticked features (none ticked: every feature that may feed the target); unknown ones and
    ones the target keeps out are named."""
    available = feature_names(lake)
    unknown = [feature for feature in features or [] if feature not in available]
    if unknown:
        raise ValidationFailed.single(
            "features",
            "known",
            N_("Not a feature of the scoring run: %(names)s"),
            unknown,
            names=", ".join(unknown),
        )
    kept_out = [feature for feature in features or [] if feature in target.not_inputs]
    if kept_out:
        raise ValidationFailed.single(
            "features",
            "input",
            N_("Not an input for this target (it is what the target is read from): %(names)s"),
            kept_out,
            names=", ".join(kept_out),
        )
    return features or [feature for feature in available if feature not in target.not_inputs]


def train_on_history(
    session: Session,
    principal: Principal,
    lake: Lake,
    *,
    target: str,
    name: str,
    features: list[str] | None = None,
    split_date: date | None = None,
) -> ModelCard:
    """Train a model for a target defined over the feature history (``targets.HISTORY_TARGETS``),
    earlier runs developing and later runs testing."""
    principal.require(Permission.MODEL_MANAGE)
    name = _check_name(name)
    definition = _history_target(target)
    chosen = _chosen_features(lake, definition, features)
    if targets.label_windows(run_dates(lake), definition.months).num_rows == 0:
        raise ValidationFailed.single(
            "target",
            "history",
            N_(
                "This target needs feature runs at least %(months)s months apart; "
                "run the scoring on earlier dates first."
            ),
            months=definition.months,
        )
    table = history_table(lake, definition, features=chosen)
    try:
        data = training.prepare(table, target=definition.label, id_column="customer_id", time_column="as_of")
        result = training.train(data, holdout_from=split_date.isoformat() if split_date else None)
    except TrainingInputError as exc:
        raise _invalid("split_date", exc) from None
    starts = sorted({value.isoformat() for value in table.column("as_of").to_pylist()})
    return _store(
        session,
        principal,
        result,
        name=name,
        target=definition.key,
        target_definition=definition.definition,
        training_data=(
            f"lake features runs {starts[0]} to {starts[-1]} ({len(starts)} start dates): "
            f"{result.rows} customer-runs, {result.positives} with {definition.label} = 1"
        ),
        source={
            "kind": "lake",
            "first": starts[0],
            "last": starts[-1],
            "starts": len(starts),
            "months": definition.months,
        },
    )


def train_churn(
    session: Session,
    principal: Principal,
    lake: Lake,
    *,
    name: str,
    features: list[str] | None = None,
    split_date: date | None = None,
) -> ModelCard:
    """``train_on_history`` for churn."""
    return train_on_history(
        session, principal, lake, target=targets.CHURN, name=name, features=features, split_date=split_date
    )


# --- activation and scoring ---------------------------------------------------------------------------


def activate_model(session: Session, principal: Principal, lake: Lake, *, model_id: int) -> ModelCard:
    """Make the model the one that scores its target (retiring the one before) and score everyone now."""
    principal.require(Permission.MODEL_MANAGE)
    model = _model(session, model_id)
    if model.status == "active":
        return _card(session, model)
    retired = repo.retire_active(session, model.target)
    model.status = "active"
    model.activated_at = utcnow()
    session.flush()
    audit.record_event(
        session,
        principal.actor,
        action="model_activate",
        entity_type="propensity_model",
        entity_id=model.id,
        details={"target": model.target, "retired": retired},
    )
    latest = run_dates(lake)
    if latest:
        _score(session, lake, model, as_of=latest[-1], actor=principal.actor)
    return _card(session, model)


def retire_model(session: Session, principal: Principal, *, model_id: int) -> ModelCard:
    """Take an active model out of use: it stops scoring and its scores leave the customers' pages."""
    principal.require(Permission.MODEL_MANAGE)
    model = _model(session, model_id)
    if model.status != "active":
        raise ValidationFailed.single(
            "status", "active", N_("Only the active model can be retired."), model.status
        )
    model.status = "retired"
    repo.replace_scores(session, model.id, [])
    session.flush()
    audit.record_event(
        session,
        principal.actor,
        action="model_retire",
        entity_type="propensity_model",
        entity_id=model.id,
        details={"target": model.target},
    )
    return _card(session, model)


def _features_run(lake: Lake, as_of: date) -> pa.Table:
    backend = lake.ibis_backend()
    table = backend.table(FEATURES)
    return backend.to_pyarrow(table.filter(table.as_of.cast("date") == as_of).order_by("customer_id"))


def _active_customers_of(session: Session, run: pa.Table) -> pa.Table:
    """The run's rows of customers still active in the operational store: one deactivated (or a
    lake out of step with the database) since the run gets no score."""
    active = customer_scoring.current_tiers(session).column("customer_id")
    return run.filter(pc.is_in(run.column("customer_id"), value_set=active))


def _score(session: Session, lake: Lake, model: PropensityModel, *, as_of: date, actor: Actor) -> int:
    run = _active_customers_of(session, _features_run(lake, as_of))
    names = json.loads(model.features)
    scored = training.score_rows(
        training.load_model(model.model_text), training.feature_matrix(run, names), names
    )
    bands = training.score_bands(scored.scores)
    rows = [
        {
            "model_id": model.id,
            "customer_id": int(customer_id),
            "score": round(float(score), 6),
            "band": band,
            "factors": json.dumps([asdict(factor) for factor in factors]),
            "as_of": as_of,
        }
        for customer_id, score, band, factors in zip(
            run.column("customer_id").to_pylist(), scored.scores, bands, scored.factors, strict=True
        )
    ]
    repo.replace_scores(session, model.id, rows)
    audit.record_event(
        session,
        actor,
        action="model_score",
        entity_type="propensity_model",
        entity_id=model.id,
        details={"as_of": as_of.isoformat(), "customers": len(rows)},
    )
    return len(rows)


def score_active_models(session: Session, lake: Lake, *, as_of: date) -> dict[int, int]:
    """The nightly run's last step: every active model scores the customers of the ``as_of`` run."""
    actor = Actor.system("score")
    return {
        model.id: _score(session, lake, model, as_of=as_of, actor=actor)
        for model in repo.active_models(session)
    }


def customer_scores(session: Session, principal: Principal, *, customer_id: int) -> list[CustomerModelScore]:
    """The active models' scores of a customer the viewer may see (otherwise: not found)."""
    return customer_scores_page(session, principal, customer_id=customer_id)[1]


def customer_scores_page(
    session: Session, principal: Principal, *, customer_id: int
) -> tuple[CustomerHeader, list[CustomerModelScore]]:
    """The customer's header (name masked for the viewer) and its scores; out of scope = not found."""
    header = customer_service.get_customer_header(session, principal, customer_id=customer_id)
    scores = [
        CustomerModelScore(
            model_id=model.id,
            model_name=model.name,
            target=model.target,
            score=score.score,
            band=score.band,
            factors=json.loads(score.factors),
            as_of=score.as_of,
        )
        for score, model in repo.scores_of_customer(session, customer_id)
    ]
    return header, scores


def active_churn_scores(session: Session, *, at_least: float) -> dict[int, float] | None:
    """The active churn model's scores of ``at_least`` or more per customer (every customer: callers
    narrow to their viewer's scope); None while no churn model is active."""
    if not any(model.target == "churn" for model in repo.active_models(session)):
        return None
    return repo.active_scores(session, "churn", at_least=at_least)


def model_targets(session: Session) -> list[str]:
    """The targets a model tag can follow: the studio's named ones, then labelled columns of active
    models (a tag may be made before its target's model is active; it is empty until then)."""
    named = [*targets.HISTORY_TARGETS, CAMPAIGN_RESPONSE]
    active = sorted({model.target for model in repo.active_models(session)} - set(named))
    return named + active


def band_members(session: Session, *, target: str, bands: list[str]) -> list[int]:
    """The customers the active model for ``target`` places in ``bands`` (none while no model is
    active): the members of a model tag."""
    return repo.active_band_members(session, target, bands)
