"""Customer value tiers (DOMAIN.md) decided from the kept feature history, as Ibis expressions.

A customer's tier follows the monthly daily average AUM (``aum_mda``) of each balance month:

- up at once: when the latest month's average reaches a higher tier, the customer moves up to it;
- down only after a grace period: when every one of the last ``grace_months`` balance months was
  below the current tier, the customer moves down to the best tier among those months. With fewer
  months of history than that (a new bank, a new customer) nobody moves down.

The thresholds and the grace period are configuration (``Settings.tier_*``). Each decision carries
the average and the month that decided it, for the tier history the customer module keeps.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import ibis
import ibis.expr.types as ir

from bankcrm.segmentation.features import Month

TIERS = ("mass", "affluent", "vip", "private")  # lowest first: a tier's rank is its place here


def tier_rank(aum: ir.NumericValue, thresholds: Sequence[tuple[Decimal, str]]) -> ir.IntegerValue:
    """The rank of the tier ``aum`` reaches; ``thresholds`` as ``Settings.tier_thresholds`` gives them."""
    cases = [
        (aum >= ibis.literal(minimum, type="decimal(20, 2)"), TIERS.index(tier))
        for minimum, tier in thresholds
    ]
    return ibis.cases(*cases, else_=0).cast("int64")


def _rank_of(tier: ir.StringValue) -> ir.IntegerValue:
    return ibis.cases(*[(tier == name, rank) for rank, name in enumerate(TIERS)], else_=0).cast("int64")


def _name_of(rank: ir.IntegerValue) -> ir.StringValue:
    return ibis.cases(*[(rank == position, name) for position, name in enumerate(TIERS)], else_="mass")


def tier_decisions(
    history: ir.Table,
    current: ir.Table,
    *,
    month: Month,
    grace_months: int,
    thresholds: Sequence[tuple[Decimal, str]],
) -> ir.Table:
    """The customers whose tier changes, with ``from_tier``, ``to_tier``, ``reason`` (upgrade or
    downgrade), and the ``aum_mda`` of ``balance_month`` (the latest month) that decided it.

    ``history``: customer_id, balance_month, as_of, aum_mda — every kept scoring run, this one
    included; a month scored more than once counts with its latest run. ``current``: customer_id,
    tier — the tiers now."""
    months = [month.minus(back).label for back in range(grace_months)]
    recent = history.filter(history.balance_month.isin(months))
    per_month = recent.group_by(["customer_id", "balance_month"]).aggregate(
        aum_mda=recent.aum_mda.argmax(recent.as_of)
    )
    in_latest = per_month.balance_month == month.label
    window = per_month.group_by("customer_id").aggregate(
        months_seen=per_month.balance_month.nunique(),
        best_rank=tier_rank(per_month.aum_mda, thresholds).max(),
        latest_aum=in_latest.ifelse(per_month.aum_mda, None).max(),
    )
    joined = current.inner_join(window, "customer_id")
    now = _rank_of(joined.tier)
    latest = tier_rank(joined.latest_aum.fill_null(0), thresholds)
    falls = (joined.months_seen >= grace_months) & (joined.best_rank < now)
    new = ibis.cases((latest > now, latest), (falls, joined.best_rank), else_=now)
    decided = joined.mutate(new_rank=new, now_rank=now).filter(lambda t: t.new_rank != t.now_rank)
    return decided.select(
        customer_id=decided.customer_id,
        from_tier=decided.tier,
        to_tier=_name_of(decided.new_rank),
        reason=(decided.new_rank > decided.now_rank).ifelse("upgrade", "downgrade"),
        aum_mda=decided.latest_aum.fill_null(0).cast("decimal(20, 2)"),
        balance_month=ibis.literal(month.label),
    )
