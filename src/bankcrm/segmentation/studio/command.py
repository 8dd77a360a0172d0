"""The ``bankcrm model train`` command: a CSV or Parquet table with a labelled column in, a LightGBM
model, its model card and per-row predictions with their top factors out.

Leakage warnings are printed before anything is trained, so an analyst sees them first; bad input
(a missing file or column, a target that is not 0/1) stops the command with exit code 2 and one line
naming the column and the rule, before anything is written.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import typer
from rich.console import Console
from rich.markup import escape

from bankcrm.segmentation.studio import training
from bankcrm.segmentation.studio.card import card_markdown, model_card
from bankcrm.segmentation.studio.training import TrainingData, TrainingInputError, TrainingResult

app = typer.Typer(help="Propensity models (the model studio).", no_args_is_help=True)
_console = Console(soft_wrap=True)
_errors = Console(stderr=True, soft_wrap=True)


def read_table(path: Path) -> pa.Table:
    if not path.is_file():
        raise TrainingInputError(f"No such file: {path}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pq.read_table(path)
        if suffix in {".csv", ".txt"}:
            return pa_csv.read_csv(path)
    except (pa.ArrowInvalid, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TrainingInputError(f"{path.name} could not be read as a {suffix[1:]} file: {first}") from exc
    raise TrainingInputError(f"{path.name}: expected a .csv or .parquet file.")


@app.command("train")
def train_command(
    file: Annotated[
        Path, typer.Argument(help="Table with features and a 0/1 target: .csv (header row) or .parquet.")
    ],
    target: Annotated[
        str, typer.Option(help="The 0/1 column to predict (true/false and yes/no are read too).")
    ],
    id_column: Annotated[
        str | None,
        typer.Option(help="Column identifying each row; not a feature, copied to the predictions."),
    ] = None,
    time_column: Annotated[
        str | None,
        typer.Option(help="Column of dates: earlier rows train, the latest (or --holdout-from on) test."),
    ] = None,
    holdout_from: Annotated[
        str | None, typer.Option(help="With --time-column: rows at or after this time are the hold-out.")
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option(help="A column that is not a feature (repeatable).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option(help="Folder for the results (default: FILE_model beside it).")
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="Model name on the card (default: the target column).")
    ] = None,
) -> None:
    """Train LightGBM and a logistic baseline on a table; print leakage warnings and metrics; write
    model.txt, model_card.json, model_card.md and predictions.csv."""
    out = output if output is not None else file.with_name(f"{file.stem}_model")
    try:
        if holdout_from is not None and time_column is None:
            raise TrainingInputError("--holdout-from needs --time-column: it splits rows by their time.")
        data = training.prepare(
            read_table(file),
            target=target,
            id_column=id_column,
            time_column=time_column,
            exclude=exclude or (),
        )
        _print_leakage(data)
        result = training.train(data, holdout_from=holdout_from)
    except TrainingInputError as exc:
        _errors.print(escape(str(exc)), style="red", highlight=False)
        raise typer.Exit(2) from None
    out.mkdir(parents=True, exist_ok=True)
    card = model_card(
        result,
        name=name or target,
        target=f"column {target} of {file.name}",
        data=f"{file.name}: {result.rows} rows, {result.positives} with {target} = 1",
        author="bankcrm model train",
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    _write_outputs(out, result, card, data, id_column)
    _report(result, out)


def _print_leakage(data: TrainingData) -> None:
    for warning in training.leakage_check(data):
        _console.print(
            f"[yellow]Leakage warning:[/] {escape(warning.feature)} alone predicts the target with ROC-AUC "
            f"{warning.auc:.4f} (rule: |AUC - 0.5| >= {training.LEAKAGE_AUC_DISTANCE}); "
            "check it is known before the outcome.",
            highlight=False,
        )


def _write_outputs(
    out: Path, result: TrainingResult, card: dict[str, object], data: TrainingData, id_column: str | None
) -> None:
    (out / "model.txt").write_text(result.model_text, encoding="utf-8")
    (out / "model_card.json").write_text(json.dumps(card, ensure_ascii=False, indent=2), encoding="utf-8")
    (out / "model_card.md").write_text(card_markdown(card), encoding="utf-8")
    pa_csv.write_csv(predictions_table(result, data, id_column), out / "predictions.csv")


def predictions_table(result: TrainingResult, data: TrainingData, id_column: str | None) -> pa.Table:
    """Every row of the input scored by the kept model, with its top factors and their push (log-odds)."""
    scored = training.score_rows(training.load_model(result.model_text), data.features, data.feature_names)
    columns: dict[str, object] = {}
    columns[id_column or "row"] = data.ids if data.ids is not None else list(range(1, len(data.target) + 1))
    columns["score"] = [round(float(value), 6) for value in scored.scores]
    columns["band"] = training.score_bands(scored.scores)
    for rank in range(training.TOP_FACTORS):
        columns[f"factor_{rank + 1}"] = [
            row[rank].feature if rank < len(row) else None for row in scored.factors
        ]
        columns[f"effect_{rank + 1}"] = [
            row[rank].contribution if rank < len(row) else None for row in scored.factors
        ]
    return pa.table(columns)


def _report(result: TrainingResult, out: Path) -> None:
    split = result.split
    _console.print(
        f"{result.rows} rows, {result.positives} positive; {len(result.feature_names)} features"
        + (
            f" ({len(result.skipped)} non-numeric columns skipped: {', '.join(result.skipped)})"
            if result.skipped
            else ""
        )
        + f". Split {split.kind}: {split.development_rows} rows develop, {split.holdout_rows} test"
        + (f" (from {split.holdout_from})." if split.holdout_from else "."),
        highlight=False,
    )
    _console.print(f"{'':26}{'LightGBM':>10}{'baseline':>10}", highlight=False)
    for label, key in (
        ("ROC-AUC, cross-validated", "cv_auc"),
        ("ROC-AUC, hold-out", "holdout_auc"),
        ("lift, top decile", "lift_top_decile"),
        ("Brier score", "brier"),
    ):
        lightgbm, baseline = getattr(result.lightgbm, key), getattr(result.baseline, key)
        _console.print(f"{label:26}{lightgbm:>10.4f}{baseline:>10.4f}", highlight=False)
    _console.print(f"Model, card and predictions written to {escape(str(out))}.", highlight=False)
