"""The model card: what a trained model learnt from, how it was judged, and who trained it when.

One plain dictionary (JSON-ready) for the command line's ``model_card.json`` and the studio's table,
and a markdown rendering of it for people reading the command's output folder.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from bankcrm.segmentation.studio.training import CALIBRATION_BINS, ModelMetrics, TrainingResult

CHART_BINS = CALIBRATION_BINS


def metrics_dict(metrics: ModelMetrics) -> dict[str, Any]:
    return {
        "cv_auc": _round(metrics.cv_auc),
        "cv_auc_folds": [_round(value) for value in metrics.cv_auc_folds],
        "holdout_auc": _round(metrics.holdout_auc),
        "lift_top_decile": _round(metrics.lift_top_decile),
        "brier": _round(metrics.brier),
        "calibration": [
            {
                "rows": b.rows,
                "mean_predicted": _round(b.mean_predicted),
                "observed_rate": _round(b.observed_rate),
            }
            for b in metrics.calibration
        ],
    }


def _round(value: float) -> float | None:
    return None if value != value else round(value, 4)  # NaN (no usable fold) is written as null


def card_metrics(result: TrainingResult) -> dict[str, Any]:
    """Both models' metrics, the split and the leakage warnings: everything the card page shows."""
    return {
        "lightgbm": metrics_dict(result.lightgbm),
        "baseline": metrics_dict(result.baseline),
        "split": asdict(result.split),
        "rows": result.rows,
        "positives": result.positives,
        "leakage": [{"feature": w.feature, "auc": w.auc} for w in result.leakage],
        "skipped_columns": result.skipped,
    }


def model_card(
    result: TrainingResult,
    *,
    name: str,
    target: str,
    data: str,
    author: str,
    trained_at: str,
) -> dict[str, Any]:
    return {
        "name": name,
        "target": target,
        "data": data,
        "author": author,
        "trained_at": trained_at,
        "algorithm": "LightGBM (binary), baseline: logistic regression (median-imputed, standardised)",
        "features": result.feature_names,
        "metrics": card_metrics(result),
    }


def card_markdown(card: dict[str, Any]) -> str:
    metrics = card["metrics"]
    lines = [
        f"# Model card: {card['name']}",
        "",
        f"- Target: {card['target']}",
        f"- Data: {card['data']}",
        f"- Trained: {card['trained_at']} by {card['author']}",
        f"- Algorithm: {card['algorithm']}",
        f"- Rows: {metrics['rows']} ({metrics['positives']} positive)",
        f"- Split: {_split_text(metrics['split'])}",
        f"- Features ({len(card['features'])}): {', '.join(card['features'])}",
        "",
        "## Leakage warnings",
        "",
    ]
    leakage = metrics["leakage"]
    lines += [f"- {w['feature']}: AUC {w['auc']:.4f} alone" for w in leakage] or ["None."]
    lines += ["", "## Metrics", "", "| | LightGBM | baseline |", "| --- | --- | --- |"]
    for key, label in (
        ("cv_auc", "cross-validated ROC-AUC"),
        ("holdout_auc", "hold-out ROC-AUC"),
        ("lift_top_decile", "lift, top decile"),
        ("brier", "Brier score"),
    ):
        lines.append(f"| {label} | {_text(metrics['lightgbm'][key])} | {_text(metrics['baseline'][key])} |")
    lines += ["", "## Calibration (LightGBM, hold-out, by decile of score)", ""]
    lines += ["| rows | mean predicted | observed rate |", "| --- | --- | --- |"]
    for b in metrics["lightgbm"]["calibration"]:
        lines.append(f"| {b['rows']} | {b['mean_predicted']:.4f} | {b['observed_rate']:.4f} |")
    return "\n".join(lines) + "\n"


def _text(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _split_text(split: dict[str, Any]) -> str:
    if split["kind"] == "time":
        return (
            f"by time: {split['development_rows']} rows before {split['holdout_from']} develop, "
            f"{split['holdout_rows']} from then test"
        )
    return f"random, stratified: {split['development_rows']} rows develop, {split['holdout_rows']} test"
