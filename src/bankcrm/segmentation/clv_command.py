"""The ``bankcrm clv fit`` command: read a transaction log, fit BG/NBD and Gamma-Gamma, write predictions.

The log is checked row by row before anything is fitted or written: the first row that breaks a rule
(an empty customer, a date that is not a date, an amount that is not a number or is negative) stops the
command with a message naming the column, the row and the value. The models are in ``clv``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import typer
from rich.console import Console
from rich.markup import escape

from bankcrm.segmentation.clv import (
    BgNbdFit,
    ClvFitError,
    FloatArray,
    GammaGammaFit,
    expected_spend,
    expected_transactions,
    fit_bgnbd,
    fit_gamma_gamma,
    probability_alive,
)

Period = Literal["week", "day"]
DAYS_PER_PERIOD: dict[str, int] = {"week": 7, "day": 1}
# Below this many repeat buyers the dropout and spend parameters are guesses, not estimates.
MIN_REPEAT_CUSTOMERS = 10
DATE_FORMATS_TEXT = "YYYY-MM-DD, an ISO date-time such as 2024-03-31T09:30:00, or YYYYMMDD"


class ClvInputError(ValueError):
    """The transaction log or the options cannot be used as given; the message says what to fix."""


# --- reading the transaction log ---------------------------------------------------------------


@dataclass(frozen=True)
class CustomerHistory:
    """Each calibration-period customer's history, in periods; ``monetary`` is 0 without repeats."""

    customer: pa.Array
    frequency: FloatArray
    recency: FloatArray
    age: FloatArray
    monetary: FloatArray
    first_date: date
    last_date: date


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _open(connection: duckdb.DuckDBPyConnection, path: Path) -> duckdb.DuckDBPyRelation:
    if not path.is_file():
        raise ClvInputError(f"No such file: {path}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return connection.read_parquet(str(path))
        if suffix in {".csv", ".txt", ".tsv"}:
            return connection.read_csv(str(path), header=True, all_varchar=True)
    except duckdb.Error as exc:
        raise ClvInputError(
            f"{path.name} could not be read as a {suffix[1:]} file: {_first_line(exc)}"
        ) from exc
    raise ClvInputError(f"{path.name}: expected a .csv, .txt, .tsv or .parquet file.")


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _date_expression(column: str, type_name: str) -> str:
    if type_name == "DATE" or type_name.startswith("TIMESTAMP"):
        return f"CAST({column} AS DATE)"
    text = f"TRIM(CAST({column} AS VARCHAR))"
    return (
        f"COALESCE(TRY_CAST({text} AS DATE), CAST(TRY_CAST({text} AS TIMESTAMP) AS DATE), "
        f"CASE WHEN regexp_full_match({text}, '[0-9]{{8}}') "
        f"THEN CAST(TRY_STRPTIME({text}, '%Y%m%d') AS DATE) END)"
    )


def read_history(
    path: Path,
    *,
    customer_column: str,
    date_column: str,
    amount_column: str,
    calibration_end: date,
    period: Period,
) -> CustomerHistory:
    """Check the log row by row and summarise each customer's purchases up to ``calibration_end``.

    Raises ClvInputError naming the column, the row (1 = the first row after the header) and the value
    at the first row that breaks a rule, so the analyst can fix the file.
    """
    connection = duckdb.connect(database=":memory:")
    try:
        relation = _open(connection, path)
        types = dict(zip(relation.columns, (str(t) for t in relation.types), strict=True))
        for option, column in (
            ("--customer-column", customer_column),
            ("--date-column", date_column),
            ("--amount-column", amount_column),
        ):
            if column not in types:
                raise ClvInputError(
                    f"{path.name} has no column {column!r} (given as {option}); "
                    f"its columns are: {', '.join(repr(name) for name in types)}."
                )
        relation.create_view("raw_log")
        customer, day_text, amount = _quote(customer_column), _quote(date_column), _quote(amount_column)
        # A view, not a table: the log is scanned twice (checks, then the summary) and never held whole
        # in memory, which matters at a hundred million transactions.
        connection.execute(
            f"""CREATE TEMP VIEW log AS SELECT
                    {customer} AS customer,
                    CAST({day_text} AS VARCHAR) AS day_text,
                    {_date_expression(day_text, types[date_column])} AS day,
                    CAST({amount} AS VARCHAR) AS amount_text,
                    TRY_CAST({amount} AS DOUBLE) AS amount
                FROM raw_log"""  # noqa: S608 - identifiers are quoted; values never enter the text
        )
        try:
            _check_rows(connection, customer_column, date_column, amount_column)
            return _summarise(connection, calibration_end, DAYS_PER_PERIOD[period])
        except duckdb.Error as exc:  # a malformed line deep in the file shows only when it is scanned
            raise ClvInputError(f"{path.name} could not be read: {_first_line(exc)}") from exc
    finally:
        connection.close()


def _check_rows(
    connection: duckdb.DuckDBPyConnection, customer_column: str, date_column: str, amount_column: str
) -> None:
    rules: tuple[tuple[str, Callable[[tuple[Any, ...]], str]], ...] = (
        (
            "customer IS NULL OR TRIM(CAST(customer AS VARCHAR)) = ''",
            lambda row: f"row {row[0]}: the customer column {customer_column!r} is empty.",
        ),
        (
            "day IS NULL",
            lambda row: (
                f"row {row[0]}: the date column {date_column!r} is empty."
                if row[1] is None or not str(row[1]).strip()
                else f"row {row[0]}: the date column {date_column!r} has {row[1]!r}, which is not a date "
                f"(expected {DATE_FORMATS_TEXT})."
            ),
        ),
        (
            "amount IS NULL OR isnan(amount) OR isinf(amount)",
            lambda row: (
                f"row {row[0]}: the amount column {amount_column!r} is empty."
                if row[2] is None or not str(row[2]).strip()
                else f"row {row[0]}: the amount column {amount_column!r} has {row[2]!r}, "
                "which is not a number."
            ),
        ),
        (
            "amount < 0",
            lambda row: (
                f"row {row[0]}: the amount column {amount_column!r} has {row[2]}; amounts must not be "
                "negative (leave refunds and reversals out of the log)."
            ),
        ),
    )
    # One streaming pass says whether any rule is broken; only then is the first offending row looked
    # for, numbered in file order (a window over the scan, which DuckDB keeps in insertion order).
    broken = connection.sql(
        "SELECT " + ", ".join(f"bool_or({condition})" for condition, _ in rules) + " FROM log"  # noqa: S608 - fixed text
    ).fetchall()[0]
    for (condition, message), is_broken in zip(rules, broken, strict=True):
        if is_broken:
            rows = connection.sql(
                "SELECT row_no, day_text, amount_text "  # noqa: S608 - fixed text
                f"FROM (SELECT row_number() OVER () AS row_no, * FROM log) WHERE {condition} "
                "ORDER BY row_no LIMIT 1"
            ).fetchall()
            raise ClvInputError(message(rows[0]))


def _summarise(
    connection: duckdb.DuckDBPyConnection, calibration_end: date, days_per_period: int
) -> CustomerHistory:
    (bounds,) = connection.sql("SELECT min(day), max(day), count(*) FROM log").fetchall()
    if bounds[2] == 0:
        raise ClvInputError("The transaction log has no rows.")
    first_date, last_date = bounds[0], bounds[1]
    if calibration_end < first_date or calibration_end > last_date:
        raise ClvInputError(
            f"--calibration-end {calibration_end.isoformat()} is outside the data, which runs from "
            f"{first_date.isoformat()} to {last_date.isoformat()}; choose a date in that range."
        )
    table = connection.sql(
        """WITH days AS (
               SELECT customer, day, sum(amount) AS amount FROM log WHERE day <= $end GROUP BY customer, day
           )
           SELECT customer,
                  count(*) - 1 AS frequency,
                  date_diff('day', min(day), max(day)) AS recency_days,
                  date_diff('day', min(day), CAST($end AS DATE)) AS age_days,
                  CASE WHEN count(*) > 1
                       THEN (sum(amount) - arg_min(amount, day)) / (count(*) - 1) ELSE 0 END AS monetary
           FROM days GROUP BY customer ORDER BY customer""",
        params={"end": calibration_end},
    ).to_arrow_table()
    scale = float(days_per_period)
    return CustomerHistory(
        customer=table["customer"].combine_chunks(),
        frequency=table["frequency"].to_numpy().astype(np.float64),
        recency=table["recency_days"].to_numpy().astype(np.float64) / scale,
        age=table["age_days"].to_numpy().astype(np.float64) / scale,
        monetary=table["monetary"].to_numpy().astype(np.float64),
        first_date=first_date,
        last_date=last_date,
    )


# --- fitting and predicting from a history ------------------------------------------------------


_PREDICTION_COLUMNS = (
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "probability_alive",
    "expected_transactions",
    "expected_spend",
    "expected_value",
)


@dataclass(frozen=True)
class ClvResult:
    bgnbd: BgNbdFit
    gamma_gamma: GammaGammaFit
    repeat_customers: int
    predictions: pa.Table


def fit_history(history: CustomerHistory, *, horizon: float, customer_column: str = "customer") -> ClvResult:
    """Fit both models on a history and predict every customer's next ``horizon`` periods."""
    repeat = history.frequency > 0
    repeat_customers = int(repeat.sum())
    if repeat_customers < MIN_REPEAT_CUSTOMERS:
        raise ClvInputError(
            f"Only {repeat_customers} of {len(history.frequency)} customers bought again before the "
            f"calibration end; at least {MIN_REPEAT_CUSTOMERS} repeat customers are needed to fit the "
            "models. Choose a later --calibration-end or a longer log."
        )
    spenders = repeat & (history.monetary > 0)
    if int(spenders.sum()) < MIN_REPEAT_CUSTOMERS:
        raise ClvInputError(
            f"Only {int(spenders.sum())} repeat customers spent more than 0 on their repeat purchases; "
            f"at least {MIN_REPEAT_CUSTOMERS} are needed to fit the spend model."
        )
    bgnbd = fit_bgnbd(history.frequency, history.recency, history.age)
    gamma_gamma = fit_gamma_gamma(history.frequency[spenders], history.monetary[spenders])
    alive = probability_alive(bgnbd, history.frequency, history.recency, history.age)
    transactions = expected_transactions(bgnbd, horizon, history.frequency, history.recency, history.age)
    spend = expected_spend(gamma_gamma, history.frequency, history.monetary)
    if customer_column in _PREDICTION_COLUMNS:
        customer_column = "customer"
    predictions = pa.table(
        {
            customer_column: history.customer,
            "frequency": history.frequency,
            "recency": history.recency,
            "T": history.age,
            "monetary_value": history.monetary,
            "probability_alive": alive,
            "expected_transactions": transactions,
            "expected_spend": spend,
            "expected_value": transactions * spend,
        }
    )
    return ClvResult(bgnbd, gamma_gamma, repeat_customers, predictions)


def check_output_path(path: Path) -> None:
    if path.suffix.lower() not in {".csv", ".parquet"}:
        raise ClvInputError(f"--output {path}: the name must end in .csv or .parquet.")
    if not path.parent.is_dir():
        raise ClvInputError(f"--output {path}: the folder {path.parent} does not exist.")


def write_predictions(table: pa.Table, path: Path) -> None:
    """Write next to the target and rename, so a failed write never leaves half a file."""
    partial = path.with_name(f".{path.name}.partial")
    if path.suffix.lower() == ".parquet":
        pq.write_table(table, partial)
    else:
        pa_csv.write_csv(table, partial)
    partial.replace(path)


# --- the command ---------------------------------------------------------------------------------

app = typer.Typer(help="Customer lifetime value (BG/NBD and Gamma-Gamma).", no_args_is_help=True)
_console = Console(soft_wrap=True)
_errors = Console(stderr=True, soft_wrap=True)


@app.command("fit")
def fit_command(
    file: Annotated[Path, typer.Argument(help="Transaction log: .csv (with a header row) or .parquet.")],
    customer_column: Annotated[str, typer.Option(help="Column that identifies the customer.")],
    date_column: Annotated[str, typer.Option(help=f"Transaction date: {DATE_FORMATS_TEXT}.")],
    amount_column: Annotated[str, typer.Option(help="Transaction amount (0 or more).")],
    calibration_end: Annotated[
        str, typer.Option(help="Last day (YYYY-MM-DD) of the period the models learn from.")
    ],
    period: Annotated[
        str, typer.Option(help="Unit of time for recency, T and the horizon: week or day.")
    ] = "week",
    horizon: Annotated[float, typer.Option(help="Periods to predict after the calibration end.")] = 52.0,
    output: Annotated[
        Path | None, typer.Option(help="Predictions file, .csv or .parquet (default: FILE_clv.csv).")
    ] = None,
) -> None:
    """Fit BG/NBD and Gamma-Gamma to a transaction log; print the parameters, write predictions."""
    out = output if output is not None else file.with_name(f"{file.stem}_clv.csv")
    try:
        end = _parse_calibration_end(calibration_end)
        if period not in DAYS_PER_PERIOD:
            raise ClvInputError(f"--period {period!r}: use week or day.")
        if not horizon > 0:
            raise ClvInputError(f"--horizon {horizon:g}: the horizon must be more than 0 periods.")
        check_output_path(out)
        history = read_history(
            file,
            customer_column=customer_column,
            date_column=date_column,
            amount_column=amount_column,
            calibration_end=end,
            period="week" if period == "week" else "day",
        )
        result = fit_history(history, horizon=horizon, customer_column=customer_column)
    except (ClvInputError, ClvFitError) as exc:
        _errors.print(escape(str(exc)), style="red", highlight=False)
        raise typer.Exit(2) from None
    write_predictions(result.predictions, out)
    _report(result, history, end, period, horizon, out)


def _parse_calibration_end(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ClvInputError(f"--calibration-end {text!r} is not a date; write it as YYYY-MM-DD.") from None


def _report(
    result: ClvResult, history: CustomerHistory, end: date, period: str, horizon: float, out: Path
) -> None:
    bg, gg = result.bgnbd, result.gamma_gamma
    _console.print(
        f"Calibration {history.first_date.isoformat()} to {end.isoformat()} in {period}s: "
        f"{bg.customers} customers, {result.repeat_customers} with repeat purchases.",
        highlight=False,
    )
    _console.print(
        f"BG/NBD       r = {bg.r:.4f}  alpha = {bg.alpha:.4f}  a = {bg.a:.4f}  b = {bg.b:.4f}  "
        f"log-likelihood = {bg.log_likelihood:.2f}",
        highlight=False,
    )
    _console.print(
        f"Gamma-Gamma  p = {gg.p:.4f}  q = {gg.q:.4f}  v = {gg.v:.4f}  "
        f"log-likelihood = {gg.log_likelihood:.2f}  ({gg.customers} repeat customers with spend)",
        highlight=False,
    )
    _console.print(
        f"Predictions for the next {horizon:g} {period}s written to {escape(str(out))}.", highlight=False
    )
