"""Segment rules: nested AND/OR groups of conditions, checked, then compiled to Ibis.

A rule is data — JSON in the store, a form on the builder page, a body on the API::

    {"join": "and", "items": [
        {"field": "txn", "operator": "ge", "value": 1, "months": 3, "each_month": true,
         "direction": "in", "category": "salary", "measure": "count"},
        {"field": "aum_mda", "operator": "between", "value": [300000, 500000]},
        {"field": "balance_wealth", "operator": "eq", "value": 0}]}

``parse_rule`` turns it into ``Group``/``Condition`` objects or raises ``ValidationFailed`` with one
problem per broken condition, each naming the condition by its place ("condition 2.1": the first
item of the second item, as the builder numbers them) and the rule it broke. ``compile_rule`` turns
a parsed rule into one Ibis boolean over the segment base (one row per customer: the features of
a run and the attributes taken with it), so the same rule counts on DuckDB and, unchanged, on Spark.

A condition on a missing value (no AUM three months ago, say) is false, never unknown: SQL's
three-valued logic would otherwise make "NOT (change < -50 %)" drop the customers without a change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import ibis
import ibis.expr.types as ir

from bankcrm.core.errors import FieldProblem, ValidationFailed
from bankcrm.core.i18n import N_
from bankcrm.segmentation.features import BALANCE_CATEGORIES, WINDOWS, day_start, months_before
from bankcrm.segmentation.rfm import SEGMENTS
from bankcrm.segmentation.tiers import TIERS

MAX_DEPTH = 4  # groups within groups: deeper than this no one can read back
MAX_CONDITIONS = 40
MAX_WINDOW_MONTHS = 24

# ---------------------------------------------------------------- the catalogue of fields

NUMBER = "number"
MONEY = "money"
RATIO = "ratio"
CHOICE = "choice"
TAG = "tag"
TRANSACTIONS = "transactions"

COMPARISONS = ("eq", "ne", "gt", "ge", "lt", "le", "between")
OPERATORS: dict[str, tuple[str, ...]] = {
    NUMBER: (*COMPARISONS, "is_null", "not_null"),
    MONEY: (*COMPARISONS, "is_null", "not_null"),
    RATIO: (*COMPARISONS, "is_null", "not_null"),
    CHOICE: ("in", "not_in"),
    TAG: ("has", "has_not"),
    TRANSACTIONS: COMPARISONS,
}
OPERATOR_LABELS = {
    "eq": N_("equals"),
    "ne": N_("does not equal"),
    "gt": N_("more than"),
    "ge": N_("at least"),
    "lt": N_("less than"),
    "le": N_("at most"),
    "between": N_("between"),
    "is_null": N_("is missing"),
    "not_null": N_("is present"),
    "in": N_("is one of"),
    "not_in": N_("is none of"),
    "has": N_("has the tag"),
    "has_not": N_("does not have the tag"),
}


@dataclass(frozen=True)
class Field:
    code: str
    label: str  # msgid
    kind: str
    group: str  # msgid: the heading the builder lists it under
    choices: tuple[str, ...] = ()
    labels: str | None = None  # the customers' LABELS group that names the choices
    months: int | None = None  # the window of a windowed feature, for its label


ATTRIBUTES = N_("Customer attributes")
VALUE = N_("Value and holdings")
ACTIVITY = N_("Activity")
RFM = N_("RFM")
TAGS = N_("Tags")
TRANSACTION_WINDOW = N_("Transactions in a window")
CREDIT = N_("Credit risk")

_BALANCE_LABELS = {
    "deposit": N_("Demand deposit balance"),
    "time_deposit": N_("Time deposit balance"),
    "wealth": N_("Wealth management balance"),
    "fund": N_("Fund balance"),
    "insurance": N_("Insurance balance"),
}
_WINDOW_LABELS = {
    ("in", "count"): N_("Credits in the last %(months)s months (count)"),
    ("in", "amount"): N_("Credits in the last %(months)s months (amount)"),
    ("out", "count"): N_("Debits in the last %(months)s months (count)"),
    ("out", "amount"): N_("Debits in the last %(months)s months (amount)"),
}


def _fields() -> tuple[Field, ...]:
    attributes = (
        Field("kind", N_("Customer type"), CHOICE, ATTRIBUTES, ("individual", "corporate"), "kind"),
        Field("gender", N_("Gender"), CHOICE, ATTRIBUTES, ("M", "F"), "gender"),
        Field("age_years", N_("Age (years)"), NUMBER, ATTRIBUTES),
        Field("tenure_months", N_("Months as a customer"), NUMBER, ATTRIBUTES),
        Field("tier", N_("Value tier"), CHOICE, ATTRIBUTES, TIERS, "tier"),
        Field("risk_level", N_("Risk tolerance"), CHOICE, ATTRIBUTES, ("C1", "C2", "C3", "C4", "C5")),
        Field(
            "income_band",
            N_("Income band"),
            CHOICE,
            ATTRIBUTES,
            ("<50k", "50k-150k", "150k-300k", "300k-1m", ">1m"),
            "income_band",
        ),
        Field("branch", N_("Branch"), CHOICE, ATTRIBUTES),  # choices: the bank's org units
    )
    value = (
        Field("aum", N_("AUM at month end"), MONEY, VALUE),
        Field("aum_mda", N_("AUM, monthly daily average"), MONEY, VALUE),
        Field("aum_qda", N_("AUM, quarterly daily average"), MONEY, VALUE),
        Field("aum_change_3m", N_("AUM change over 3 months"), RATIO, VALUE),
        *(Field(f"balance_{c}", _BALANCE_LABELS[c], MONEY, VALUE) for c in BALANCE_CATEGORIES),
        Field("clv_expected_value", N_("Lifetime value, next 12 months"), MONEY, VALUE),
        Field("clv_probability_alive", N_("Probability still active"), RATIO, VALUE),
        Field("product_count", N_("Products held"), NUMBER, VALUE),
        Field("product_breadth", N_("Kinds of product held"), NUMBER, VALUE),
    )
    activity = (
        Field("recency_days", N_("Days since the last transaction"), NUMBER, ACTIVITY),
        Field("frequency_12m", N_("Transactions in 12 months"), NUMBER, ACTIVITY),
        Field("monetary_12m", N_("Amount transacted in 12 months"), MONEY, ACTIVITY),
        Field("digital_share_3m", N_("Share of digital transactions, 3 months"), RATIO, ACTIVITY),
        Field("txn_count_change_3m", N_("Change in transactions over 3 months"), RATIO, ACTIVITY),
        *(
            Field(
                f"txn_{direction}_{measure}_{months}m",
                _WINDOW_LABELS[(direction, measure)],
                MONEY if measure == "amount" else NUMBER,
                ACTIVITY,
                months=months,
            )
            for months in WINDOWS
            for direction in ("in", "out")
            for measure in ("count", "amount")
        ),
    )
    rfm = (
        Field("rfm_segment", N_("RFM segment"), CHOICE, RFM, SEGMENTS, "rfm_segment"),
        Field("rfm_r", N_("Recency score (1-5)"), NUMBER, RFM),
        Field("rfm_f", N_("Frequency score (1-5)"), NUMBER, RFM),
        Field("rfm_m", N_("Monetary score (1-5)"), NUMBER, RFM),
    )
    credit = (
        Field("credit_products", N_("Open loans and credit cards"), NUMBER, CREDIT),
        Field("overdue_days_max", N_("Most days overdue"), NUMBER, CREDIT),
        Field("overdue_amount", N_("Amount overdue"), MONEY, CREDIT),
    )
    others = (
        Field("tag", N_("Tag"), TAG, TAGS),
        Field("txn", N_("Transactions in the last months"), TRANSACTIONS, TRANSACTION_WINDOW),
    )
    return (*attributes, *value, *activity, *rfm, *credit, *others)


FIELDS: dict[str, Field] = {f.code: f for f in _fields()}
# The columns of the segment base a rule may read (tags and transaction windows read elsewhere).
BASE_COLUMNS = tuple(code for code, f in FIELDS.items() if f.kind not in (TAG, TRANSACTIONS))

# ---------------------------------------------------------------- parsed rules


@dataclass(frozen=True)
class Window:
    """A transaction condition's window: the last ``months`` months (rolling, ending with the run's
    business day), in or out or both, one category and/or channel or all, counted or summed; with
    ``each_month`` the comparison must hold in every one of those months, not over their total."""

    months: int
    measure: str = "count"  # count | amount
    direction: str | None = None  # in | out | None (both)
    category: str | None = None
    channel: str | None = None
    each_month: bool = False


@dataclass(frozen=True)
class Condition:
    place: str  # "2.1": how the builder numbers it, for messages
    field: str
    operator: str
    values: tuple[Any, ...] = ()
    window: Window | None = None


@dataclass(frozen=True)
class Group:
    place: str  # "" for the whole rule
    join: str  # and | or
    items: tuple[Condition | Group, ...] = field(default_factory=tuple)

    def conditions(self) -> list[Condition]:
        found: list[Condition] = []
        for item in self.items:
            found.extend(item.conditions() if isinstance(item, Group) else [item])
        return found


class _Problems:
    def __init__(self) -> None:
        self.found: list[FieldProblem] = []

    def add(self, place: str, part: str, rule: str, message: str, given: Any = None, **params: Any) -> None:
        """One broken condition: ``place`` numbers it as the builder shows it, ``part`` is the input
        (field, operator, value, months …) that broke ``rule``; ``given`` is what was entered."""
        name = f"rule.{place}.{part}" if place else f"rule.{part}"
        self.found.append(
            FieldProblem(
                field=name, rule=rule, message=message, value=given, params={"place": place, **params}
            )
        )


def parse_rule(data: Any, *, known_choices: Mapping[str, Sequence[str]] | None = None) -> Group:
    """The rule in ``data`` checked in full; every broken condition reported at once.

    ``known_choices`` adds choices only the running bank knows (its branches, its tag codes)."""
    problems = _Problems()
    if not isinstance(data, dict):
        problems.add("", "join", "rule_shape", N_("A rule is a group of conditions."), data)
        raise ValidationFailed(problems.found)
    group = _parse_group(data, "", 1, problems, dict(known_choices or {}))
    count = len(group.conditions())
    if count == 0 and not problems.found:  # a broken condition is not an empty rule
        problems.add("", "items", "rule_empty", N_("Add at least one condition."))
    elif count > MAX_CONDITIONS:
        problems.add(
            "",
            "items",
            "rule_too_long",
            N_("A rule may have at most %(max)s conditions."),
            count,
            max=MAX_CONDITIONS,
        )
    if problems.found:
        raise ValidationFailed(problems.found)
    return group


def _parse_group(
    data: dict[str, Any], place: str, depth: int, problems: _Problems, choices: dict[str, Sequence[str]]
) -> Group:
    join = data.get("join", "and")
    if join not in ("and", "or"):
        problems.add(place, "join", "join_unknown", N_("Group %(place)s: combine with AND or OR."), join)
    if depth > MAX_DEPTH:
        problems.add(
            place,
            "items",
            "too_deep",
            N_("Group %(place)s: groups may nest at most %(max)s deep."),
            max=MAX_DEPTH,
        )
        return Group(place=place, join="and")
    raw_items = data.get("items", [])
    if not isinstance(raw_items, list):
        problems.add(
            place, "items", "rule_shape", N_("Group %(place)s: its items must be a list."), raw_items
        )
        raw_items = []
    items: list[Condition | Group] = []
    for index, raw in enumerate(raw_items, start=1):
        child = f"{place}.{index}" if place else str(index)
        if isinstance(raw, dict) and "items" in raw:
            items.append(_parse_group(raw, child, depth + 1, problems, choices))
        elif isinstance(raw, dict):
            condition = _parse_condition(raw, child, problems, choices)
            if condition is not None:
                items.append(condition)
        else:
            problems.add(child, "field", "rule_shape", N_("Condition %(place)s is not a condition."), raw)
    return Group(place=place, join=join if join in ("and", "or") else "and", items=tuple(items))


def _parse_condition(
    data: dict[str, Any], place: str, problems: _Problems, choices: dict[str, Sequence[str]]
) -> Condition | None:
    code = data.get("field")
    spec = FIELDS.get(code) if isinstance(code, str) else None
    if spec is None:
        problems.add(
            place,
            "field",
            "field_unknown",
            N_("Condition %(place)s: choose a field (“%(value)s” is not one)."),
            code,
            value=code or "",
        )
        return None
    operator = data.get("operator")
    if operator not in OPERATORS[spec.kind]:
        problems.add(
            place,
            "operator",
            "operator_unsupported",
            N_("Condition %(place)s: “%(value)s” cannot be used with this field."),
            operator,
            value=operator or "",
        )
        return None
    window = _parse_window(data, place, problems) if spec.kind == TRANSACTIONS else None
    values = _parse_values(spec, operator, data.get("value"), place, problems, choices)
    if values is None:
        return None
    return Condition(place=place, field=spec.code, operator=operator, values=values, window=window)


def _number(raw: Any) -> Decimal | None:
    if isinstance(raw, bool) or raw is None or raw == "":
        return None
    try:
        number = Decimal(str(raw).replace(",", "").strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _parse_values(
    spec: Field, operator: str, raw: Any, place: str, problems: _Problems, choices: dict[str, Sequence[str]]
) -> tuple[Any, ...] | None:
    if operator in ("is_null", "not_null"):
        return ()
    if spec.kind == TAG:
        allowed = choices.get("tag")
        if not isinstance(raw, str) or not raw or (allowed is not None and raw not in allowed):
            problems.add(
                place,
                "value",
                "tag_unknown",
                N_("Condition %(place)s: choose a tag (“%(value)s” is not one)."),
                raw,
                value=raw or "",
            )
            return None
        return (raw,)
    if spec.kind == CHOICE:
        picked = [raw] if isinstance(raw, str) else raw
        allowed = choices.get(spec.code, spec.choices)
        if not isinstance(picked, list) or not picked:
            problems.add(
                place, "value", "choice_missing", N_("Condition %(place)s: choose at least one value."), raw
            )
            return None
        wrong = [str(v) for v in picked if str(v) not in [str(a) for a in allowed]] if allowed else []
        if wrong:
            problems.add(
                place,
                "value",
                "choice_unknown",
                N_("Condition %(place)s: “%(value)s” is not one of the values of this field."),
                raw,
                value=", ".join(wrong),
            )
            return None
        return tuple(str(v) for v in picked)
    return _parse_numbers(spec, operator, raw, place, problems)


def _parse_numbers(
    spec: Field, operator: str, raw: Any, place: str, problems: _Problems
) -> tuple[Any, ...] | None:
    wanted = 2 if operator == "between" else 1
    parts = raw if isinstance(raw, list) else [raw]
    numbers = [_number(part) for part in parts]
    if len(parts) != wanted or any(n is None for n in numbers):
        message = (
            N_("Condition %(place)s: enter two numbers, the lower first.")
            if wanted == 2
            else N_("Condition %(place)s: enter a number.")
        )
        problems.add(place, "value", "number_expected", message, raw)
        return None
    checked = [n for n in numbers if n is not None]
    if wanted == 2 and checked[0] > checked[1]:
        problems.add(
            place,
            "value",
            "range_reversed",
            N_("Condition %(place)s: the lower bound is above the upper bound."),
            raw,
        )
        return None
    if spec.kind == RATIO:
        return tuple(float(n) for n in checked)
    return tuple(checked)


def _parse_window(data: dict[str, Any], place: str, problems: _Problems) -> Window | None:
    months = data.get("months")
    if isinstance(months, str) and months.strip().isdigit():
        months = int(months)
    if not isinstance(months, int) or isinstance(months, bool) or not 1 <= months <= MAX_WINDOW_MONTHS:
        problems.add(
            place,
            "months",
            "months_range",
            N_("Condition %(place)s: the window is 1 to %(max)s months."),
            months,
            max=MAX_WINDOW_MONTHS,
        )
        return None
    measure = data.get("measure", "count")
    direction = data.get("direction") or None
    if measure not in ("count", "amount"):
        problems.add(
            place,
            "measure",
            "measure_unknown",
            N_("Condition %(place)s: count the transactions or sum their amounts."),
            measure,
        )
        return None
    if direction not in (None, "in", "out"):
        problems.add(
            place,
            "direction",
            "direction_unknown",
            N_("Condition %(place)s: choose credits, debits or both."),
            direction,
        )
        return None
    return Window(
        months=months,
        measure=measure,
        direction=direction,
        category=data.get("category") or None,
        channel=data.get("channel") or None,
        each_month=bool(data.get("each_month")),
    )


# ---------------------------------------------------------------- compiling to Ibis


@dataclass(frozen=True)
class RuleSources:
    """The Ibis tables of one backend a rule reads, all as of one run.

    ``base``: one row per customer with ``BASE_COLUMNS`` (features and attributes);
    ``tags``: customer_id, tag (code) — the memberships of the tags the rule names;
    ``transactions``: the lake's transactions (customer_id, booked_at, direction, amount, category, channel).
    """

    base: ir.Table
    tags: ir.Table
    transactions: ir.Table
    as_of: date


_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "eq": lambda c, v: c == v,
    "ne": lambda c, v: c != v,
    "gt": lambda c, v: c > v,
    "ge": lambda c, v: c >= v,
    "lt": lambda c, v: c < v,
    "le": lambda c, v: c <= v,
}


def _literal(value: Any) -> ir.Scalar:
    if isinstance(value, Decimal):
        return ibis.literal(value, type="decimal(20, 2)")
    return ibis.literal(value)


def _compare(column: ir.Value, operator: str, values: tuple[Any, ...]) -> ir.BooleanValue:
    if operator == "between":
        return column.between(_literal(values[0]), _literal(values[1]))
    return _COMPARE[operator](column, _literal(values[0]))


def _holds_at_zero(operator: str, values: tuple[Any, ...]) -> bool:
    """Whether a customer with no matching transactions (a count or sum of 0) meets the comparison."""
    if operator == "between":
        return bool(values[0] <= 0 <= values[1])
    return bool(_COMPARE[operator](Decimal(0), values[0]))


def _instant(day: date) -> ir.TimestampScalar:
    """The start of business day ``day`` as a UTC instant (as the features compare booking times)."""
    return ibis.literal(day_start(day), type="timestamp('UTC')")


def _window_rows(transactions: ir.Table, window: Window, start: date, end: date) -> ir.Table:
    """The window's transactions booked after ``start`` up to and including business day ``end``."""
    t = transactions.filter(
        transactions.booked_at >= _instant(start + timedelta(days=1)),
        transactions.booked_at < _instant(end + timedelta(days=1)),
    )
    if window.direction:
        t = t.filter(t.direction == window.direction)
    if window.category:
        t = t.filter(t.category == window.category)
    if window.channel:
        t = t.filter(t.channel == window.channel)
    return t


