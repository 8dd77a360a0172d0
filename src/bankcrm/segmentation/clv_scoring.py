"""Customer lifetime value in the nightly scoring run: BG/NBD + Gamma-Gamma (``clv``) on the lake's log.

Every transaction of a customer up to the end of the as-of business day counts, in either direction, as
in the RFM scores (``frequency_12m``, ``monetary_12m``): the bank earns on money moving both ways. As in
``bankcrm clv fit``, a purchase is a business day (Beijing time) with at least one transaction, its
value the sum of that day's amounts; periods are weeks and the calibration ends with the as-of day. The
prediction covers the next 12 months (the weeks from the as-of date to the same date a year later).

The per-day summary is an Ibis expression, so it runs on whichever engine holds the lake; the fit is
``clv_command.fit_history``, exactly what the analysts' command runs. When the book cannot support the
models (fewer than ``MIN_REPEAT_CUSTOMERS`` repeat customers, or the optimiser fails) the figures stay
empty for everyone rather than being guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from ibis.backends import BaseBackend

from bankcrm.core.logging import get_logger
from bankcrm.segmentation.clv import ClvFitError
from bankcrm.segmentation.clv_command import ClvInputError, ClvResult, CustomerHistory, fit_history
from bankcrm.segmentation.features import day_start, months_before

CLV_FIELDS = (
    pa.field("clv_expected_transactions", pa.float64()),
    pa.field("clv_probability_alive", pa.float64()),
    pa.field("clv_expected_value", pa.decimal128(20, 2)),
)
DAYS_PER_PERIOD = 7  # weeks, as the literature and ``bankcrm clv fit`` default
DAY_SECONDS = 86_400
EPOCH = date(1970, 1, 1)
log = get_logger(__name__)


@dataclass(frozen=True)
class ClvFigures:
    """The run's per-customer predictions (customer_id and ``CLV_FIELDS``), or why there are none."""

    predictions: pa.Table
    result: ClvResult | None
    skipped: str | None = None


def _business_day(booked_at: ir.TimestampValue) -> ir.IntegerValue:
    """Days since 1970-01-01 of the Beijing business day of a UTC booking time. Beijing has kept one
    offset (UTC+8, no summer time) since 1991, so a fixed shift is exact and no engine's time-zone
    support is needed."""
    offset = -int(day_start(EPOCH).timestamp())  # Beijing's offset from UTC, in seconds
    return ((booked_at.epoch_seconds().cast("int64") + offset) // DAY_SECONDS).cast("int64")


def _day_number(day: date) -> int:
    return (day - EPOCH).days


def purchase_summary(transactions: ir.Table, *, as_of: date) -> ir.Table:
    """Per customer with a transaction by the end of ``as_of``: repeat purchase days, first and last
    purchase day, and the mean value of the repeat days (0 without any)."""
    end = day_start(as_of + timedelta(days=1))
    t = transactions.filter(transactions.booked_at < ibis.literal(end, type="timestamp('UTC')"))
    days = (
        t.mutate(day=_business_day(t.booked_at))
        .group_by(["customer_id", "day"])
        .aggregate(amount=t.amount.cast("float64").sum())
    )
    summary = days.group_by("customer_id").aggregate(
        purchases=days.day.count(),
        first_day=days.day.min(),
        last_day=days.day.max(),
        total=days.amount.sum(),
        first_amount=days.amount.argmin(days.day),
    )
    repeat = summary.purchases - 1
    return summary.select(
        "customer_id",
        frequency=repeat.cast("float64"),
        first_day=summary.first_day,
        last_day=summary.last_day,
        monetary=(repeat > 0).ifelse((summary.total - summary.first_amount) / repeat.cast("float64"), 0.0),
    ).order_by("customer_id")


def _history(summary: pa.Table, as_of: date) -> CustomerHistory:
    first = summary["first_day"].to_numpy().astype(np.float64)
    last = summary["last_day"].to_numpy().astype(np.float64)
    start = EPOCH
    return CustomerHistory(
        customer=summary["customer_id"].combine_chunks(),
        frequency=summary["frequency"].to_numpy().astype(np.float64),
        recency=(last - first) / DAYS_PER_PERIOD,
        age=(_day_number(as_of) - first) / DAYS_PER_PERIOD,
        monetary=summary["monetary"].to_numpy().astype(np.float64),
        first_date=start + timedelta(days=int(first.min())),
        last_date=start + timedelta(days=int(last.max())),
    )


def horizon_weeks(as_of: date) -> float:
    """The next 12 months in weeks: from ``as_of`` to the same date a year later."""
    return (months_before(as_of, -12) - as_of).days / DAYS_PER_PERIOD


def _empty(reason: str) -> ClvFigures:
    schema = pa.schema([pa.field("customer_id", pa.int64()), *CLV_FIELDS])
    return ClvFigures(predictions=schema.empty_table(), result=None, skipped=reason)


def clv_figures(backend: BaseBackend, transactions: ir.Table, *, as_of: date) -> ClvFigures:
    """Fit BG/NBD and Gamma-Gamma on the log up to ``as_of`` and predict each customer's next 12 months."""
    summary = backend.to_pyarrow(purchase_summary(transactions, as_of=as_of))
    if summary.num_rows == 0:
        return _empty("no transactions")
    try:
        # A degenerate fit overflows inside the closed forms; the NaNs are dealt with below (``_finite``).
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            result = fit_history(
                _history(summary, as_of), horizon=horizon_weeks(as_of), customer_column="customer_id"
            )
    except (ClvInputError, ClvFitError) as error:
        log.warning("segmentation.clv_skipped", as_of=as_of.isoformat(), reason=str(error))
        return _empty(str(error))
    predicted = result.predictions
    transactions = _finite(predicted["expected_transactions"])
    table = pa.table(
        {
            "customer_id": pc.cast(predicted["customer_id"], pa.int64()),
            "clv_expected_transactions": transactions,
            "clv_probability_alive": _finite(predicted["probability_alive"]),
            "clv_expected_value": pc.round(_finite(predicted["expected_value"]), 2).cast(
                pa.decimal128(20, 2)
            ),
        }
    )
    if transactions.null_count:
        log.warning("segmentation.clv_not_finite", as_of=as_of.isoformat(), customers=transactions.null_count)
    bg, gg = result.bgnbd, result.gamma_gamma
    log.info(
        "segmentation.clv_fitted",
        as_of=as_of.isoformat(),
        customers=bg.customers,
        repeat_customers=result.repeat_customers,
        r=round(bg.r, 4),
        alpha=round(bg.alpha, 4),
        a=round(bg.a, 4),
        b=round(bg.b, 4),
        p=round(gg.p, 4),
        q=round(gg.q, 4),
        v=round(gg.v, 4),
    )
    return ClvFigures(predictions=table, result=result)


def _finite(column: pa.ChunkedArray) -> pa.Array:
    """Empty where the closed forms break down numerically (a degenerate fit, e.g. no dropout at all
    makes a and b run off to infinity): an empty figure says "not computed", a NaN would say nonsense."""
    values = column.to_numpy()
    return pa.array(values, type=pa.float64(), mask=~np.isfinite(values))


def with_clv(features: pa.Table, figures: ClvFigures) -> pa.Table:
    """The features with the CLV columns added (empty for customers without a prediction), in the
    features' order."""
    joined = features.join(figures.predictions, "customer_id", join_type="left outer")
    ordered = joined.sort_by("customer_id")
    return ordered.select([*features.column_names, *(field.name for field in CLV_FIELDS)])
