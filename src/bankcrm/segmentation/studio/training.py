"""Propensity-model training, pure: a table of features and a binary target in, a model and its metrics out.

No database and no lake here, so the command line, the studio's service and the tests all use the same
code. The order is the one an analyst needs: the table is checked, likely target leakage is reported
*before* anything is trained, then LightGBM and a logistic-regression baseline are trained and judged
the same way (cross-validated ROC-AUC on the development rows; lift, calibration and Brier score on
the hold-out rows), and every scored row gets its top contributing factors from LightGBM's SHAP values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

SEED = 20240601
FOLDS = 5
HOLDOUT_SHARE = 0.2
# Leakage rule: a feature whose values alone rank the target with ROC-AUC at or above 0.98 (or at or
# below 0.02, the same ranking upside down) predicts it "almost perfectly"; honest features rarely do.
LEAKAGE_AUC_DISTANCE = 0.48
# Fewer rows of either class than this and neither the folds nor the hold-out can hold both classes.
MIN_ROWS_PER_CLASS = 10
TOP_FACTORS = 3
CALIBRATION_BINS = 10
TRUE_WORDS = {"1", "true", "yes", "y", "t"}
FALSE_WORDS = {"0", "false", "no", "n", "f"}


class TrainingInputError(ValueError):
    """The table or the options cannot be trained on as given; the message names the column and the rule."""

    def __init__(self, message: str, *, column: str | None = None) -> None:
        super().__init__(message)
        self.column = column


@dataclass(frozen=True)
class TrainingData:
    """The numeric feature matrix (missing values as NaN), the 0/1 target and the optional row keys."""

    features: FloatArray
    target: IntArray
    feature_names: list[str]
    ids: list[Any] | None = None
    times: list[Any] | None = None
    skipped: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class LeakageWarning:
    feature: str
    auc: float


@dataclass(frozen=True)
class CalibrationBin:
    """One tenth of the hold-out rows, by predicted score: the mean prediction against what happened."""

    rows: int
    mean_predicted: float
    observed_rate: float


@dataclass(frozen=True)
class ModelMetrics:
    cv_auc: float
    cv_auc_folds: list[float]
    holdout_auc: float
    lift_top_decile: float
    brier: float
    calibration: list[CalibrationBin]


@dataclass(frozen=True)
class Factor:
    """One feature's push on a row's score, in log-odds: positive raises the propensity."""

    feature: str
    value: float | None
    contribution: float


@dataclass(frozen=True)
class Split:
    """How the rows were divided: ``kind`` is ``time`` (earlier rows develop, later rows test) or
    ``random``."""

    kind: str
    development_rows: int
    holdout_rows: int
    holdout_from: str | None = None


@dataclass(frozen=True)
class TrainingResult:
    feature_names: list[str]
    leakage: list[LeakageWarning]
    lightgbm: ModelMetrics
    baseline: ModelMetrics
    split: Split
    rows: int
    positives: int
    model_text: str
    skipped: list[str]


# --- reading the table -----------------------------------------------------------------------------


def _column(table: pa.Table, name: str, role: str) -> pa.ChunkedArray:
    if name not in table.column_names:
        columns = ", ".join(table.column_names)
        raise TrainingInputError(
            f"{role} column {name!r} is not in the table; its columns are: {columns}.", column=name
        )
    return table.column(name)


def _target_values(column: pa.ChunkedArray, name: str) -> IntArray:
    values = column.to_pylist()
    result = np.empty(len(values), dtype=np.int64)
    for row, value in enumerate(values, start=1):
        word = str(value).strip().lower() if value is not None else ""
        if isinstance(value, float) and value in (0.0, 1.0):
            word = str(int(value))
        if word in TRUE_WORDS:
            result[row - 1] = 1
        elif word in FALSE_WORDS:
            result[row - 1] = 0
        else:
            raise TrainingInputError(
                f"target column {name!r}, row {row}: {value!r} is not binary; "
                "the target must be 0/1 (or true/false, yes/no) on every row.",
                column=name,
            )
    return result


def _check_classes(target: IntArray, name: str) -> None:
    positives = int(target.sum())
    negatives = len(target) - positives
    if min(positives, negatives) < MIN_ROWS_PER_CLASS:
        raise TrainingInputError(
            f"target column {name!r} has {positives} rows of 1 and {negatives} of 0; "
            f"each class needs at least {MIN_ROWS_PER_CLASS} rows to train and test on.",
            column=name,
        )


def named_column(table: pa.Table, name: str, role: str) -> pa.ChunkedArray:
    """The column ``name``; missing, it raises naming the table's columns."""
    return _column(table, name, role)


