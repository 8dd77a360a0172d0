"""Customer features as of a business date, written once as Ibis expressions.

The same expressions run on DuckDB over the Parquet lake (the embedded default) and, unchanged, on
Spark or PostgreSQL at bank scale: nothing here knows the engine. Time windows are computed in
Python as UTC instants of business-day boundaries (Beijing time) and compared with the booking
times, so no engine's time-zone handling is relied on.

Inputs, as Ibis tables of one backend:

- ``transactions``: customer_id, booked_at (timestamp, UTC), direction (in | out), amount, category,
  channel — the lake's ``transactions`` dataset;
- ``balances``: month (YYYY-MM), customer_id, category, balance — month-end balances, the lake's
  ``balances`` dataset;
- ``customers``: customer_id, birth_date, first_opened_on, product_count, product_breadth,
  credit_products, overdue_days_max, overdue_amount — from the operational store
  (``customers.service.scoring_profile``), one row per active customer.

The output has one row per customer of ``customers``; ``FEATURE_COLUMNS`` names its columns.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import ibis
import ibis.expr.types as ir

from bankcrm.core.formatting import BUSINESS_TZ

# Balance categories that count as assets under management (DOMAIN.md: deposits, wealth
# management, funds, insurance and other assets held through the bank; loans and cards do not).
AUM_CATEGORIES = ("deposit", "time_deposit", "wealth", "fund", "insurance", "other_asset")
BALANCE_CATEGORIES = ("deposit", "time_deposit", "wealth", "fund", "insurance")
DIGITAL_CHANNELS = ("mobile", "online")
WINDOWS = (1, 3, 12)  # months
DAY_SECONDS = 86_400


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def days(self) -> int:
        return calendar.monthrange(self.year, self.month)[1]

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, self.days)

    def minus(self, months: int) -> Month:
        number = self.year * 12 + self.month - 1 - months
        return Month(number // 12, number % 12 + 1)


def balance_month(as_of: date) -> Month:
    """The latest month whose month-end balances are known on ``as_of``: its own month when it is
    the month's last day, otherwise the month before."""
    month = Month.of(as_of)
    return month if as_of == month.last_day else month.minus(1)


def day_start(day: date) -> datetime:
    """The UTC instant at which business day ``day`` (Beijing time) begins."""
    return datetime.combine(day, time.min, BUSINESS_TZ).astimezone(UTC)


def months_before(day: date, months: int) -> date:
    """The same day ``months`` earlier (the month's last day when it is shorter)."""
    target = Month.of(day).minus(months)
    return date(target.year, target.month, min(day.day, target.days))


def _instant(moment: datetime) -> ir.TimestampScalar:
    return ibis.literal(moment, type="timestamp('UTC')")


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


# ---------------------------------------------------------------- transactions


def _window_aggregates(transactions: ir.Table, as_of: date) -> ir.Table:
    """Counts and amounts by direction over 1, 3 and 12 months, recency and the 12-month RFM parts,
    digital activity over 3 months, and the previous 3 months' count for the trend."""
    end = day_start(as_of + timedelta(days=1))
    # The widest window is 12 months: older rows count in no metric, so they are not read (a
    # customer with none inside gets no row here and the same zeros and nulls after the join).
    earliest = day_start(months_before(as_of, max(WINDOWS)) + timedelta(days=1))
    t = transactions.filter(
        transactions.booked_at >= _instant(earliest), transactions.booked_at < _instant(end)
    )
    metrics: dict[str, ir.Value] = {}
    for months in WINDOWS:
        since = _instant(day_start(months_before(as_of, months) + timedelta(days=1)))
        inside = t.booked_at >= since
        for direction in ("in", "out"):
            chosen = inside & (t.direction == direction)
            metrics[f"txn_{direction}_count_{months}m"] = chosen.sum().cast("int64")
            metrics[f"txn_{direction}_amount_{months}m"] = (
                chosen.ifelse(t.amount, 0).sum().cast("decimal(20, 2)")
            )
    three_months = t.booked_at >= _instant(day_start(months_before(as_of, 3) + timedelta(days=1)))
    six_months = t.booked_at >= _instant(day_start(months_before(as_of, 6) + timedelta(days=1)))
    digital = t.channel.isin(DIGITAL_CHANNELS)
    metrics["digital_txn_3m"] = (three_months & digital).sum().cast("int64")
    metrics["txn_count_prev_3m"] = (six_months & ~three_months).sum().cast("int64")
    twelve = t.booked_at >= _instant(day_start(months_before(as_of, 12) + timedelta(days=1)))
    metrics["last_booked_epoch"] = twelve.ifelse(t.booked_at.epoch_seconds().cast("int64"), None).max()
    return t.group_by("customer_id").aggregate(**metrics)