def _window_condition(base: ir.Table, sources: RuleSources, condition: Condition) -> ir.BooleanValue:
    """Per customer, the count or sum over the window (or over each of its months) compared as the
    condition says; no transaction counts as 0.

    One aggregation per customer with a measure per month: grouping by customer and month first,
    then counting the months met, cost two hash aggregations (the second over every customer), half
    of a million-customer preview's time."""
    window = condition.window
    assert window is not None  # parse_rule gives every transaction condition its window
    ends = [months_before(sources.as_of, back) for back in range(window.months + 1)]
    t = _window_rows(sources.transactions, window, ends[-1], ends[0])
    # Month ``back`` (0: the latest) holds bookings after ``ends[back + 1]`` up to ``ends[back]``;
    # over the whole window when not month by month.
    spans = (
        [(ends[back + 1], ends[back]) for back in range(window.months)]
        if window.each_month
        else [(ends[-1], ends[0])]
    )
    measures = {}
    for number, (after, until) in enumerate(spans):
        inside = (t.booked_at >= _instant(after + timedelta(days=1))) & (
            t.booked_at < _instant(until + timedelta(days=1))
        )
        measure = t.count(where=inside) if window.measure == "count" else t.amount.sum(where=inside)
        measures[f"month_{number}"] = measure
    totals = t.group_by("customer_id").aggregate(**measures)
    zero = ibis.literal(Decimal(0), type="decimal(20, 2)")
    checks = [
        _compare(totals[name].cast("decimal(20, 2)").fill_null(zero), condition.operator, condition.values)
        for name in measures
    ]
    meets = checks[0]
    for check in checks[1:]:
        meets = meets & check
    if _holds_at_zero(condition.operator, condition.values):
        # A customer without such a transaction counts 0 in every month and meets it: only one
        # who has transactions and misses in some month can fail.
        return ~base.customer_id.isin(totals.filter(~meets).customer_id)
    return base.customer_id.isin(totals.filter(meets).customer_id)


