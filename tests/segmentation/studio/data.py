"""Generated tables for the studio's tests: a target no straight line can separate, and a leak."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa


def nonlinear_table(rows: int = 1200, *, seed: int = 7, leak: bool = False, times: bool = False) -> pa.Table:
    """The target is 1 when two features share a sign (an XOR pattern): a tree finds it, a
    logistic regression cannot, since neither feature alone moves the odds in one direction."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=rows)
    x2 = rng.normal(size=rows)
    noise = rng.normal(size=rows)
    flip = rng.random(rows) < 0.05
    target = ((x1 * x2 > 0) ^ flip).astype(int)
    columns: dict[str, object] = {
        "customer": [f"C{row:05d}" for row in range(rows)],
        "x1": x1,
        "x2": x2,
        "noise": noise,
        "churned": target,
    }
    if leak:
        # As if someone kept "days since the account closed" among the features: it is the target.
        columns["closed_days"] = np.where(target == 1, rng.uniform(1, 90, rows), np.nan)
    if times:
        months = [
            date(2024, 1, 31),
            date(2024, 2, 29),
            date(2024, 3, 31),
            date(2024, 4, 30),
            date(2024, 5, 31),
        ]
        columns["as_of"] = [months[row % len(months)] for row in range(rows)]
    return pa.table(columns)
