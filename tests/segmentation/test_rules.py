"""The segment rule compiler on a table of rules, each with the members it must select, and the
checker's messages for rules that cannot be compiled, each pointing at its condition."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from bankcrm.core.errors import ValidationFailed
from bankcrm.core.lake import Lake
from bankcrm.segmentation import service as segments
from bankcrm.segmentation.rules import parse_rule
from tests.segmentation.bank import AS_OF

SALARY_EACH_MONTH = {
    "field": "txn",
    "operator": "ge",
    "value": 1,
    "months": 3,
    "each_month": True,
    "direction": "in",
    "category": "salary",
    "measure": "count",
}

RULES: list[tuple[str, dict[str, Any], set[str]]] = [
    (
        "the issue's example: salary in each of 3 months, AUM 300k-500k, no wealth product",
        {
            "join": "and",
            "items": [
                SALARY_EACH_MONTH,
                {"field": "aum", "operator": "between", "value": ["300000", "500000"]},
                {"field": "balance_wealth", "operator": "eq", "value": 0},
            ],
        },
        {"A"},
    ),
    ("salary in each of the last 3 months", {"join": "and", "items": [SALARY_EACH_MONTH]}, {"A", "C", "D"}),
    (
        "at least two salaries over the 3 months together",
        {"join": "and", "items": [{**SALARY_EACH_MONTH, "each_month": False, "value": 2}]},
        {"A", "B", "C", "D"},
    ),
    (
        "no credit in 3 months: customers without any transaction count as 0",
        {"join": "and", "items": [{**SALARY_EACH_MONTH, "each_month": False, "operator": "lt", "value": 1}]},
        {"E"},
    ),
    (
        "OR of a feature and a tag",
        {
            "join": "or",
            "items": [
                {"field": "aum", "operator": "ge", "value": 500000},
                {"field": "tag", "operator": "has", "value": "watch"},
            ],
        },
        {"C", "E"},
    ),
    (
        "a group within a group",
        {
            "join": "and",
            "items": [
                {"field": "kind", "operator": "in", "value": ["individual"]},
                {
                    "join": "or",
                    "items": [
                        {"field": "aum", "operator": "gt", "value": 500000},
                        {
                            "join": "and",
                            "items": [
                                {"field": "aum", "operator": "ge", "value": 300000},
                                {"field": "balance_wealth", "operator": "gt", "value": 0},
                            ],
                        },
                    ],
                },
            ],
        },
        {"C", "D"},
    ),
    (
        "a condition on a missing value is false (E has no transactions: no digital share)",
        {"join": "or", "items": [{"field": "digital_share_3m", "operator": "lt", "value": 0.5}]},
        set(),
    ),
    (
        "is present",
        {"join": "and", "items": [{"field": "digital_share_3m", "operator": "not_null"}]},
        {"A", "B", "C", "D"},
    ),
    (
        "does not have the tag",
        {"join": "and", "items": [{"field": "tag", "operator": "has_not", "value": "watch"}]},
        {"A", "B", "C", "D"},
    ),
    (
        "the RFM segment of customers without transactions",
        {"join": "and", "items": [{"field": "rfm_segment", "operator": "in", "value": ["dormant"]}]},
        {"E"},
    ),
]


@pytest.mark.parametrize(("title", "rule", "expected"), RULES, ids=[r[0] for r in RULES])
def test_each_rule_selects_exactly_its_members(
    db: Session, lake: Lake, bank: dict[str, int], title: str, rule: dict[str, Any], expected: set[str]
) -> None:
    del title
    parsed = parse_rule(rule, known_choices={"tag": ["watch"]})
    backend = segments.rule_backend(lake, parsed, as_of=AS_OF)  # as previews and segments open it
    found = set(segments.compute_members(db, lake, backend, parsed, as_of=AS_OF).tolist())
    labels = {label for label, customer_id in bank.items() if customer_id in found}
    assert labels == expected


BROKEN: list[tuple[dict[str, Any], str, str]] = [
    ({"join": "and", "items": []}, "rule.items", "rule_empty"),
    (
        {
            "join": "and",
            "items": [{"field": "aum", "operator": "gt", "value": 1}, {"field": "aum_md", "operator": "gt"}],
        },
        "rule.2.field",
        "field_unknown",
    ),
    (
        {
            "join": "and",
            "items": [{"join": "or", "items": [{"field": "aum", "operator": "has", "value": 1}]}],
        },
        "rule.1.1.operator",
        "operator_unsupported",
    ),
    (
        {"join": "and", "items": [{"field": "aum", "operator": "between", "value": [5, 1]}]},
        "rule.1.value",
        "range_reversed",
    ),
    (
        {"join": "and", "items": [{"field": "aum", "operator": "gt", "value": "lots"}]},
        "rule.1.value",
        "number_expected",
    ),
    (
        {"join": "and", "items": [{"field": "tier", "operator": "in", "value": ["gold"]}]},
        "rule.1.value",
        "choice_unknown",
    ),
    (
        {"join": "and", "items": [{"field": "tag", "operator": "has", "value": "nope"}]},
        "rule.1.value",
        "tag_unknown",
    ),
    ({"join": "and", "items": [{**SALARY_EACH_MONTH, "months": 36}]}, "rule.1.months", "months_range"),
    ({"join": "xor", "items": [{"field": "aum", "operator": "gt", "value": 1}]}, "rule.join", "join_unknown"),
]


@pytest.mark.parametrize(("rule", "field", "broken"), BROKEN, ids=[b[2] for b in BROKEN])
def test_a_rule_that_cannot_compile_names_the_condition_and_the_rule_it_broke(
    rule: dict[str, Any], field: str, broken: str
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        parse_rule(rule, known_choices={"tag": ["watch"]})
    assert [(p.field, p.rule) for p in raised.value.problems] == [(field, broken)]


def test_every_broken_condition_is_reported_at_once() -> None:
    rule = {
        "join": "and",
        "items": [
            {"field": "nope", "operator": "gt", "value": 1},
            {"join": "or", "items": [{"field": "aum", "operator": "gt", "value": "x"}]},
        ],
    }
    with pytest.raises(ValidationFailed) as raised:
        parse_rule(rule)
    problems = raised.value.problems
    assert [p.field for p in problems] == ["rule.1.field", "rule.2.1.value"]
    assert [p.params["place"] for p in problems] == ["1", "2.1"]
