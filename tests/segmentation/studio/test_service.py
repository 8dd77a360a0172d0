"""The studio's service: training from the lake's history or a table, activation, scores in scope."""

from __future__ import annotations

import json
from datetime import date

import pyarrow as pa
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bankcrm.audit.models import AuditEvent
from bankcrm.core.errors import NotFound, PermissionDenied, ValidationFailed
from bankcrm.core.lake import Lake
from bankcrm.segmentation.studio import service as studio
from tests.segmentation.studio.data import nonlinear_table
from tests.segmentation.studio.history import (
    RUNS,
    churn_history,
    default_history,
    purchase_history,
    run_table,
    write_run,
)

FEATURES = ["aum", "product_count", "txn_count_change_3m", "digital_share_3m"]


def _actions(db: Session, action: str) -> list[AuditEvent]:
    """In the order they were recorded (PostgreSQL gives an unordered select in any order)."""
    query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    return list(db.scalars(query).all())


def test_churn_is_trained_on_the_feature_history_with_a_time_split(db: Session, lake: Lake, as_user) -> None:  # type: ignore[no-untyped-def]
    churn_history(lake)
    card = studio.train_churn(db, as_user("analyst"), lake, name="流失预警", split_date=date(2025, 4, 1))
    assert card.status == "draft"
    assert card.target == "churn"
    assert card.features == FEATURES  # the numeric features of the runs, keys and text left out
    split = card.metrics["split"]
    # Start runs Jan-May have a run three months on; April and May are the hold-out.
    assert split == {
        "kind": "time",
        "development_rows": 1200,
        "holdout_rows": 800,
        "holdout_from": "2025-04-01",
    }
    assert card.metrics["lightgbm"]["holdout_auc"] > 0.75
    assert card.metrics["baseline"]["holdout_auc"] is not None
    assert len(card.metrics["lightgbm"]["calibration"]) == 10
    assert card.author_name == "孙分析"
    assert "2025-01-31 to 2025-05-31" in card.training_data
    [event] = _actions(db, "model_train")
    assert event.entity_id == str(card.id)


def test_churn_needs_runs_three_months_apart(db: Session, lake: Lake, as_user) -> None:  # type: ignore[no-untyped-def]
    write_run(lake, RUNS[0], run_table([1, 2], [1.0, 2.0], [0.0, 0.0], [0.1, 0.2]))
    with pytest.raises(ValidationFailed) as failed:
        studio.train_churn(db, as_user("analyst"), lake, name="流失")
    assert failed.value.problems[0].field == "target"
    assert _actions(db, "model_train") == []


def test_an_unknown_feature_is_named(db: Session, lake: Lake, as_user) -> None:  # type: ignore[no-untyped-def]
    churn_history(lake, 50)
    with pytest.raises(ValidationFailed) as failed:
        studio.train_churn(db, as_user("analyst"), lake, name="流失", features=["aum", "shoe_size"])
    assert failed.value.problems[0].value == ["shoe_size"]


