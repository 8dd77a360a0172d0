"""Customer lifetime value: the fits recover known parameters, the predictions match the formulas worked
by hand, the command reads a log and writes predictions, and bad input is refused naming what is wrong."""

from __future__ import annotations

import csv
import importlib.util
import math
import os
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from bankcrm.cli import app
from bankcrm.segmentation import clv, clv_command

# Fader, Hardie & Lee (2005), CDNOW sample, 39-week calibration: the estimates the fit must reproduce.
CDNOW_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
CDNOW_BGNBD_LOG_LIKELIHOOD = -9582.4
CDNOW_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}
runner = CliRunner()


def simulate_bgnbd(
    customers: int, *, r: float, alpha: float, a: float, b: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frequency, recency and T of customers who follow the BG/NBD story exactly.

    While active a customer buys at Poisson rate lambda ~ Gamma(r, alpha); after the k-th repeat purchase
    they leave with probability p ~ Beta(a, b), so they leave after a Geometric(p) number of repeats.
    Given n purchases in (0, T], the k-th purchase time is T times a Beta(k, n - k + 1) variate."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(r, 1.0 / alpha, customers)
    dropout = rng.beta(a, b, customers)
    age = rng.uniform(26.0, 39.0, customers)
    purchases_if_active = rng.poisson(rate * age)
    repeats_before_leaving = rng.geometric(dropout)
    frequency = np.minimum(purchases_if_active, repeats_before_leaving)
    recency = np.where(
        frequency > 0,
        age * rng.beta(np.maximum(frequency, 1), np.maximum(purchases_if_active - frequency + 1, 1)),
        0.0,
    )
    return frequency.astype(float), recency, age


def test_bgnbd_fit_recovers_the_parameters_of_a_simulated_population() -> None:
    truth = {"r": 0.5, "alpha": 6.0, "a": 0.8, "b": 2.5}
    frequency, recency, age = simulate_bgnbd(60_000, seed=7, **truth)
    fit = clv.fit_bgnbd(frequency, recency, age)
    for name, value in truth.items():
        assert getattr(fit, name) == pytest.approx(value, rel=0.08), name
    assert fit.log_likelihood == pytest.approx(
        clv.bgnbd_log_likelihood((fit.r, fit.alpha, fit.a, fit.b), frequency, recency, age)
    )
    # The maximum is a maximum: the true parameters score no better on this sample.
    assert fit.log_likelihood >= clv.bgnbd_log_likelihood(tuple(truth.values()), frequency, recency, age)


def test_customers_with_the_same_history_count_once_each() -> None:
    frequency, recency, age = simulate_bgnbd(5_000, r=0.5, alpha=6.0, a=0.8, b=2.5, seed=3)
    # Whole days, as a log kept by day gives them: many customers now share a history.
    recency, age = np.round(recency * 7) / 7, np.round(age * 7) / 7
    once = clv.fit_bgnbd(frequency, recency, age)
    twice = clv.fit_bgnbd(np.tile(frequency, 2), np.tile(recency, 2), np.tile(age, 2))
    assert twice.log_likelihood == pytest.approx(2 * once.log_likelihood, rel=1e-9)
    for name in ("r", "alpha", "a", "b"):
        assert getattr(twice, name) == pytest.approx(getattr(once, name), rel=1e-4), name
    by_hand = 0.0  # the sum over customers, one at a time
    for x, t_x, big_t in zip(frequency[:50], recency[:50], age[:50], strict=True):
        by_hand += clv.bgnbd_log_likelihood(
            (once.r, once.alpha, once.a, once.b), np.array([x]), np.array([t_x]), np.array([big_t])
        )
    assert by_hand == pytest.approx(
        clv.bgnbd_log_likelihood((once.r, once.alpha, once.a, once.b), frequency[:50], recency[:50], age[:50])
    )


def test_gamma_gamma_fit_recovers_the_parameters_of_a_simulated_population() -> None:
    p, q, v = 6.0, 4.0, 15.0
    rng = np.random.default_rng(13)
    frequency = rng.integers(1, 12, 100_000).astype(float)
    scale = rng.gamma(q, 1.0 / v, frequency.size)  # nu: each customer's spend rate
    mean_spend = rng.gamma(p * frequency, 1.0 / (scale * frequency))  # mean of x Gamma(p, nu) spends
    fit = clv.fit_gamma_gamma(frequency, mean_spend)
    # p and v trade off along a ridge (their product sets the mean spend), so each is looser than q.
    assert fit.p == pytest.approx(p, rel=0.08)
    assert fit.q == pytest.approx(q, rel=0.05)
    assert fit.v == pytest.approx(v, rel=0.08)
    assert fit.p * fit.v / (fit.q - 1) == pytest.approx(p * v / (q - 1), rel=0.02)
    assert fit.log_likelihood == pytest.approx(
        clv.gamma_gamma_log_likelihood((fit.p, fit.q, fit.v), frequency, mean_spend)
    )
    assert fit.log_likelihood >= clv.gamma_gamma_log_likelihood((p, q, v), frequency, mean_spend)


def test_a_customer_without_repeat_purchases_is_alive_for_sure() -> None:
    fit = clv.BgNbdFit(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=0.0, customers=1)
    alive = clv.probability_alive(fit, np.array([0.0]), np.array([0.0]), np.array([38.86]))
    assert alive[0] == 1.0


def test_predictions_for_one_customer_match_the_formulas_worked_by_hand() -> None:
    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426
    fit = clv.BgNbdFit(r=r, alpha=alpha, a=a, b=b, log_likelihood=0.0, customers=1)
    x, t_x, big_t, horizon = 2.0, 30.43, 38.86, 39.0
    # P(alive) = 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x))
    by_hand_alive = 1.0 / (1.0 + a / (b + x - 1.0) * ((alpha + big_t) / (alpha + t_x)) ** (r + x))
    # 2F1(r + x, b + x; a + b + x - 1; z) summed term by term: z < 1, so the series converges.
    z = horizon / (alpha + big_t + horizon)
    series, term = 0.0, 1.0
    for k in range(400):
        series += term
        term *= (r + x + k) * (b + x + k) / ((a + b + x - 1.0 + k) * (k + 1.0)) * z
    by_hand_expected = (
        (a + b + x - 1.0)
        / (a - 1.0)
        * (1.0 - ((alpha + big_t) / (alpha + big_t + horizon)) ** (r + x) * series)
        * by_hand_alive
    )
    arrays = (np.array([x]), np.array([t_x]), np.array([big_t]))
    assert clv.probability_alive(fit, *arrays)[0] == pytest.approx(by_hand_alive, rel=1e-12)
    assert clv.expected_transactions(fit, horizon, *arrays)[0] == pytest.approx(by_hand_expected, rel=1e-9)
    # The same customer's numbers, worked out once on paper: 0.7266 alive, 1.2259 purchases in 39 weeks.
    assert by_hand_alive == pytest.approx(0.7266, abs=5e-4)
    assert by_hand_expected == pytest.approx(1.2259, abs=5e-4)

    # The same customer's likelihood, straight from FHL's equation with math.lgamma.
    def log_beta(u: float, w: float) -> float:
        return math.lgamma(u) + math.lgamma(w) - math.lgamma(u + w)

    gammas = math.lgamma(r + x) - math.lgamma(r) + r * math.log(alpha)
    by_hand_likelihood = math.exp(
        log_beta(a, b + x) - log_beta(a, b) + gammas - (r + x) * math.log(alpha + big_t)
    ) + math.exp(log_beta(a + 1, b + x - 1) - log_beta(a, b) + gammas - (r + x) * math.log(alpha + t_x))
    assert clv.bgnbd_log_likelihood((r, alpha, a, b), *arrays) == pytest.approx(
        math.log(by_hand_likelihood), rel=1e-12
    )

    spend_fit = clv.GammaGammaFit(p=6.25, q=3.74, v=15.44, log_likelihood=0.0, customers=1)
    # (v + m x) p / (p x + q - 1): the customer's mean 22.35 pulled towards the population's p v / (q - 1).
    assert clv.expected_spend(spend_fit, np.array([2.0]), np.array([22.35]))[0] == pytest.approx(
        (15.44 + 22.35 * 2) * 6.25 / (6.25 * 2 + 3.74 - 1)
    )
    assert clv.expected_spend(spend_fit, np.array([0.0]), np.array([0.0]))[0] == pytest.approx(
        6.25 * 15.44 / 2.74
    )


def test_a_customer_who_buys_almost_every_day_gets_a_finite_forecast() -> None:
    # A card holder with 2,000 purchase days: equation 10 as printed gives inf * 0 here.
    fit = clv.BgNbdFit(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=0.0, customers=1)
    x, t_x, big_t, horizon = np.array([2000.0]), np.array([2100.0]), np.array([2100.0]), 365.0
    expected = clv.expected_transactions(fit, horizon, x, t_x, big_t)[0]
    rate = (fit.r + x[0]) / (fit.alpha + big_t[0])  # purchases per day while active, as the data say
    assert math.isfinite(expected)
    assert 0.9 * rate * horizon < expected <= rate * horizon


def write_log(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["cust", "txn_date", "amt"])
        writer.writerows(rows)
    return path


def test_history_counts_purchase_days_and_leaves_the_first_purchase_out_of_the_spend(tmp_path: Path) -> None:
    log = write_log(
        tmp_path / "log.csv",
        [
            ("A", "2024-01-01", "10"),
            ("A", "2024-01-01", "5"),  # same day: one purchase of 15
            ("A", "2024-01-15", "20"),
            ("A", "20240129", "40"),  # YYYYMMDD is read too
            ("A", "2024-03-01", "999"),  # after the calibration end: not seen by the fit
            ("B", "2024-01-08T10:30:00", "7.5"),
        ],
    )
    history = clv_command.read_history(
        log,
        customer_column="cust",
        date_column="txn_date",
        amount_column="amt",
        calibration_end=date(2024, 2, 5),
        period="week",
    )
    assert history.customer.to_pylist() == ["A", "B"]
    assert history.frequency.tolist() == [2.0, 0.0]
    assert history.recency.tolist() == pytest.approx([4.0, 0.0])  # 28 days
    assert history.age.tolist() == pytest.approx([5.0, 4.0])  # 35 and 28 days to 2024-02-05
    assert history.monetary.tolist() == pytest.approx([30.0, 0.0])  # (20 + 40) / 2


def test_parquet_logs_keep_their_types(tmp_path: Path) -> None:
    log = tmp_path / "log.parquet"
    table = pa.table(
        {
            "cust": pa.array([7, 7, 7, 8], pa.int64()),
            "txn_date": pa.array([date(2024, 1, 1), date(2024, 1, 8), date(2024, 1, 22), date(2024, 1, 15)]),
            "amt": pa.array(
                [Decimal("1.50"), Decimal("2.00"), Decimal("4.00"), Decimal("9.99")], pa.decimal128(9, 2)
            ),
        }
    )
    pq.write_table(table, log)
    history = clv_command.read_history(
        log,
        customer_column="cust",
        date_column="txn_date",
        amount_column="amt",
        calibration_end=date(2024, 1, 22),
        period="day",
    )
    assert history.customer.to_pylist() == [7, 8]
    assert history.frequency.tolist() == [2.0, 0.0]
    assert history.recency.tolist() == [21.0, 0.0]
    assert history.age.tolist() == [21.0, 7.0]
    assert history.monetary.tolist() == pytest.approx([3.0, 0.0])


def synthetic_log(path: Path, customers: int = 300, seed: int = 3) -> Path:
    rng = np.random.default_rng(seed)
    start = date(2024, 1, 1)
    rows = []
    for customer in range(customers):
        first = int(rng.integers(0, 60))
        days = {first, *(first + int(d) for d in rng.integers(1, 300, int(rng.poisson(2.0))))}
        level = float(rng.gamma(4.0, 10.0))
        for day in sorted(days):
            amount = rng.gamma(6.0, level / 6.0)
            rows.append((f"C{customer:04d}", (start + timedelta(days=day)).isoformat(), f"{amount:.2f}"))
    return write_log(path, rows)


def fit_args(log: Path, *extra: str, end: str = "2024-08-31") -> list[str]:
    return [
        "clv",
        "fit",
        str(log),
        "--customer-column",
        "cust",
        "--date-column",
        "txn_date",
        "--amount-column",
        "amt",
        "--calibration-end",
        end,
        *extra,
    ]


def test_the_command_prints_the_parameters_and_writes_predictions(tmp_path: Path) -> None:
    log = synthetic_log(tmp_path / "log.csv")
    out = tmp_path / "predictions.parquet"
    result = runner.invoke(app, fit_args(log, "--horizon", "26", "--output", str(out)))
    assert result.exit_code == 0, result.output
    for label in ("r = ", "alpha = ", "a = ", "b = ", "p = ", "q = ", "v = ", "log-likelihood = "):
        assert label in result.output
    table = pq.read_table(out)
    assert table.column_names == [
        "cust",
        "frequency",
        "recency",
        "T",
        "monetary_value",
        "probability_alive",
        "expected_transactions",
        "expected_spend",
        "expected_value",
    ]
    assert table.num_rows == len({row[0] for row in csv.reader(log.open()) if row[0] != "cust"})
    alive = np.asarray(table["probability_alive"])
    assert ((alive > 0) & (alive <= 1)).all()
    expected = np.asarray(table["expected_transactions"])
    assert np.allclose(np.asarray(table["expected_value"]), expected * np.asarray(table["expected_spend"]))


def test_the_command_writes_csv_by_default_next_to_the_log(tmp_path: Path) -> None:
    log = synthetic_log(tmp_path / "log.csv")
    result = runner.invoke(app, fit_args(log, "--period", "day", "--horizon", "90"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "log_clv.csv").is_file()


@pytest.mark.parametrize(
    ("rows", "extra", "end", "message"),
    [
        ([("A", "2024-01-01", "1")], ["--amount-column", "amount"], "2024-01-01", "no column 'amount'"),
        (
            [("A", "2024-01-01", "1"), ("A", "31/01/2024", "1")],
            [],
            "2024-01-01",
            "row 2: the date column 'txn_date' has '31/01/2024', which is not a date",
        ),
        ([("A", "2024-01-01", "-3.5")], [], "2024-01-01", "row 1: the amount column 'amt' has -3.5"),
        ([("A", "2024-01-01", "ten")], [], "2024-01-01", "has 'ten', which is not a number"),
        ([("", "2024-01-01", "1")], [], "2024-01-01", "row 1: the customer column 'cust' is empty"),
        (
            [("A", "2024-01-01", "1"), ("A", "2024-01-02", "")],
            [],
            "2024-01-01",
            "row 2: the amount column 'amt' is empty",
        ),
        ([("A", "", "1")], [], "2024-01-01", "row 1: the date column 'txn_date' is empty"),
        (
            [("A", "2024-01-01", "1"), ("A", "2024-02-01", "1")],
            [],
            "2025-01-01",
            "--calibration-end 2025-01-01 is outside the data, which runs from 2024-01-01 to 2024-02-01",
        ),
        ([("A", "2024-01-01", "1"), ("A", "2024-02-01", "1")], [], "2024-02-01", "Only 1 of 1 customers"),
        ([("A", "2024-01-01", "1")], [], "01/02/2024", "--calibration-end '01/02/2024' is not a date"),
        ([("A", "2024-01-01", "1")], ["--period", "month"], "2024-01-01", "--period 'month'"),
        ([("A", "2024-01-01", "1")], ["--horizon", "0"], "2024-01-01", "--horizon 0: the horizon must be"),
        ([], [], "2024-01-01", "The transaction log has no rows."),
        (
            [(f"C{i}", day, "0") for i in range(12) for day in ("2024-01-01", "2024-01-05")],
            [],
            "2024-01-05",
            "Only 0 repeat customers spent more than 0 on their repeat purchases",
        ),
        ([("A", "2024-01-01", "1")], ["--output", "out.xlsx"], "2024-01-01", "must end in .csv or .parquet"),
    ],
)
def test_bad_input_is_refused_naming_the_problem_and_writes_nothing(
    tmp_path: Path, rows: list[tuple[str, str, str]], extra: list[str], end: str, message: str
) -> None:
    log = write_log(tmp_path / "log.csv", rows)
    args = fit_args(log, *extra, end=end)
    if "--output" in args:
        args[args.index("--output") + 1] = str(tmp_path / args[args.index("--output") + 1])
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.csv"]


def test_a_malformed_line_deep_in_the_file_is_named(tmp_path: Path) -> None:
    rows = [(f"C{i % 50}", f"2024-01-{i % 28 + 1:02d}", "1.5") for i in range(30_000)]
    log = write_log(tmp_path / "log.csv", rows)
    with log.open("a", encoding="utf-8") as handle:
        handle.write("X,2024-01-02,1,9,9\r\n")  # the same line ends as csv.writer's
    result = runner.invoke(app, fit_args(log, end="2024-01-20"))
    assert result.exit_code == 2
    assert "log.csv could not be read" in result.output
    assert "30002" in result.output  # the line, counting the header
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.csv"]


def test_a_file_that_does_not_exist_is_named(tmp_path: Path) -> None:
    result = runner.invoke(app, fit_args(tmp_path / "missing.csv"))
    assert result.exit_code == 2
    assert "No such file" in result.output


def _cdnow_sample() -> Path | None:
    """CDNOW_sample.txt as the lifetimes package ships it (a dev dependency for this file alone, never
    imported), or where BANKCRM_CDNOW_SAMPLE points; the project keeps no copy."""
    given = os.environ.get("BANKCRM_CDNOW_SAMPLE")
    if given:
        return Path(given)
    for package in ("lifetimes", "btyd"):
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.submodule_search_locations:
            for folder in spec.submodule_search_locations:
                candidate = Path(folder) / "datasets" / "CDNOW_sample.txt"
                if candidate.is_file():
                    return candidate
    return None


def test_cdnow_reproduces_the_published_estimates(tmp_path: Path) -> None:
    sample = _cdnow_sample()
    # The dev dependencies install lifetimes for its copy of the sample (the code is never imported).
    assert sample is not None, "CDNOW_sample.txt not found: install the dev dependencies (lifetimes)"
    # Columns: customer id, id in the 1/10 sample, date YYYYMMDD, CDs bought, dollars.
    rows = [line.split() for line in sample.read_text().splitlines() if line.strip()]
    log = write_log(tmp_path / "cdnow.csv", [(row[0], row[2], row[4]) for row in rows])
    out = tmp_path / "cdnow_clv.csv"
    result = runner.invoke(app, fit_args(log, "--horizon", "39", "--output", str(out), end="1997-09-30"))
    assert result.exit_code == 0, result.output
    assert "2357 customers, 946 with repeat purchases" in result.output

    history = clv_command.read_history(
        log,
        customer_column="cust",
        date_column="txn_date",
        amount_column="amt",
        calibration_end=date(1997, 9, 30),
        period="week",
    )
    fitted = clv_command.fit_history(history, horizon=39)
    for name, value in CDNOW_BGNBD.items():
        assert getattr(fitted.bgnbd, name) == pytest.approx(value, abs=1e-3), name
    assert fitted.bgnbd.log_likelihood == pytest.approx(CDNOW_BGNBD_LOG_LIKELIHOOD, abs=0.05)
    for name, value in CDNOW_GAMMA_GAMMA.items():
        assert getattr(fitted.gamma_gamma, name) == pytest.approx(value, abs=0.01), name