def _mean_daily_aum_correction(transactions: ir.Table, month: Month) -> ir.Table:
    """For each customer, Σ net flow × (day of month − 1) over the month's transactions.

    The daily AUM of a day is the month-end AUM less the net flows booked after that day in the
    month; averaged over the month's n days that is month-end AUM − Σ net × (day − 1) / n, since a
    flow on day k is after the end of days 1 … k−1. Only this sum needs the transactions.
    """
    start = day_start(month.first_day)
    end = day_start(month.last_day + timedelta(days=1))
    t = transactions.filter(transactions.booked_at >= _instant(start), transactions.booked_at < _instant(end))
    day_index = ((t.booked_at.epoch_seconds().cast("int64") - _epoch(start)) // DAY_SECONDS).cast("int64")
    net = (t.direction == "in").ifelse(t.amount, -t.amount)
    return t.group_by("customer_id").aggregate(flow_days=(net * day_index).sum().cast("decimal(38, 2)"))


# ---------------------------------------------------------------- balances


def _month_end_balances(balances: ir.Table, month: Month) -> ir.Table:
    b = balances.filter(balances.month == month.label)
    columns: dict[str, ir.Value] = {
        "aum": b.category.isin(AUM_CATEGORIES).ifelse(b.balance, 0).sum().cast("decimal(20, 2)")
    }
    for category in BALANCE_CATEGORIES:
        columns[f"balance_{category}"] = (
            (b.category == category).ifelse(b.balance, 0).sum().cast("decimal(20, 2)")
        )
    return b.group_by("customer_id").aggregate(**columns)


def _daily_average(transactions: ir.Table, balances: ir.Table, month: Month) -> ir.Table:
    """Month-end AUM and the month's daily average (``aum_mda``) for each customer with a balance,
    and ``aum_days``: the sum over the month's days of the end-of-day AUM, in cents (for the
    quarter's average, which divides the three months' sums by their days)."""
    ends = _month_end_balances(balances, month).select("customer_id", "aum")
    flows = _mean_daily_aum_correction(transactions, month)
    joined = ends.left_join(flows, "customer_id")
    # n × the average rather than the average itself: it is exact in every engine (a negative
    # average counts as none, as before), and the division is rounded explicitly below.
    days_total = ibis.greatest(joined.aum * month.days - joined.flow_days.fill_null(0), 0)
    aum_days = (days_total * 100).cast("int64")
    return joined.select(
        customer_id=joined.customer_id,
        aum=joined.aum,
        aum_mda=_cents_divided(aum_days, month.days),
        aum_days=aum_days,
    )


def _cents_divided(cents: ir.IntegerValue, divisor: int) -> ir.DecimalValue:
    """``cents`` (≥ 0) / ``divisor`` as an amount, rounded half up to the cent in every engine.

    Portability: dividing a decimal gives a double on DuckDB and a decimal on Spark, and Ibis then
    drops the cast to ``decimal(20, 2)`` (it types the quotient as that already), leaving the
    rounding to the Arrow conversion: an average ending in exactly half a cent came out a cent
    apart on the two engines. Integer arithmetic rounds the same everywhere; the floor of the
    quotient is exact while it stays below 10^14 cents, far beyond any customer's AUM."""
    rounded = (cents * 2 + divisor) // (2 * divisor)
    return rounded.cast("decimal(20, 2)") * ibis.literal(Decimal("0.01"), type="decimal(20, 2)")


# ---------------------------------------------------------------- the whole row


def customer_features(
    transactions: ir.Table, balances: ir.Table, customers: ir.Table, *, as_of: date
) -> ir.Table:
    """One row of features per customer as of the end of business day ``as_of``."""
    month = balance_month(as_of)
    quarter = [month.minus(back) for back in range(3)]
    averages = [_daily_average(transactions, balances, m) for m in quarter]
    current = _month_end_balances(balances, month)
    earlier = _month_end_balances(balances, month.minus(3)).select("customer_id", aum_3m_ago="aum")
    activity = _window_aggregates(transactions, as_of)

    rows = customers
    rows = rows.left_join(current, "customer_id").drop("customer_id_right")
    rows = rows.left_join(averages[0].select("customer_id", "aum_mda"), "customer_id").drop(
        "customer_id_right"
    )
    for index, average in enumerate(averages):
        rows = rows.left_join(
            average.select("customer_id", **{f"days_{index}": average.aum_days}), "customer_id"
        ).drop("customer_id_right")
    rows = rows.left_join(earlier, "customer_id").drop("customer_id_right")
    rows = rows.left_join(activity, "customer_id").drop("customer_id_right")

    # The quarter's daily average: every day's AUM of the three months over their days (the same
    # as the months' unrounded averages weighted by their days), rounded as ``aum_mda`` is.
    quarter_days = sum(rows[f"days_{index}"].fill_null(0) for index in range(len(quarter)))
    quarter_average = _cents_divided(quarter_days, sum(m.days for m in quarter))
    end_epoch = _epoch(day_start(as_of + timedelta(days=1)))
    txn_3m = rows.txn_in_count_3m.fill_null(0) + rows.txn_out_count_3m.fill_null(0)
    previous = rows.txn_count_prev_3m.fill_null(0)
    aum = rows.aum.fill_null(0)
    aum_before = rows.aum_3m_ago

    features = {
        "customer_id": rows.customer_id,
        "as_of": ibis.literal(as_of),
        "balance_month": ibis.literal(month.label),
        "aum": aum.cast("decimal(20, 2)"),
        "aum_mda": rows.aum_mda.fill_null(0).cast("decimal(20, 2)"),
        "aum_qda": quarter_average.cast("decimal(20, 2)"),
        **{
            f"balance_{category}": rows[f"balance_{category}"].fill_null(0).cast("decimal(20, 2)")
            for category in BALANCE_CATEGORIES
        },
        **{
            f"txn_{direction}_{measure}_{months}m": rows[f"txn_{direction}_{measure}_{months}m"]
            .fill_null(0)
            .cast("int64" if measure == "count" else "decimal(20, 2)")
            for months in WINDOWS
            for direction in ("in", "out")
            for measure in ("count", "amount")
        },
        "recency_days": ((end_epoch - rows.last_booked_epoch) // DAY_SECONDS).cast("int64"),
        "frequency_12m": (rows.txn_in_count_12m.fill_null(0) + rows.txn_out_count_12m.fill_null(0)).cast(
            "int64"
        ),
        "monetary_12m": (rows.txn_in_amount_12m.fill_null(0) + rows.txn_out_amount_12m.fill_null(0)).cast(
            "decimal(20, 2)"
        ),
        "product_count": rows.product_count.fill_null(0).cast("int64"),
        "product_breadth": rows.product_breadth.fill_null(0).cast("int64"),
        # The credit status as the operational store has it on the run's day (the lake keeps no
        # history of it), so each kept run records it and a default target can look ahead.
        "credit_products": rows.credit_products.fill_null(0).cast("int64"),
        "overdue_days_max": rows.overdue_days_max.fill_null(0).cast("int64"),
        "overdue_amount": rows.overdue_amount.fill_null(0).cast("decimal(20, 2)"),
        "tenure_months": _months_between(rows.first_opened_on, as_of),
        "age_years": _years_between(rows.birth_date, as_of),
        "digital_txn_3m": rows.digital_txn_3m.fill_null(0).cast("int64"),
        "digital_share_3m": (txn_3m > 0).ifelse(
            rows.digital_txn_3m.fill_null(0).cast("float64") / txn_3m.cast("float64"), None
        ),
        "aum_change_3m": (aum_before > 0).ifelse(
            (aum.cast("float64") - aum_before.cast("float64")) / aum_before.cast("float64"), None
        ),
        "txn_count_change_3m": (previous > 0).ifelse(
            (txn_3m.cast("float64") - previous.cast("float64")) / previous.cast("float64"), None
        ),
    }
    return rows.select(**features)


def transaction_breakdown(transactions: ir.Table, *, as_of: date) -> ir.Table:
    """Per customer, and per transaction category and per channel: counts and amounts in and out over
    the last 1, 3 and 12 months, as one long table (``dimension`` is ``category`` or ``channel``,
    ``value`` the category or channel). Long rather than a column per category: sources add
    categories, and a segment rule names the one it needs."""
    end = day_start(as_of + timedelta(days=1))
    since_12 = day_start(months_before(as_of, 12) + timedelta(days=1))
    t = transactions.filter(
        transactions.booked_at >= _instant(since_12), transactions.booked_at < _instant(end)
    )
    parts = []
    for dimension in ("category", "channel"):
        metrics: dict[str, ir.Value] = {}
        for months in WINDOWS:
            inside = t.booked_at >= _instant(day_start(months_before(as_of, months) + timedelta(days=1)))
            metrics[f"count_{months}m"] = inside.sum().cast("int64")
            for direction in ("in", "out"):
                chosen = inside & (t.direction == direction)
                metrics[f"amount_{direction}_{months}m"] = (
                    chosen.ifelse(t.amount, 0).sum().cast("decimal(20, 2)")
                )
        grouped = t.group_by(["customer_id", t[dimension].fill_null("").name("value")]).aggregate(**metrics)
        parts.append(
            grouped.mutate(as_of=ibis.literal(as_of), dimension=ibis.literal(dimension)).select(
                "customer_id", "as_of", "dimension", "value", *metrics
            )
        )
    return parts[0].union(parts[1])


def _months_between(since: ir.DateValue, as_of: date) -> ir.IntegerValue:
    """Whole months from ``since`` to ``as_of`` (null without a date)."""
    months = (as_of.year - since.year()) * 12 + (as_of.month - since.month())
    return (since.day() > as_of.day).ifelse(months - 1, months).cast("int64")


def _years_between(born: ir.DateValue, as_of: date) -> ir.IntegerValue:
    """Age in whole years on ``as_of`` (null without a birth date)."""
    years = as_of.year - born.year()
    before_birthday = (born.month() > as_of.month) | (
        (born.month() == as_of.month) & (born.day() > as_of.day)
    )
    return before_birthday.ifelse(years - 1, years).cast("int64")
