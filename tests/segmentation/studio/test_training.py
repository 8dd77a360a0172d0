"""The studio's training, on generated tables and on cases small enough to check by hand."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from bankcrm.segmentation.studio import training
from bankcrm.segmentation.studio.training import TrainingInputError
from tests.segmentation.studio.data import nonlinear_table


def test_lightgbm_beats_the_logistic_baseline_on_a_nonlinear_target() -> None:
    data = training.prepare(nonlinear_table(), target="churned", id_column="customer")
    result = training.train(data)
    assert result.lightgbm.cv_auc > 0.85
    assert result.lightgbm.holdout_auc > 0.85
    assert result.baseline.cv_auc < 0.65
    assert result.lightgbm.cv_auc > result.baseline.cv_auc + 0.2
    assert len(result.lightgbm.cv_auc_folds) == training.FOLDS
    assert result.split.kind == "random"
    assert result.split.holdout_rows == 240


def test_training_twice_gives_the_same_model() -> None:
    data = training.prepare(nonlinear_table(400), target="churned", id_column="customer")
    assert training.train(data).model_text == training.train(data).model_text


def test_a_planted_leaking_column_is_flagged_and_honest_ones_are_not() -> None:
    data = training.prepare(nonlinear_table(leak=True), target="churned", id_column="customer")
    warnings = training.leakage_check(data)
    assert [warning.feature for warning in warnings] == ["closed_days"]
    assert warnings[0].auc >= 0.98


def test_a_feature_predicting_the_target_upside_down_is_flagged() -> None:
    table = nonlinear_table(300)
    table = table.append_column("minus_target", pa.array([-v for v in table.column("churned").to_pylist()]))
    data = training.prepare(table, target="churned", id_column="customer")
    warnings = training.leakage_check(data)
    assert [(w.feature, w.auc) for w in warnings] == [("minus_target", 0.0)]


def test_lift_of_the_top_decile_on_a_hand_made_case() -> None:
    # 20 rows, 4 positives: base rate 0.2. The top 2 rows by score are one positive and one negative,
    # so the top decile's rate is 0.5 and its lift 0.5 / 0.2 = 2.5.
    scores = np.array([0.95, 0.9] + [0.5 - i * 0.01 for i in range(18)])
    target = np.array([1, 0] + [1, 1, 1] + [0] * 15)
    assert training.lift_top_decile(scores, target) == pytest.approx(2.5)


def test_calibration_table_and_brier_on_a_hand_made_case() -> None:
    # 4 rows in 2 bins: the lower pair predicts 0.1 and 0.3 (mean 0.2) and one of them happened (0.5);
    # the upper pair predicts 0.6 and 0.8 (mean 0.7), both happened (1.0).
    scores = np.array([0.8, 0.1, 0.6, 0.3])
    target = np.array([1, 0, 1, 1])
    bins = training.calibration_table(scores, target, bins=2)
    assert [(b.rows, round(b.mean_predicted, 6), b.observed_rate) for b in bins] == [
        (2, 0.2, 0.5),
        (2, 0.7, 1.0),
    ]
    # (0.2² + 0.1² + 0.4² + 0.7²) / 4 = (0.04 + 0.01 + 0.16 + 0.49) / 4 = 0.175
    assert training.brier_score(scores, target) == pytest.approx(0.175)


def test_hold_out_calibration_has_ten_bins_covering_every_row() -> None:
    result = training.train(training.prepare(nonlinear_table(500), target="churned"))
    assert len(result.lightgbm.calibration) == 10
    assert sum(b.rows for b in result.lightgbm.calibration) == result.split.holdout_rows


def test_time_column_trains_on_the_past_and_tests_on_the_latest_time() -> None:
    table = nonlinear_table(1000, times=True)
    result = training.train(training.prepare(table, target="churned", time_column="as_of"))
    assert result.split.kind == "time"
    assert result.split.holdout_from == "2024-05-31"
    assert result.split.holdout_rows == 200
    assert "as_of" not in result.feature_names
    # Forward-chaining over four development months gives three folds, each testing a later month.
    assert len(result.lightgbm.cv_auc_folds) == 3


def test_time_split_from_a_given_date() -> None:
    table = nonlinear_table(1000, times=True)
    result = training.train(
        training.prepare(table, target="churned", time_column="as_of"), holdout_from="2024-04-01"
    )
    assert (result.split.development_rows, result.split.holdout_rows) == (600, 400)


def test_top_factors_name_the_features_that_drive_a_row_with_their_sign() -> None:
    data = training.prepare(nonlinear_table(), target="churned", id_column="customer")
    result = training.train(data)
    booster = training.load_model(result.model_text)
    scored = training.score_rows(booster, data.features, data.feature_names)
    assert all(len(row) == 3 for row in scored.factors)
    # The target depends on x1 and x2 only: they lead nearly every row's factors, never the noise.
    leading = [{f.feature for f in row[:2]} for row in scored.factors]
    assert sum(names == {"x1", "x2"} for names in leading) / len(leading) > 0.9
    # Contributions and the bias add up to the raw score: the factors are SHAP values of this model.
    raw = np.asarray(booster.predict(data.features[:5], raw_score=True))
    contrib = np.asarray(booster.predict(data.features[:5], pred_contrib=True))
    assert np.allclose(contrib.sum(axis=1), raw)
    # A row scored high is pushed up by its leading factor.
    top_row = int(np.argmax(scored.scores))
    assert scored.factors[top_row][0].contribution > 0


def test_score_bands_by_rank() -> None:
    scores = np.array([0.1 * i for i in range(10)])
    assert training.score_bands(scores) == ["low"] * 7 + ["medium"] * 2 + ["high"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target": "nope"}, "target column 'nope' is not in the table"),
        ({"target": "churned", "id_column": "who"}, "id column 'who' is not in the table"),
        ({"target": "x1"}, "target column 'x1', row 1"),
    ],
)
def test_bad_columns_are_named_with_the_rule(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(TrainingInputError, match=message):
        training.prepare(nonlinear_table(50), **kwargs)


def test_a_target_with_too_few_of_one_class_is_refused() -> None:
    table = pa.table({"x": list(range(30)), "y": [1] * 3 + [0] * 27})
    with pytest.raises(TrainingInputError, match="3 rows of 1 and 27 of 0"):
        training.prepare(table, target="y")


def test_text_columns_are_skipped_and_true_false_targets_read() -> None:
    table = pa.table({"x": list(range(40)), "city": ["a"] * 40, "y": ["true", "false"] * 20})
    data = training.prepare(table, target="y")
    assert data.feature_names == ["x"]
    assert data.skipped == ["city"]
    assert data.target.tolist() == [1, 0] * 20


def test_scoring_no_rows_gives_no_scores() -> None:
    data = training.prepare(nonlinear_table(200), target="churned", id_column="customer")
    booster = training.load_model(training.train(data).model_text)
    scored = training.score_rows(booster, np.empty((0, len(data.feature_names))), data.feature_names)
    assert (len(scored.scores), scored.factors) == (0, [])