def test_a_table_with_a_non_binary_target_changes_nothing(db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as failed:
        studio.train_from_table(
            db, as_user("analyst"), table=nonlinear_table(60), name="x", target="x1", source="u.csv"
        )
    assert "target column 'x1', row 1" in failed.value.problems[0].params["detail"]
    assert studio.list_models(db, as_user("analyst")) == []


def test_an_rm_may_not_train(db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        studio.train_from_table(
            db, as_user("rm.zhang"), table=nonlinear_table(100), name="x", target="churned", source="u.csv"
        )


def _uploaded_model(db: Session, as_user, name: str = "上传模型") -> studio.ModelCard:  # type: ignore[no-untyped-def]
    """A model trained on an uploaded table whose columns are the lake's feature names."""
    table = nonlinear_table(600).rename_columns(
        ["customer", "aum", "txn_count_change_3m", "digital_share_3m", "churned"]
    )
    return studio.train_from_table(
        db,
        as_user("analyst"),
        table=table,
        name=name,
        target="churned",
        id_column="customer",
        source="upload.csv",
    )


def test_activation_scores_every_customer_of_the_latest_run_with_top_factors(  # type: ignore[no-untyped-def]
    db: Session, lake: Lake, as_user, make_customer
) -> None:
    mine = make_customer("rm.zhang", name="甲一")
    other = make_customer("rm.chen", name="乙二")
    write_run(lake, date(2025, 8, 31), run_table([mine.id, other.id], [1.5, -1.0], [1.2, 1.0], [0.5, 0.5]))
    card = _uploaded_model(db, as_user)
    active = studio.activate_model(db, as_user("analyst"), lake, model_id=card.id)
    assert active.status == "active"
    assert active.scored_customers == 2
    [score] = studio.customer_scores(db, as_user("rm.zhang"), customer_id=mine.id)
    assert score.model_name == "上传模型"
    assert score.as_of == date(2025, 8, 31)
    assert 0 < score.score < 1
    assert [factor["feature"] for factor in score.factors][:2] in (
        ["aum", "txn_count_change_3m"],
        ["txn_count_change_3m", "aum"],
    )
    assert {"feature", "value", "contribution"} == set(score.factors[0])
    assert [e.entity_id for e in _actions(db, "model_activate")] == [str(card.id)]
    assert len(_actions(db, "model_score")) == 1


def test_an_out_of_scope_customer_has_no_score_to_show(  # type: ignore[no-untyped-def]
    db: Session, lake: Lake, as_user, make_customer
) -> None:
    other = make_customer("rm.chen", name="乙二")
    write_run(lake, date(2025, 8, 31), run_table([other.id], [1.0], [1.0], [0.5]))
    studio.activate_model(db, as_user("analyst"), lake, model_id=_uploaded_model(db, as_user).id)
    with pytest.raises(NotFound):
        studio.customer_scores(db, as_user("rm.zhang"), customer_id=other.id)
    assert len(studio.customer_scores(db, as_user("rm.chen"), customer_id=other.id)) == 1


def test_activating_a_second_model_for_the_target_retires_the_first(db: Session, lake: Lake, as_user) -> None:  # type: ignore[no-untyped-def]
    first = _uploaded_model(db, as_user, "一")
    second = _uploaded_model(db, as_user, "二")
    studio.activate_model(db, as_user("analyst"), lake, model_id=first.id)
    studio.activate_model(db, as_user("analyst"), lake, model_id=second.id)
    statuses = {card.name: card.status for card in studio.list_models(db, as_user("analyst"))}
    assert statuses == {"一": "retired", "二": "active"}
    assert json.loads(_actions(db, "model_activate")[-1].changes)["retired"] == [first.id]


def test_the_nightly_run_rescoring_replaces_the_scores(  # type: ignore[no-untyped-def]
    db: Session, lake: Lake, as_user, make_customer
) -> None:
    person = make_customer("rm.zhang", name="丙三")
    write_run(lake, date(2025, 8, 31), run_table([person.id], [1.0], [1.0], [0.5]))
    card = studio.activate_model(db, as_user("analyst"), lake, model_id=_uploaded_model(db, as_user).id)
    write_run(lake, date(2025, 9, 30), run_table([person.id], [-1.0], [1.0], [0.5]))
    assert studio.score_active_models(db, lake, as_of=date(2025, 9, 30)) == {card.id: 1}
    [score] = studio.customer_scores(db, as_user("rm.zhang"), customer_id=person.id)
    assert score.as_of == date(2025, 9, 30)


def test_a_missing_model_is_not_found(db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFound):
        studio.get_model(db, as_user("analyst"), model_id=999)


def test_uploaded_table_target_is_named_on_the_card(db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    card = _uploaded_model(db, as_user)
    assert card.target == "column:churned"
    assert card.target_definition == "column churned of upload.csv"
    assert card.metrics["leakage"] == []


def test_the_scoring_run_scores_with_the_active_models_after_storing_the_features(  # type: ignore[no-untyped-def]
    db: Session, database, lake: Lake, as_user, make_customer
) -> None:
    from bankcrm.segmentation.jobs import run_scoring
    from tests.segmentation.test_scoring_run import _history

    person = make_customer("rm.zhang", name="丁四")
    _history(lake, person.id)
    names = ["customer", "aum", "txn_out_count_3m", "digital_share_3m", "churned"]
    card = studio.train_from_table(
        db,
        as_user("analyst"),
        table=nonlinear_table(300).rename_columns(names),
        name="夜间",
        target="churned",
        source="u.csv",
    )
    studio.activate_model(db, as_user("analyst"), lake, model_id=card.id)  # no run yet: nothing scored
    run_scoring(database, lake, as_of=date(2026, 10, 31))
    [score] = studio.customer_scores(db, as_user("rm.zhang"), customer_id=person.id)
    assert score.as_of == date(2026, 10, 31)
    assert {factor["feature"] for factor in score.factors} <= {"aum", "txn_out_count_3m", "digital_share_3m"}


def test_retiring_the_active_model_removes_its_scores(  # type: ignore[no-untyped-def]
    db: Session, lake: Lake, as_user, make_customer
) -> None:
    person = make_customer("rm.zhang", name="戊五")
    write_run(lake, date(2025, 8, 31), run_table([person.id], [1.0], [1.0], [0.5]))
    card = studio.activate_model(db, as_user("analyst"), lake, model_id=_uploaded_model(db, as_user).id)
    retired = studio.retire_model(db, as_user("analyst"), model_id=card.id)
    assert (retired.status, retired.scored_customers) == ("retired", 0)
    assert studio.customer_scores(db, as_user("rm.zhang"), customer_id=person.id) == []
    assert studio.score_active_models(db, lake, as_of=date(2025, 8, 31)) == {}
    assert [e.entity_id for e in _actions(db, "model_retire")] == [str(card.id)]
    with pytest.raises(ValidationFailed):
        studio.retire_model(db, as_user("analyst"), model_id=card.id)


def test_only_active_customers_of_the_operational_store_are_scored(  # type: ignore[no-untyped-def]
    db: Session, lake: Lake, as_user, make_customer
) -> None:
    person = make_customer("rm.zhang", name="己六")
    # 999999 is in the lake's run but not a customer here (a lake out of step with the database).
    write_run(lake, date(2025, 8, 31), run_table([person.id, 999_999], [1.0, 1.0], [1.0, 1.0], [0.5, 0.5]))
    card = studio.activate_model(db, as_user("analyst"), lake, model_id=_uploaded_model(db, as_user).id)
    assert card.scored_customers == 1


def test_a_purchase_model_is_trained_on_customers_without_the_product(
    db: Session, lake: Lake, as_user
) -> None:  # type: ignore[no-untyped-def]
    purchase_history(lake)
    card = studio.train_on_history(
        db, as_user("analyst"), lake, target="purchase:wealth", name="理财购买", split_date=date(2025, 4, 1)
    )
    assert card.target == "purchase:wealth"
    assert card.target_definition.startswith("purchase of wealth: a customer holding no wealth")
    # Zero on every row it trains on: the product's own balance is not an input.
    assert card.features == FEATURES
    assert card.metrics["rows"] < 400 * 5  # five start runs (January to May), holders left out
    assert card.metrics["split"]["holdout_from"] == "2025-04-01"
    lightgbm, baseline = card.metrics["lightgbm"], card.metrics["baseline"]
    assert lightgbm["holdout_auc"] > 0.75
    assert lightgbm["holdout_auc"] >= baseline["holdout_auc"]
    assert card.metrics["source"]["months"] == 3


def test_a_ticked_feature_the_target_is_read_from_is_refused(db: Session, lake: Lake, as_user) -> None:  # type: ignore[no-untyped-def]
    purchase_history(lake, 50)
    with pytest.raises(ValidationFailed) as failed:
        studio.train_on_history(
            db,
            as_user("analyst"),
            lake,
            target="purchase:wealth",
            name="x",
            features=["aum", "balance_wealth"],
        )
    assert (failed.value.problems[0].field, failed.value.problems[0].value) == (
        "features",
        ["balance_wealth"],
    )


def test_an_unknown_target_is_refused(db: Session, lake: Lake, as_user) -> None:  # type: ignore[no-untyped-def]
    purchase_history(lake, 50)
    with pytest.raises(ValidationFailed) as failed:
        studio.train_on_history(db, as_user("analyst"), lake, target="purchase:loan", name="x")
    assert failed.value.problems[0].field == "target"


def test_a_default_model_foresees_who_falls_behind_without_reading_the_overdue_figures(
    db: Session, lake: Lake, as_user
) -> None:  # type: ignore[no-untyped-def]
    default_history(lake)
    card = studio.train_on_history(
        db, as_user("analyst"), lake, target="default", name="违约预警", split_date=date(2024, 5, 1)
    )
    assert card.target == "default"
    assert card.target_definition.startswith("default: a customer with an open loan or card")
    # The target is read from them: never inputs, even when every feature is asked for.
    assert {"overdue_days_max", "overdue_amount"}.isdisjoint(card.features)
    assert card.metrics["source"]["months"] == 12
    assert card.metrics["split"]["holdout_from"] == "2024-05-01"
    lightgbm, baseline = card.metrics["lightgbm"], card.metrics["baseline"]
    assert lightgbm["holdout_auc"] > 0.75
    assert lightgbm["holdout_auc"] >= baseline["holdout_auc"]
    assert card.metrics["rows"] < 400 * 6  # six start runs; those already in default left out


def test_default_needs_runs_twelve_months_apart(db: Session, lake: Lake, as_user) -> None:  # type: ignore[no-untyped-def]
    purchase_history(lake, 50)  # eight months of runs: enough for churn and purchase, not default
    with pytest.raises(ValidationFailed) as failed:
        studio.train_on_history(db, as_user("analyst"), lake, target="default", name="违约")
    assert (failed.value.problems[0].field, failed.value.problems[0].params["months"]) == ("target", 12)


def test_an_active_purchase_model_scores_everyone_and_its_bands_make_a_model_tag(  # type: ignore[no-untyped-def]
    db: Session, lake: Lake, as_user, make_customer
) -> None:
    from bankcrm.customers.service import tags as customer_tags
    from bankcrm.segmentation import tag_rules
    from bankcrm.segmentation.schemas import ModelTagIn

    purchase_history(lake)
    people = [make_customer("rm.zhang", name=f"甲{n}") for n in range(10)]
    ids = [person.id for person in people]
    latest = run_table(
        ids, [100_000.0] * 10, [-1.0 + 0.2 * n for n in range(10)], [0.1 * n for n in range(10)]
    )
    holding = [50_000.0 if n == 0 else 0.0 for n in range(10)]  # a holder is scored too
    write_run(
        lake, date(2025, 9, 30), latest.append_column("balance_wealth", pa.array(holding, pa.float64()))
    )
    card = studio.train_on_history(db, as_user("analyst"), lake, target="purchase:wealth", name="理财")
    active = studio.activate_model(db, as_user("analyst"), lake, model_id=card.id)
    assert active.scored_customers == 10
    [high] = studio.band_members(db, target="purchase:wealth", bands=["high"])
    tag = tag_rules.create_model_tag(
        db,
        as_user("mkt"),
        lake,
        data=ModelTagIn(code="wealth-prospect", name="理财潜客", target="purchase:wealth", bands=["high"]),
    )
    holders = {
        person
        for person in ids
        if tag.code in {t.code for t in customer_tags.tags_of(db, as_user("rm.zhang"), customer_id=person)}
    }
    assert holders == {high}
    # The RM lists read the churn model only: a purchase model gives them no churn scores.
    assert studio.active_churn_scores(db, at_least=0.0) is None


def _responses(ids: list[int], responded: list[int]) -> pa.Table:
    return pa.table({"customer_id": pa.array(ids, pa.int64()), "responded": pa.array(responded, pa.int64())})


def test_a_campaign_response_model_takes_the_features_of_the_run_before_the_campaign(  # type: ignore[no-untyped-def]
    db: Session, lake: Lake, as_user
) -> None:
    churn_history(lake, 300)
    # The response list of a campaign begun on 1 June: customers whose transactions were falling in
    # the May run responded (and a few others), read from that run; 999999 is no customer of it.
    backend = lake.ibis_backend()
    may = backend.to_pyarrow(
        backend.table("features").filter(lambda t: t.as_of.cast("date") == date(2025, 5, 31))
    )
    ids = may.column("customer_id").to_pylist()
    falling = may.column("txn_count_change_3m").to_pylist()
    answers = [int(drop < -0.3 or n % 17 == 0) for n, drop in enumerate(falling)]
    card = studio.train_campaign_response(
        db,
        as_user("mkt"),
        lake,
        table=_responses([*ids, 999_999], [*answers, 1]),
        name="春季理财活动响应",
        source="spring.csv",
        campaign_start=date(2025, 6, 1),
    )
    assert card.target == "campaign_response"
    assert card.target_definition.startswith("campaign response: column responded (1 = responded)")
    assert (
        "scoring run of 2025-05-31, the last before the campaign began on 2025-06-01"
        in card.target_definition
    )
    assert card.metrics["source"]["unmatched"] == 1
    assert card.metrics["rows"] == 300
    assert card.metrics["split"]["kind"] == "random"
    assert card.metrics["lightgbm"]["holdout_auc"] > 0.75


def test_a_response_list_before_any_run_is_refused(db: Session, lake: Lake, as_user) -> None:  # type: ignore[no-untyped-def]
    churn_history(lake, 30)
    with pytest.raises(ValidationFailed) as failed:
        studio.train_campaign_response(
            db,
            as_user("mkt"),
            lake,
            table=_responses([1, 2], [0, 1]),
            name="x",
            source="r.csv",
            campaign_start=date(2025, 1, 31),  # the first run is that day: nothing known before
        )
    assert failed.value.problems[0].field == "campaign_start"
