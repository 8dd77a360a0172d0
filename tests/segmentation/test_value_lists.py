"""The rules of the lists for relationship managers, on a table of cases: who is listed, and why."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from bankcrm.customers.service.scoring import ScoredCustomer
from bankcrm.segmentation.value_lists import Context, ListKind, ListSettings, Reason, reasons_for, rules

SETTINGS = ListSettings(
    thresholds=((Decimal(6_000_000), "private"), (Decimal(500_000), "vip"), (Decimal(50_000), "affluent"))
)
# An ordinary affluent customer on none of the lists: steady AUM, active, middling RFM.
PLAIN = ScoredCustomer(
    customer_id=1,
    name="张*",
    tier="affluent",
    as_of=date(2026, 10, 31),
    aum_mda=Decimal("200000.00"),
    aum_qda=Decimal("200000.00"),
    aum_change_3m=0.0,
    recency_days=3,
    frequency_12m=40,
    rfm_r=3,
    rfm_f=3,
    rfm_m=3,
    rfm_segment="general_value",
)


def _reasons(
    kind: ListKind, customer: ScoredCustomer, *, cutoff: Decimal | None = None, churn=None
) -> list[tuple[str, dict[str, str]]]:  # type: ignore[no-untyped-def]
    listing_rules = rules(kind, SETTINGS, top_aum_cutoff=cutoff)
    context = Context(settings=SETTINGS, top_aum_cutoff=cutoff, churn=churn or {})
    found: tuple[Reason, ...] = reasons_for(kind, customer, listing_rules, context)
    return [(reason.code, dict(reason.params)) for reason in found]


CASES = [
    # (case, list, changes to PLAIN, expected reasons with their figures)
    ("an ordinary customer is on no list: high-value", "high_value", {}, []),
    ("an ordinary customer is on no list: potential", "potential", {}, []),
    ("an ordinary customer is on no list: at risk", "at_risk", {}, []),
    (
        "a private-banking customer is high-value",
        "high_value",
        {"tier": "private", "aum_mda": Decimal("7000000")},
        [("tier_private", {})],
    ),
    ("a VIP is high-value", "high_value", {"tier": "vip", "aum_mda": Decimal("800000")}, [("tier_vip", {})]),
    (
        "RFM important value is high-value, with its scores",
        "high_value",
        {"rfm_segment": "important_value", "rfm_r": 5, "rfm_f": 4, "rfm_m": 5},
        [("rfm_important_value", {"r": "5", "f": "4", "m": "5", "change": "0%"})],
    ),
    (
        "¥38,000 below the VIP threshold and rising is potential",
        "potential",
        {"aum_mda": Decimal("462000"), "aum_change_3m": 0.12},
        [("near_vip", {"gap": "¥38,000.00", "change": "12%"})],
    ),
    (
        "exactly 20 % below the threshold and rising is still potential",
        "potential",
        {"aum_mda": Decimal("400000"), "aum_change_3m": 0.01},
        [("near_vip", {"gap": "¥100,000.00", "change": "1%"})],
    ),
    (
        "just over 20 % below the threshold is not potential",
        "potential",
        {"aum_mda": Decimal("399999.99"), "aum_change_3m": 0.3},
        [],
    ),
    (
        "near the threshold but not rising is not potential",
        "potential",
        {"aum_mda": Decimal("462000"), "aum_change_3m": 0.0},
        [],
    ),
    (
        "near the threshold without a 3-month comparison is not potential",
        "potential",
        {"aum_mda": Decimal("462000"), "aum_change_3m": None},
        [],
    ),
    (
        "a mass customer near the affluent threshold and rising is potential",
        "potential",
        {"tier": "mass", "aum_mda": Decimal("45000"), "aum_change_3m": 0.5},
        [("near_affluent", {"gap": "¥5,000.00", "change": "50%"})],
    ),
    (
        "a VIP below its own threshold is not 'potential' for it",
        "potential",
        {"tier": "vip", "aum_mda": Decimal("480000"), "aum_change_3m": 0.1},
        [],
    ),
    (
        "RFM important to develop with rising AUM is potential",
        "potential",
        {"rfm_segment": "important_develop", "rfm_r": 5, "rfm_f": 2, "rfm_m": 4, "aum_change_3m": 0.05},
        [("rfm_important_develop", {"r": "5", "f": "2", "m": "4", "change": "5%"})],
    ),
    (
        "RFM important to keep with rising AUM is potential",
        "potential",
        {"rfm_segment": "important_keep", "rfm_r": 2, "rfm_f": 5, "rfm_m": 5, "aum_change_3m": 0.2},
        [("rfm_important_keep", {"r": "2", "f": "5", "m": "5", "change": "20%"})],
    ),
    (
        "RFM important to keep with falling AUM is not potential",
        "potential",
        {"rfm_segment": "important_keep", "aum_change_3m": -0.05},
        [],
    ),
    (
        "AUM down 42 % in 3 months is at risk",
        "at_risk",
        {"aum_change_3m": -0.42},
        [("aum_falling", {"change": "42%"})],
    ),
    (
        "AUM down exactly 30 % is at risk",
        "at_risk",
        {"aum_change_3m": -0.3},
        [("aum_falling", {"change": "30%"})],
    ),
    ("AUM down 29 % is not at risk", "at_risk", {"aum_change_3m": -0.29}, []),
    (
        "an active customer quiet for 60 days is at risk",
        "at_risk",
        {"recency_days": 60, "frequency_12m": 12},
        [("gone_quiet", {"days": "60", "count": "12"})],
    ),
    ("quiet for 59 days is not at risk", "at_risk", {"recency_days": 59, "frequency_12m": 30}, []),
    (
        "a customer who was never active is not 'gone quiet'",
        "at_risk",
        {"recency_days": 200, "frequency_12m": 3},
        [],
    ),
    (
        "a VIP whose monthly average fell below the VIP threshold has a move down pending",
        "at_risk",
        {"tier": "vip", "aum_mda": Decimal("420000")},
        [("below_vip", {"aum": "¥420,000.00", "threshold": "¥500,000.00", "months": "3"})],
    ),
    (
        "a high churn propensity is at risk, first among the reasons",
        "at_risk",
        {"aum_change_3m": -0.5},
        [("churn_score", {"score": "82%"}), ("aum_falling", {"change": "50%"})],
    ),
]


@pytest.mark.parametrize(("case", "kind", "changes", "expected"), CASES, ids=[c[0] for c in CASES])
def test_a_customer_is_listed_for_exactly_these_reasons(case, kind, changes, expected) -> None:  # type: ignore[no-untyped-def]
    churn = {PLAIN.customer_id: 0.82} if "churn" in case else None
    assert _reasons(kind, replace(PLAIN, **changes), churn=churn) == expected


def test_the_top_aum_of_the_portfolio_is_high_value_from_the_viewers_cutoff() -> None:
    rich = replace(PLAIN, aum_mda=Decimal("300000"))
    assert _reasons("high_value", rich, cutoff=Decimal("300000")) == [
        ("top_aum", {"aum": "¥300,000.00", "share": "10%"})
    ]
    assert _reasons("high_value", rich, cutoff=Decimal("300000.01")) == []


def test_a_portfolio_without_assets_has_no_top_aum_customer() -> None:
    assert _reasons("high_value", replace(PLAIN, aum_mda=Decimal(0)), cutoff=Decimal(0)) == []


def test_a_churn_score_below_the_cutoff_is_no_reason() -> None:
    assert _reasons("at_risk", PLAIN, churn={PLAIN.customer_id: 0.49}) == []


def test_a_customer_can_carry_several_reasons() -> None:
    customer = replace(PLAIN, tier="vip", aum_mda=Decimal("300000"), aum_change_3m=-0.4, recency_days=90)
    codes = [code for code, _params in _reasons("at_risk", customer)]
    assert codes == ["aum_falling", "gone_quiet", "below_vip"]