def binary_target(table: pa.Table, name: str) -> IntArray:
    """The 0/1 column ``name`` (true/false and yes/no are read too); anything else raises with its row."""
    return _target_values(_column(table, name, "target"), name)


def _numeric(column: pa.ChunkedArray) -> FloatArray | None:
    """A feature column as floats (missing = NaN); None for text and dates, which are not features here."""
    kind = column.type
    if pa.types.is_boolean(kind) or pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return np.asarray(pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
    if pa.types.is_decimal(kind):
        return np.asarray(pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
    return None


def prepare(
    table: pa.Table,
    *,
    target: str,
    id_column: str | None = None,
    time_column: str | None = None,
    exclude: Sequence[str] = (),
) -> TrainingData:
    """Check the table and split it into features, target and keys; bad input raises with the rule."""
    target_values = _target_values(_column(table, target, "target"), target)
    ids = _column(table, id_column, "id").to_pylist() if id_column else None
    times = _column(table, time_column, "time").to_pylist() if time_column else None
    for name in exclude:
        _column(table, name, "excluded")
    if times is not None and any(value is None for value in times):
        raise TrainingInputError(
            f"time column {time_column!r} has empty rows; every row needs a time.", column=time_column
        )
    _check_classes(target_values, target)
    keys = {target, id_column, time_column, *exclude}
    names: list[str] = []
    columns: list[FloatArray] = []
    skipped: list[str] = []
    for name in table.column_names:
        if name in keys:
            continue
        values = _numeric(table.column(name))
        if values is None:
            skipped.append(name)
        else:
            names.append(name)
            columns.append(values)
    if not names:
        raise TrainingInputError("the table has no numeric feature column besides the target and the keys.")
    matrix = np.column_stack(columns).astype(np.float64)
    return TrainingData(matrix, target_values, names, ids=ids, times=times, skipped=skipped)


# --- leakage ----------------------------------------------------------------------------------------


def single_feature_auc(values: FloatArray, target: IntArray) -> float:
    """ROC-AUC of one feature used as the score by itself; missing values rank below every value, so a
    feature whose *missingness* gives the target away is caught too."""
    finite = values[~np.isnan(values)]
    if finite.size == 0:
        return 0.5
    filled = np.where(np.isnan(values), finite.min() - 1.0, values)
    if np.all(filled == filled[0]):
        return 0.5
    return float(roc_auc_score(target, filled))


def leakage_check(data: TrainingData) -> list[LeakageWarning]:
    """The features that alone predict the target almost perfectly (|AUC − 0.5| ≥ 0.48), worst first."""
    warnings = []
    for index, name in enumerate(data.feature_names):
        auc = single_feature_auc(data.features[:, index], data.target)
        if abs(auc - 0.5) >= LEAKAGE_AUC_DISTANCE:
            warnings.append(LeakageWarning(name, round(auc, 4)))
    return sorted(warnings, key=lambda warning: -abs(warning.auc - 0.5))


# --- metrics ----------------------------------------------------------------------------------------


def _top_order(scores: FloatArray) -> IntArray:
    """Rows from the highest score down; equal scores keep their row order, so results are repeatable."""
    return np.asarray(np.argsort(-scores, kind="stable"), dtype=np.int64)


def lift_top_decile(scores: FloatArray, target: IntArray) -> float:
    """Positive rate among the top tenth of rows by score (at least one row, rounded up) over the
    overall rate."""
    base = float(target.mean())
    if base == 0:
        return 0.0
    top = max(1, math.ceil(len(scores) / 10))
    return float(target[_top_order(scores)[:top]].mean()) / base


def calibration_table(
    scores: FloatArray, target: IntArray, bins: int = CALIBRATION_BINS
) -> list[CalibrationBin]:
    """Rows sorted by score, from the lowest, cut into ``bins`` groups as equal as can be (np.array_split)."""
    order = np.argsort(scores, kind="stable")
    result = []
    for part in np.array_split(order, min(bins, len(order))):
        result.append(CalibrationBin(len(part), float(scores[part].mean()), float(target[part].mean())))
    return result


def brier_score(scores: FloatArray, target: IntArray) -> float:
    return float(np.mean((scores - target) ** 2))


def _auc(target: IntArray, scores: FloatArray) -> float:
    return float(roc_auc_score(target, scores))


# --- models -----------------------------------------------------------------------------------------


def _lightgbm_params(rows: int) -> dict[str, Any]:
    # Deterministic on any machine: one thread, fixed seeds, row-wise histograms.
    return {
        "objective": "binary",
        "learning_rate": 0.05,
        "num_leaves": 15,
        "min_data_in_leaf": max(5, min(20, rows // 50)),
        "feature_fraction": 0.9,
        "bagging_fraction": 0.9,
        "bagging_freq": 1,
        "seed": SEED,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": 1,
        "verbose": -1,
    }


ROUNDS = 200


def train_lightgbm(features: FloatArray, target: IntArray, names: list[str]) -> lgb.Booster:
    dataset = lgb.Dataset(features, label=target, feature_name=names, free_raw_data=False)
    return lgb.train(_lightgbm_params(len(target)), dataset, num_boost_round=ROUNDS)


def train_baseline(features: FloatArray, target: IntArray) -> Pipeline:
    model = make_pipeline(
        SimpleImputer(strategy="median", keep_empty_features=True),
        StandardScaler(),
        LogisticRegression(max_iter=2000),
    )
    model.fit(features, target)
    return model


def _lightgbm_scores(booster: lgb.Booster, features: FloatArray) -> FloatArray:
    return np.asarray(booster.predict(features), dtype=np.float64)


def _baseline_scores(model: Pipeline, features: FloatArray) -> FloatArray:
    return np.asarray(model.predict_proba(features)[:, 1], dtype=np.float64)


# --- splits -----------------------------------------------------------------------------------------


def _time_key(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _time_split(times: list[Any], holdout_from: str | None) -> tuple[IntArray, IntArray, str]:
    """Development rows before the hold-out time, hold-out rows from it on; by default the hold-out is
    the latest time in the table."""
    keys = np.array([_time_key(value) for value in times])
    distinct = sorted(set(keys.tolist()))
    if len(distinct) < 2:
        raise TrainingInputError(
            "the time column has one distinct time; a time-based split needs at least two."
        )
    start = holdout_from if holdout_from is not None else distinct[-1]
    holdout = np.flatnonzero(keys >= start)
    development = np.flatnonzero(keys < start)
    if holdout.size == 0 or development.size == 0:
        raise TrainingInputError(
            f"split time {start!r} leaves no rows on one side; "
            f"times run from {distinct[0]} to {distinct[-1]}."
        )
    return development.astype(np.int64), holdout.astype(np.int64), start


def _time_folds(keys: list[str], folds: int) -> list[tuple[IntArray, IntArray]]:
    """Forward-chaining folds over distinct times: each fold trains on earlier times and tests on the
    next block, so no fold learns from its own future."""
    array = np.array(keys)
    distinct = sorted(set(keys))
    blocks = (
        np.array_split(np.array(distinct), min(folds, len(distinct) - 1) + 1) if len(distinct) > 1 else []
    )
    result = []
    for index in range(1, len(blocks)):
        test = np.flatnonzero(np.isin(array, blocks[index]))
        train = np.flatnonzero(array < blocks[index][0])
        result.append((train.astype(np.int64), test.astype(np.int64)))
    return result


def _random_folds(target: IntArray, folds: int) -> list[tuple[IntArray, IntArray]]:
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
    return [
        (a.astype(np.int64), b.astype(np.int64)) for a, b in splitter.split(np.zeros(len(target)), target)
    ]


def _cross_validated_auc(
    features: FloatArray, target: IntArray, names: list[str], folds: list[tuple[IntArray, IntArray]]
) -> tuple[list[float], list[float]]:
    lightgbm_aucs, baseline_aucs = [], []
    for train, test in folds:
        # A fold whose rows hold one class has no AUC; it is left out rather than guessed.
        if len(set(target[train].tolist())) < 2 or len(set(target[test].tolist())) < 2:
            continue
        booster = train_lightgbm(features[train], target[train], names)
        baseline = train_baseline(features[train], target[train])
        lightgbm_aucs.append(_auc(target[test], _lightgbm_scores(booster, features[test])))
        baseline_aucs.append(_auc(target[test], _baseline_scores(baseline, features[test])))
    return lightgbm_aucs, baseline_aucs


def _metrics(folds: list[float], scores: FloatArray, target: IntArray) -> ModelMetrics:
    return ModelMetrics(
        cv_auc=float(np.mean(folds)) if folds else float("nan"),
        cv_auc_folds=folds,
        holdout_auc=_auc(target, scores),
        lift_top_decile=lift_top_decile(scores, target),
        brier=brier_score(scores, target),
        calibration=calibration_table(scores, target),
    )


def _split(data: TrainingData, holdout_from: str | None) -> tuple[IntArray, IntArray, Split]:
    if data.times is not None:
        development, holdout, start = _time_split(data.times, holdout_from)
        return development, holdout, Split("time", len(development), len(holdout), start)
    indexes = np.arange(len(data.target))
    development, holdout = train_test_split(
        indexes, test_size=HOLDOUT_SHARE, stratify=data.target, random_state=SEED
    )
    return np.sort(development), np.sort(holdout), Split("random", len(development), len(holdout))


def _folds(data: TrainingData, development: IntArray) -> list[tuple[IntArray, IntArray]]:
    if data.times is not None:
        return _time_folds([_time_key(data.times[row]) for row in development], FOLDS)
    return _random_folds(data.target[development], FOLDS)


def train(data: TrainingData, *, holdout_from: str | None = None) -> TrainingResult:
    """Check for leakage, then train and judge both models; the kept model learnt the development rows
    only, so its hold-out metrics describe it honestly."""
    leakage = leakage_check(data)
    development, holdout, split = _split(data, holdout_from)
    for part, label in ((development, "development"), (holdout, "hold-out")):
        if len(set(data.target[part].tolist())) < 2:
            raise TrainingInputError(f"the {label} rows hold only one class of the target; move the split.")
    x_dev, y_dev = data.features[development], data.target[development]
    x_test, y_test = data.features[holdout], data.target[holdout]
    lightgbm_folds, baseline_folds = _cross_validated_auc(
        x_dev, y_dev, data.feature_names, _folds(data, development)
    )
    booster = train_lightgbm(x_dev, y_dev, data.feature_names)
    baseline = train_baseline(x_dev, y_dev)
    return TrainingResult(
        feature_names=data.feature_names,
        leakage=leakage,
        lightgbm=_metrics(lightgbm_folds, _lightgbm_scores(booster, x_test), y_test),
        baseline=_metrics(baseline_folds, _baseline_scores(baseline, x_test), y_test),
        split=split,
        rows=len(data.target),
        positives=int(data.target.sum()),
        model_text=booster.model_to_string(),
        skipped=data.skipped,
    )


# --- scoring and factors ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoredRows:
    scores: FloatArray
    factors: list[list[Factor]]


def load_model(model_text: str) -> lgb.Booster:
    return lgb.Booster(model_str=model_text)


def score_rows(
    booster: lgb.Booster, features: FloatArray, names: list[str], top: int = TOP_FACTORS
) -> ScoredRows:
    """Each row's propensity and its ``top`` factors: the features with the largest SHAP value in
    absolute terms (``pred_contrib``; the last column is the expected value, not a feature)."""
    if len(features) == 0:  # LightGBM cannot predict on no rows (it divides by the row count)
        return ScoredRows(np.empty(0, dtype=np.float64), [])
    scores = _lightgbm_scores(booster, features)
    contributions = np.asarray(booster.predict(features, pred_contrib=True), dtype=np.float64)[:, :-1]
    factors = []
    for row in range(len(features)):
        order = np.argsort(-np.abs(contributions[row]), kind="stable")[:top]
        factors.append([_factor(names[i], features[row, i], contributions[row, i]) for i in order])
    return ScoredRows(scores, factors)


def _factor(name: str, value: float, contribution: float) -> Factor:
    # + 0.0 turns a rounded -0.0 into 0.0, so a file never shows "-0".
    return Factor(name, None if math.isnan(value) else float(value), round(float(contribution), 6) + 0.0)


def feature_matrix(table: pa.Table, names: list[str]) -> FloatArray:
    """The model's features from a table, in the model's order; a missing column is all missing."""
    columns = []
    for name in names:
        values = _numeric(table.column(name)) if name in table.column_names else None
        columns.append(values if values is not None else np.full(table.num_rows, np.nan))
    return np.column_stack(columns).astype(np.float64) if columns else np.empty((table.num_rows, 0))


def score_bands(scores: FloatArray) -> list[str]:
    """Bands by rank in the scored population: the top tenth ``high``, the next two tenths ``medium``,
    the rest ``low`` — by rank, so a rare target still yields a short list to act on."""
    order = _top_order(scores)
    bands = ["low"] * len(scores)
    high = math.ceil(len(scores) * 0.1)
    medium = math.ceil(len(scores) * 0.3)
    for rank, row in enumerate(order.tolist()):
        bands[row] = "high" if rank < high else "medium" if rank < medium else "low"
    return bands
