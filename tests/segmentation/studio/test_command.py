"""``bankcrm model train`` as an analyst runs it, through typer's test runner."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from typer.testing import CliRunner

from bankcrm.cli import app
from tests.segmentation.studio.data import nonlinear_table

runner = CliRunner()


def _csv(tmp_path: Path, table: pa.Table, name: str = "customers.csv") -> Path:
    path = tmp_path / name
    pa_csv.write_csv(table, path)
    return path


def test_train_prints_leakage_and_both_models_metrics_and_writes_the_results(tmp_path: Path) -> None:
    path = _csv(tmp_path, nonlinear_table(600, leak=True))
    result = runner.invoke(
        app, ["model", "train", str(path), "--target", "churned", "--id-column", "customer"]
    )
    assert result.exit_code == 0, result.output
    assert "Leakage warning: closed_days alone predicts the target with ROC-AUC 1.0000" in result.output
    assert result.output.index("Leakage warning") < result.output.index("ROC-AUC, cross-validated")
    assert "ROC-AUC, hold-out" in result.output
    assert "lift, top decile" in result.output
    out = tmp_path / "customers_model"
    assert (out / "model.txt").read_text().startswith("tree")
    card = json.loads((out / "model_card.json").read_text())
    assert card["features"] == ["x1", "x2", "noise", "closed_days"]
    assert card["metrics"]["leakage"] == [{"feature": "closed_days", "auc": 1.0}]
    assert set(card["metrics"]) >= {"lightgbm", "baseline", "split"}
    assert "## Leakage warnings" in (out / "model_card.md").read_text()
    predictions = pa_csv.read_csv(out / "predictions.csv")
    assert predictions.num_rows == 600
    assert predictions.column_names[:3] == ["customer", "score", "band"]
    assert predictions.column("customer")[0].as_py() == "C00000"
    assert "factor_3" in predictions.column_names


def test_train_on_parquet_with_time_column_exclusions_and_an_output_folder(tmp_path: Path) -> None:
    path = tmp_path / "history.parquet"
    pq.write_table(nonlinear_table(800, times=True), path)
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "model",
            "train",
            str(path),
            "--target",
            "churned",
            "--time-column",
            "as_of",
            "--exclude",
            "customer",
            "--exclude",
            "noise",
            "--output",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Split time" in result.output
    assert "(from 2024-05-31)" in result.output
    assert "Leakage warning" not in result.output
    card = json.loads((out / "model_card.json").read_text())
    assert card["features"] == ["x1", "x2"]
    assert card["metrics"]["split"]["kind"] == "time"


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    result = runner.invoke(app, ["model", "train", str(tmp_path / "nope.csv"), "--target", "y"])
    assert result.exit_code == 2
    assert "No such file" in result.output
    assert "nope.csv" in result.output


def test_a_missing_target_column_lists_the_columns(tmp_path: Path) -> None:
    path = _csv(tmp_path, nonlinear_table(50))
    result = runner.invoke(app, ["model", "train", str(path), "--target", "left"])
    assert result.exit_code == 2
    assert "target column 'left' is not in the table; its columns are: customer, x1" in result.output
    assert not (tmp_path / "customers_model").exists()


def test_a_non_binary_target_names_the_row_and_the_rule(tmp_path: Path) -> None:
    path = _csv(tmp_path, nonlinear_table(50))
    result = runner.invoke(app, ["model", "train", str(path), "--target", "x1"])
    assert result.exit_code == 2
    assert "target column 'x1', row 1" in result.output
    assert "the target must be 0/1" in result.output


def test_an_unknown_id_column_is_named(tmp_path: Path) -> None:
    path = _csv(tmp_path, nonlinear_table(50))
    result = runner.invoke(
        app, ["model", "train", str(path), "--target", "churned", "--id-column", "cust_no"]
    )
    assert result.exit_code == 2
    assert "id column 'cust_no' is not in the table" in result.output
