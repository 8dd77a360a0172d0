"""A generated feature history in the lake, shaped like the scoring run's ``features`` runs."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from bankcrm.core.lake import Lake
from bankcrm.segmentation.jobs import FEATURES
from bankcrm.segmentation.studio.targets import add_months

RUNS = [date(2025, m, d) for m, d in ((1, 31), (2, 28), (3, 31), (4, 30), (5, 31), (6, 30), (7, 31), (8, 31))]


def write_run(lake: Lake, as_of: date, table: pa.Table) -> None:
    lake.write_file(FEATURES, table, file_key="features", partition={"as_of": as_of.isoformat()})


def run_table(customer_ids: list[int], aum: list[float], drop: list[float], digital: list[float]) -> pa.Table:
    return pa.table(
        {
            "customer_id": pa.array(customer_ids, pa.int64()),
            "balance_month": ["2025-01"] * len(customer_ids),
            "aum": aum,
            "product_count": pa.array([1 if a > 0 else 0 for a in aum], pa.int64()),
            "txn_count_change_3m": drop,
            "digital_share_3m": digital,
            "rfm_segment": ["一般价值客户"] * len(customer_ids),
        }
    )


def churn_history(lake: Lake, customers: int = 400, *, seed: int = 3) -> None:
    """Customers whose transactions fell sharply in a run lose most of their AUM by the next run (60 %
    of them; 3 % of the others do too). How far a customer's transactions fall is mostly their own
    habit (a lasting part plus noise), so the features of a run predict churn in the months after it."""
    rng = np.random.default_rng(seed)
    aum = rng.uniform(20_000, 500_000, customers)
    habit = rng.normal(size=customers)
    for as_of in RUNS:
        drop = habit + 0.5 * rng.normal(size=customers)
        digital = rng.uniform(size=customers)
        write_run(
            lake,
            as_of,
            run_table(list(range(1, customers + 1)), aum.tolist(), drop.tolist(), digital.tolist()),
        )
        leaves = np.where(drop < -0.8, rng.random(customers) < 0.6, rng.random(customers) < 0.03)
        aum = np.where(leaves, aum * 0.2, aum * rng.uniform(0.9, 1.1, customers))


def add_wealth_purchases(lake: Lake, *, seed: int = 5) -> None:
    """Give the lake's runs a ``balance_wealth``: a customer without it takes it up by the next run
    (half of them) when exactly one of two signs shows in a run — AUM above 250,000, or transactions
    falling (both mostly lasting habits, so a run foretells the months after it) — and rarely
    otherwise (1 %); once bought it is held. An interaction no straight line
    separates, so LightGBM should do better than the logistic baseline."""
    rng = np.random.default_rng(seed)
    wealth: np.ndarray | None = None
    for as_of in RUNS:
        path = lake.dataset_dir(FEATURES) / f"as_of={as_of.isoformat()}"
        run = pq.read_table(path)
        customers = run.num_rows
        wealth = np.zeros(customers) if wealth is None else wealth
        write_run(lake, as_of, run.append_column("balance_wealth", pa.array(wealth.tolist(), pa.float64())))
        aum = run.column("aum").to_numpy()
        drop = run.column("txn_count_change_3m").to_numpy()
        interested = (aum > 250_000) ^ (drop < 0)
        buys = (wealth == 0) & (rng.random(customers) < np.where(interested, 0.5, 0.01))
        wealth = np.where(buys, rng.uniform(10_000, 100_000, customers), wealth)


def purchase_history(lake: Lake, customers: int = 400, *, seed: int = 5) -> None:
    """``churn_history``'s runs with wealth management taken up as ``add_wealth_purchases`` has it."""
    churn_history(lake, customers, seed=seed)
    add_wealth_purchases(lake, seed=seed)


# Eighteen month-ends, January 2024 to June 2025: six start runs (January to June 2024) whose
# twelve months the history covers.
CREDIT_RUNS = [add_months(date(2024, 2, 1), n) - timedelta(days=1) for n in range(18)]


def default_history(lake: Lake, customers: int = 400, *, seed: int = 7) -> None:
    """Monthly runs of customers with one loan each. A customer with little AUM whose transactions
    keep falling (a lasting habit) starts missing payments (30 % a month; 1 % of the others), and one
    who has missed stays behind, 30 more days overdue each month — so past 90 days, in default, three
    months later. Who is stressed shows in a run long before the overdue days do."""
    rng = np.random.default_rng(seed)
    ids = list(range(1, customers + 1))
    aum = rng.uniform(5_000, 300_000, customers)
    habit = rng.normal(size=customers)
    overdue = np.zeros(customers, dtype=np.int64)
    for as_of in CREDIT_RUNS:
        drop = habit + 0.5 * rng.normal(size=customers)
        run = run_table(ids, aum.tolist(), drop.tolist(), rng.uniform(size=customers).tolist())
        run = run.append_column("credit_products", pa.array([1] * customers, pa.int64()))
        run = run.append_column("overdue_days_max", pa.array(overdue.tolist(), pa.int64()))
        run = run.append_column("overdue_amount", pa.array((overdue * 50.0).tolist(), pa.float64()))
        write_run(lake, as_of, run)
        stressed = (aum < 80_000) & (drop < 0)
        starts_missing = rng.random(customers) < np.where(stressed, 0.3, 0.01)
        overdue = np.where((overdue > 0) | starts_missing, overdue + 30, overdue)
