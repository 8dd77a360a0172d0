"""Targets defined over the feature history, as Ibis expressions (any engine).

Each target labels a customer at a feature run on day *d* by the runs after it, up to *d* + its
window; a run *d* is used only when the history reaches the window's end, so every label has seen
its whole window. A customer missing from a later run shows nothing in it.

- Churn: in a run within 3 months their AUM is below half of their AUM on *d* or they hold no
  product any more, or they are missing from the last run of that window (no longer a customer).
- Purchase of a product type (``purchase:wealth`` …): a customer who held none of it on *d* shows a
  positive balance of it in a run within 3 months. Holders on *d* are not rows: they cannot start.
- Default: a customer with an open loan or card who is not in default on *d* is in default in a run
  within 12 months. Default is more than 90 days overdue (DOMAIN.md: a loan more than 90 days
  overdue, a card 91 days or more, is at least 次级, a non-performing class); 12 months is the
  usual horizon of a probability of default (Basel, IFRS 9 stage 1).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import ibis
import ibis.expr.types as ir
import pyarrow as pa

CHURN = "churn"
CHURN_AUM_FALL = 0.5
CHURN_MONTHS = 3
PURCHASE_MONTHS = 3
# The balance_* categories of the features a customer can start to hold, except demand deposits:
# nearly everyone has one, so "buying" one is opening an account rather than taking up a product.
PURCHASE_PRODUCTS = ("time_deposit", "wealth", "fund", "insurance")
DEFAULT = "default"
DEFAULT_MONTHS = 12
DEFAULT_OVERDUE_DAYS = 90  # more than this is default
# Columns of the features run that are keys or text, not model inputs.
NOT_FEATURES = {"customer_id", "as_of", "balance_month", "rfm_segment"}


def add_months(day: date, months: int) -> date:
    """Same day ``months`` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def label_windows(run_dates: list[date], months: int = CHURN_MONTHS) -> pa.Table:
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


def _dated(history: ir.Table) -> ir.Table:
    return history.mutate(as_of=history.as_of.cast("date"))


def _later_runs(history: ir.Table, windows: pa.Table) -> tuple[ir.Table, ir.Table]:
    """Every customer's rows of the runs inside a start's window, beside the window (start, is_end)."""
    pairs = ibis.memtable(windows)
    return history.join(pairs, history.as_of == pairs.run), pairs


def _with_outcome(starts: ir.Table, outcome: ir.Table) -> ir.Table:
    """The start rows beside their customer's outcome in that start's window (null: no later run)."""
    return starts.left_join(
        outcome, (starts.customer_id == outcome.customer_id) & (starts.as_of == outcome.start)
    )


def _start_rows(history: ir.Table, windows: pa.Table) -> ir.Table:
    return history.filter(history.as_of.isin(windows.column("start").unique().to_pylist()))


def churn_rows(history: ir.Table, windows: pa.Table, *, fall: float = CHURN_AUM_FALL) -> ir.Table:
    """Each customer's features at each usable start run, with ``churned`` (0/1) from the runs after."""
    history = _dated(history)
    joined_runs, pairs = _later_runs(history, windows)
    later = joined_runs.select(
        customer_id=history.customer_id,
        start=pairs.start,
        later_aum=history.aum,
        later_closed=(history.product_count == 0).cast("int8"),
        at_end=pairs.is_end.cast("int8"),
    )
    outcome = later.group_by(["customer_id", "start"]).aggregate(
        min_aum=later.later_aum.min(), closed=later.later_closed.max(), seen_at_end=later.at_end.max()
    )
    starts = _start_rows(history, windows)
    joined = _with_outcome(starts, outcome)
    gone = joined.seen_at_end.fill_null(0) == 0
    closed = joined.closed.fill_null(0) == 1
    fell = ((joined.aum > 0) & (joined.min_aum < joined.aum * fall)).fill_null(False)
    return joined.select(*starts.columns, churned=(gone | closed | fell).cast("int64"))


def _ever_in_window(history: ir.Table, windows: pa.Table, happened: ir.BooleanColumn) -> ir.Table:
    """(customer_id, start, happened): 1 when ``happened`` holds in a run of the start's window."""
    joined_runs, pairs = _later_runs(history, windows)
    later = joined_runs.select(
        customer_id=history.customer_id, start=pairs.start, happened=happened.cast("int8")
    )
    return later.group_by(["customer_id", "start"]).aggregate(happened=later.happened.max())


