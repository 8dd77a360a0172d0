"""Targets defined over the feature history, as Ibis expressions (any engine).

Churn, as the issue defines it: from a feature run on day *d*, the customer churned when, in a run
within the next three months (after *d*, up to *d* + 3 months), their AUM is below half of their AUM
on *d* or they hold no product any more, or when they are missing from the last run of that window
(no longer an active customer). A run *d* is used only when the history reaches *d* + 3 months, so
every label has seen its whole window.
"""

from __future__ import annotations

import calendar
from datetime import date

import ibis
import ibis.expr.types as ir
import pyarrow as pa

CHURN = "churn"
CHURN_AUM_FALL = 0.5
CHURN_MONTHS = 3
# Columns of the features run that are keys or text, not model inputs.
NOT_FEATURES = {"customer_id", "as_of", "balance_month", "rfm_segment"}


def add_months(day: date, months: int) -> date:
    """Same day ``months`` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def churn_windows(run_dates: list[date], months: int = CHURN_MONTHS) -> pa.Table:
    """For each usable start run: the later runs inside its window, the last of them marked."""
    runs = sorted(set(run_dates))
    starts, laters, ends = [], [], []
    for start in runs:
        horizon = add_months(start, months)
        if not runs or runs[-1] < horizon:
            continue
        window = [run for run in runs if start < run <= horizon]
        for run in window:
            starts.append(start)
            laters.append(run)
            ends.append(run == window[-1])
    return pa.table(
        {"start": pa.array(starts, pa.date32()), "run": pa.array(laters, pa.date32()), "is_end": ends}
    )


def churn_rows(history: ir.Table, windows: pa.Table, *, fall: float = CHURN_AUM_FALL) -> ir.Table:
    """Each customer's features at each usable start run, with ``churned`` (0/1) from the runs after."""
    history = history.mutate(as_of=history.as_of.cast("date"))
    pairs = ibis.memtable(windows)
    later = history.join(pairs, history.as_of == pairs.run).select(
        customer_id=history.customer_id,
        start=pairs.start,
        later_aum=history.aum,
        later_closed=(history.product_count == 0).cast("int8"),
        at_end=pairs.is_end.cast("int8"),
    )
    outcome = later.group_by(["customer_id", "start"]).aggregate(
        min_aum=later.later_aum.min(), closed=later.later_closed.max(), seen_at_end=later.at_end.max()
    )
    start_dates = windows.column("start").unique().to_pylist()
    starts = history.filter(history.as_of.isin(start_dates))
    joined = starts.left_join(
        outcome, (starts.customer_id == outcome.customer_id) & (starts.as_of == outcome.start)
    )
    gone = joined.seen_at_end.fill_null(0) == 0
    closed = joined.closed.fill_null(0) == 1
    fell = ((joined.aum > 0) & (joined.min_aum < joined.aum * fall)).fill_null(False)
    return joined.select(*starts.columns, churned=(gone | closed | fell).cast("int64"))
