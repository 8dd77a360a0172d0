"""The rules of the lists for relationship managers: high-value, potential and at-risk customers, each
with the reasons it is on the list, from the latest scoring run's scores and the customer's tier.

Pure: a rule is a set of conditions on a customer's latest scores (``scoring.ScoreCondition``). The
same conditions select the candidates in the database (``customers.service.scoring.scored_customers``,
within the viewer's scope) and decide here which reasons a listed customer carries, so the list and
its reasons cannot disagree. Figures in the reasons are formatted here; the sentences are message ids
the page translates.

- **high-value**: a VIP or private-banking tier; or RFM 重要价值客户; or a monthly daily average AUM
  among the top ``top_share`` of the viewer's scored customers (at least the richest one).
- **potential** (likely to move up a tier): a monthly daily average within ``near_share`` below the
  next tier's threshold and AUM rising over 3 months; or RFM 重要发展/重要保持 with AUM rising.
- **at-risk**: AUM fell by ``drop_share`` or more over 3 months; no transaction for ``quiet_days``
  after at least ``active_count`` in the last 12 months; a monthly daily average below the current
  tier's threshold (a move down pending in the grace period); or a churn propensity of ``churn_from``
  or more, when a churn model scores customers.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from bankcrm.core.formatting import format_money
from bankcrm.core.i18n import N_
from bankcrm.customers.service.scoring import ScoreCondition, ScoredCustomer

ListKind = Literal["high_value", "potential", "at_risk"]
LIST_KINDS: tuple[ListKind, ...] = ("high_value", "potential", "at_risk")
# The lists' titles, in the order the page shows them.
LIST_TITLES: dict[ListKind, str] = {
    "high_value": N_("High-value customers"),
    "potential": N_("Potential customers"),
    "at_risk": N_("Customers at risk"),
}
# Which score a list ranks by, highest first: the largest assets, the fastest rise, the most at stake.
LIST_ORDER: dict[ListKind, Literal["aum_mda", "aum_change_3m"]] = {
    "high_value": "aum_mda",
    "potential": "aum_change_3m",
    "at_risk": "aum_mda",
}
TIER_ORDER = ("mass", "affluent", "vip", "private")  # lowest first


@dataclass(frozen=True)
class ListSettings:
    """The lists' thresholds; ``thresholds`` as ``Settings.tier_thresholds`` gives them."""

    thresholds: tuple[tuple[Decimal, str], ...]
    grace_months: int = 3
    top_share: float = 0.1
    near_share: Decimal = Decimal("0.2")
    drop_share: float = 0.3
    quiet_days: int = 60
    active_count: int = 12
    churn_from: float = 0.5


