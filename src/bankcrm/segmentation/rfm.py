"""RFM scoring: recency, frequency and monetary quintiles, and the eight RFM segments banks in China
name customers by (重要价值客户 …), written as Ibis expressions like the features they rank.

Scores are 1 (lowest fifth) to 5 (highest) by where a customer's value sits among all scored
customers. Customers with equal values share a score: the lowest value scores 1 and the highest 5
however many share them (all customers without a transaction have frequency 1; a large group that
all transacted today has recency 5), any other tie by the middle of the places it covers. A plain
percent rank would put every tie at its lowest place, so a top-heavy tie would score low. Recency
ranks the other way: fewer days since the last transaction scores higher; a customer with no
transaction in 12 months ranks last.

A dimension is *high* at score 4 or 5 (the top two fifths). The segment follows from which of R, F
and M are high; a customer with no transaction in the last 12 months is *dormant* instead.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

HIGH_SCORE = 4
# A recency to rank customers without any transaction as the longest ago.
_NEVER_DAYS = 1_000_000

# (R high, F high, M high) -> segment code
_SEGMENTS = {
    (True, True, True): "important_value",
    (False, True, True): "important_keep",
    (True, False, True): "important_develop",
    (False, False, True): "important_winback",
    (True, True, False): "general_value",
    (False, True, False): "general_keep",
    (True, False, False): "general_develop",
    (False, False, False): "general_winback",
}
DORMANT = "dormant"
SEGMENTS = (*_SEGMENTS.values(), DORMANT)  # their words: customers' page labels, group rfm_segment


def _quintile(value: ir.NumericColumn, customers: ir.IntegerScalar) -> ir.IntegerValue:
    """1-5: the lowest value scores 1 and the highest 5, however many share them; any other value by
    the middle of the share of customers its tie covers, from the share below it (its 0-based rank
    / customers) to the share at or below it (its cumulative distribution)."""
    below = value.rank().cast("float64") / customers.cast("float64")
    at_or_below = value.cume_dist()
    middle = ibis.least(((below + at_or_below) / 2 * 5).floor() + 1, 5)
    return ibis.cases((below == 0, 1), (at_or_below == 1, 5), else_=middle).cast("int64")


def with_rfm(features: ir.Table) -> ir.Table:
    """``features`` with ``rfm_r``, ``rfm_f``, ``rfm_m`` and ``rfm_segment``."""
    customers = features.count()
    recency = features.recency_days.fill_null(_NEVER_DAYS)
    scored = features.mutate(
        rfm_r=_quintile(-recency, customers),
        rfm_f=_quintile(features.frequency_12m, customers),
        rfm_m=_quintile(features.monetary_12m, customers),
    )
    high_r = scored.rfm_r >= HIGH_SCORE
    high_f = scored.rfm_f >= HIGH_SCORE
    high_m = scored.rfm_m >= HIGH_SCORE
    cases = [((high_r == r) & (high_f == f) & (high_m == m), code) for (r, f, m), code in _SEGMENTS.items()]
    segment = ibis.cases((scored.frequency_12m == 0, DORMANT), *cases)
    return scored.mutate(rfm_segment=segment)