def purchase_rows(history: ir.Table, windows: pa.Table, *, product: str) -> ir.Table:
    """Customers holding no ``product`` at a start run, with ``purchased`` (0/1): a positive balance of
    it in a run of the window. Missing from every later run: did not buy (nothing shows it)."""
    history = _dated(history)
    balance = history[f"balance_{product}"]
    outcome = _ever_in_window(history, windows, balance.fill_null(0) > 0)
    starts = _start_rows(history, windows)
    starts = starts.filter(starts[f"balance_{product}"].fill_null(0) <= 0)
    joined = _with_outcome(starts, outcome)
    return joined.select(*starts.columns, purchased=joined.happened.fill_null(0).cast("int64"))


def _in_default(table: ir.Table) -> ir.BooleanColumn:
    return table.overdue_days_max.fill_null(0) > DEFAULT_OVERDUE_DAYS


def default_rows(history: ir.Table, windows: pa.Table) -> ir.Table:
    """Customers with a loan or card and not in default at a start run, with ``defaulted`` (0/1): more
    than 90 days overdue in a run of the window. Missing from every later run: not seen to default."""
    history = _dated(history)
    outcome = _ever_in_window(history, windows, _in_default(history))
    starts = _start_rows(history, windows)
    starts = starts.filter((starts.credit_products.fill_null(0) > 0) & ~_in_default(starts))
    joined = _with_outcome(starts, outcome)
    return joined.select(*starts.columns, defaulted=joined.happened.fill_null(0).cast("int64"))


@dataclass(frozen=True)
class HistoryTarget:
    """A target the studio labels from the feature history: its key (the model's ``target``, one
    active model per key), the 0/1 column its rows carry, its window and its definition in words."""

    key: str
    label: str
    months: int
    definition: str
    rows: Callable[[ir.Table, pa.Table], ir.Table]
    # Feature columns that are not inputs for this target (beside NOT_FEATURES).
    not_inputs: frozenset[str] = frozenset()


def _purchase(product: str) -> HistoryTarget:
    return HistoryTarget(
        key=f"purchase:{product}",
        label="purchased",
        months=PURCHASE_MONTHS,
        definition=(
            f"purchase of {product}: a customer holding no {product} at a scoring run shows a positive "
            f"balance_{product} in a run within {PURCHASE_MONTHS} months; holders are not trained on"
        ),
        rows=lambda history, windows: purchase_rows(history, windows, product=product),
        # Zero on every training row by definition: it says nothing, and on a holder it would only
        # extrapolate from a value the model never saw.
        not_inputs=frozenset({f"balance_{product}"}),
    )


HISTORY_TARGETS: dict[str, HistoryTarget] = {
    CHURN: HistoryTarget(
        key=CHURN,
        label="churned",
        months=CHURN_MONTHS,
        definition=(
            f"churn: AUM falls more than {int(CHURN_AUM_FALL * 100)} % within "
            f"{CHURN_MONTHS} months, or all products closed"
        ),
        rows=churn_rows,
    ),
    **{f"purchase:{product}": _purchase(product) for product in PURCHASE_PRODUCTS},
    DEFAULT: HistoryTarget(
        key=DEFAULT,
        label="defaulted",
        months=DEFAULT_MONTHS,
        definition=(
            f"default: a customer with an open loan or card, not more than {DEFAULT_OVERDUE_DAYS} days "
            f"overdue at a scoring run, is more than {DEFAULT_OVERDUE_DAYS} days overdue (at least "
            f"substandard, DOMAIN.md) in a run within {DEFAULT_MONTHS} months (the one-year horizon of "
            "a probability of default)"
        ),
        rows=default_rows,
        # The label is overdue_days_max read later, so the overdue columns at the start are the
        # outcome's own earlier values: a customer 60 days overdue is 90 days overdue a month on
        # unless they pay. A model fed them relearns the calendar (and the leakage check flags it)
        # instead of what in the customer's behaviour comes before falling behind.
        not_inputs=frozenset({"overdue_days_max", "overdue_amount"}),
    ),
}