def _condition(base: ir.Table, sources: RuleSources, condition: Condition) -> ir.BooleanValue:
    spec = FIELDS[condition.field]
    if spec.kind == TAG:
        tagged = sources.tags.filter(sources.tags.tag == condition.values[0]).customer_id
        test = base.customer_id.isin(tagged)
        return test if condition.operator == "has" else ~test
    if spec.kind == TRANSACTIONS:
        return _window_condition(base, sources, condition)
    column = base[condition.field]
    if condition.operator == "is_null":
        return column.isnull()
    if condition.operator == "not_null":
        return column.notnull()
    if spec.kind == CHOICE:
        test = column.cast("string").isin(list(condition.values))
        return (test if condition.operator == "in" else ~test).fill_null(False)
    return _compare(column, condition.operator, condition.values).fill_null(False)


def compile_rule(rule: Group, sources: RuleSources) -> ir.BooleanValue:
    """The rule as one boolean over ``sources.base``."""
    parts = [
        compile_rule(item, sources) if isinstance(item, Group) else _condition(sources.base, sources, item)
        for item in rule.items
    ]
    if not parts:
        return ibis.literal(True)
    combined = parts[0]
    for part in parts[1:]:
        combined = (combined & part) if rule.join == "and" else (combined | part)
    return combined


def members(rule: Group, sources: RuleSources) -> ir.Table:
    """The customer ids the rule selects from the base."""
    return sources.base.filter(compile_rule(rule, sources)).select("customer_id")


def tags_named(rule: Group) -> set[str]:
    """The tag codes a rule reads, so only their memberships are fetched."""
    return {c.values[0] for c in rule.conditions() if FIELDS[c.field].kind == TAG}