@dataclass(frozen=True)
class Reason:
    """Why a customer is listed: a message id and its figures, already formatted."""

    code: str
    message: str
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ListedCustomer:
    customer: ScoredCustomer
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Context:
    """What a rule may need beyond the customer's own scores."""

    settings: ListSettings
    top_aum_cutoff: Decimal | None = None
    churn: Mapping[int, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    code: str
    conditions: tuple[ScoreCondition, ...]
    reason: Callable[[ScoredCustomer, Context], Reason]


def percent(share: float) -> str:
    """A share as a whole percentage without its sign (0.42 and -0.42: ``42%``)."""
    return f"{round(abs(share) * 100)}%"


_RISING = ScoreCondition("aum_change_3m", ">", 0.0)

# A sentence per tier rather than a tier's name put into one sentence: each language words the
# tier in its own way there (距私行门槛, "the private-banking threshold").
_TIER_MESSAGES = {"vip": N_("VIP customer"), "private": N_("Private-banking customer")}
_NEAR_MESSAGES = {
    "affluent": N_("%(gap)s below the affluent threshold, AUM up %(change)s in 3 months"),
    "vip": N_("%(gap)s below the VIP threshold, AUM up %(change)s in 3 months"),
    "private": N_("%(gap)s below the private-banking threshold, AUM up %(change)s in 3 months"),
}
_BELOW_MESSAGES = {
    "affluent": N_(
        "Monthly daily average %(aum)s is below the affluent threshold of %(threshold)s: "
        "moves down after %(months)s months below"
    ),
    "vip": N_(
        "Monthly daily average %(aum)s is below the VIP threshold of %(threshold)s: "
        "moves down after %(months)s months below"
    ),
    "private": N_(
        "Monthly daily average %(aum)s is below the private-banking threshold of %(threshold)s: "
        "moves down after %(months)s months below"
    ),
}
_RFM_MESSAGES = {
    "important_value": N_("RFM: important value (R%(r)s F%(f)s M%(m)s)"),
    "important_develop": N_(
        "RFM: important to develop (R%(r)s F%(f)s M%(m)s), AUM up %(change)s in 3 months"
    ),
    "important_keep": N_("RFM: important to keep (R%(r)s F%(f)s M%(m)s), AUM up %(change)s in 3 months"),
}


def _threshold_of(settings: ListSettings, tier: str) -> Decimal:
    return next(minimum for minimum, name in settings.thresholds if name == tier)


def _rfm_params(customer: ScoredCustomer) -> dict[str, str]:
    params = {"r": str(customer.rfm_r), "f": str(customer.rfm_f), "m": str(customer.rfm_m)}
    if customer.aum_change_3m is not None:
        params["change"] = percent(customer.aum_change_3m)
    return params


def _tier_rule(tier: str) -> Rule:
    return Rule(
        f"tier_{tier}",
        (ScoreCondition("tier", "==", tier),),
        lambda customer, context: Reason(f"tier_{tier}", _TIER_MESSAGES[tier]),
    )


def _rfm_rule(segment: str, *extra: ScoreCondition) -> Rule:
    return Rule(
        f"rfm_{segment}",
        (ScoreCondition("rfm_segment", "==", segment), *extra),
        lambda customer, context: Reason(f"rfm_{segment}", _RFM_MESSAGES[segment], _rfm_params(customer)),
    )


def _top_aum_rule(cutoff: Decimal) -> Rule:
    return Rule(
        "top_aum",
        (ScoreCondition("aum_mda", ">=", cutoff), ScoreCondition("aum_mda", ">", Decimal(0))),
        lambda customer, context: Reason(
            "top_aum",
            N_("Monthly daily average %(aum)s, in the top %(share)s of your customers"),
            {"aum": format_money(customer.aum_mda), "share": percent(context.settings.top_share)},
        ),
    )


def _near_rule(settings: ListSettings, tier: str) -> Rule:
    """Within ``near_share`` below ``tier``'s threshold, rising, and in a lower tier now."""
    threshold = _threshold_of(settings, tier)
    lower = TIER_ORDER[: TIER_ORDER.index(tier)]
    return Rule(
        f"near_{tier}",
        (
            ScoreCondition("aum_mda", ">=", threshold * (1 - settings.near_share)),
            ScoreCondition("aum_mda", "<", threshold),
            ScoreCondition("tier", "in", lower),
            _RISING,
        ),
        lambda customer, context: Reason(
            f"near_{tier}",
            _NEAR_MESSAGES[tier],
            {
                "gap": format_money(threshold - customer.aum_mda),
                "change": percent(customer.aum_change_3m or 0.0),
            },
        ),
    )


def _below_rule(settings: ListSettings, tier: str) -> Rule:
    """Tiered ``tier`` but the latest month's average is below its threshold: the tier falls when
    the grace period's months are all below."""
    threshold = _threshold_of(settings, tier)
    return Rule(
        f"below_{tier}",
        (ScoreCondition("tier", "==", tier), ScoreCondition("aum_mda", "<", threshold)),
        lambda customer, context: Reason(
            f"below_{tier}",
            _BELOW_MESSAGES[tier],
            {
                "aum": format_money(customer.aum_mda),
                "threshold": format_money(threshold),
                "months": str(context.settings.grace_months),
            },
        ),
    )


def _falling_rule(settings: ListSettings) -> Rule:
    return Rule(
        "aum_falling",
        (ScoreCondition("aum_change_3m", "<=", -settings.drop_share),),
        lambda customer, context: Reason(
            "aum_falling",
            N_("AUM down %(change)s in 3 months"),
            {"change": percent(customer.aum_change_3m or 0.0)},
        ),
    )


def _quiet_rule(settings: ListSettings) -> Rule:
    return Rule(
        "gone_quiet",
        (
            ScoreCondition("recency_days", ">=", settings.quiet_days),
            ScoreCondition("frequency_12m", ">=", settings.active_count),
        ),
        lambda customer, context: Reason(
            "gone_quiet",
            N_("No transaction for %(days)s days, after %(count)s in the last 12 months"),
            {"days": str(customer.recency_days), "count": str(customer.frequency_12m)},
        ),
    )


def rules(
    kind: ListKind, settings: ListSettings, *, top_aum_cutoff: Decimal | None = None
) -> tuple[Rule, ...]:
    """The rules of a list; a customer meeting any one is listed. The top-AUM rule needs the
    viewer's cutoff (``scoring.top_aum_cutoff``) and is left out without one."""
    if kind == "high_value":
        top = (_top_aum_rule(top_aum_cutoff),) if top_aum_cutoff is not None else ()
        return (_tier_rule("private"), _tier_rule("vip"), _rfm_rule("important_value"), *top)
    if kind == "potential":
        near = tuple(_near_rule(settings, tier) for _minimum, tier in settings.thresholds)
        rfm = tuple(_rfm_rule(segment, _RISING) for segment in ("important_develop", "important_keep"))
        return (*near, *rfm)
    below = tuple(_below_rule(settings, tier) for _minimum, tier in settings.thresholds)
    return (_falling_rule(settings), _quiet_rule(settings), *below)


# The comparisons a condition may name, as the database applies them (score_repository._COMPARISONS).
_ORDERINGS: dict[str, Callable[[Any, Any], Any]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}


def holds(condition: ScoreCondition, customer: ScoredCustomer) -> bool:
    """Whether the customer meets the condition, as the database decides it (a missing score never)."""
    value = getattr(customer, condition.field)
    if value is None:
        return False
    wanted = condition.value
    if condition.op == "in":
        return isinstance(wanted, tuple) and value in wanted
    if condition.op == "==":
        return bool(value == wanted)
    return bool(_ORDERINGS[condition.op](value, wanted))


def churn_reason(customer: ScoredCustomer, context: Context) -> Reason | None:
    score = context.churn.get(customer.customer_id)
    if score is None or score < context.settings.churn_from:
        return None
    return Reason("churn_score", N_("Churn propensity %(score)s"), {"score": percent(score)})


def reasons_for(
    kind: ListKind, customer: ScoredCustomer, listing_rules: Sequence[Rule], context: Context
) -> tuple[Reason, ...]:
    """Every reason the customer is on the list (none: not on it)."""
    found = [
        rule.reason(customer, context)
        for rule in listing_rules
        if all(holds(condition, customer) for condition in rule.conditions)
    ]
    if kind == "at_risk":
        churn = churn_reason(customer, context)
        if churn is not None:
            found.insert(0, churn)
    return tuple(found)
