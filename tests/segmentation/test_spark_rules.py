"""Scale-out (issue 5): segment rules compiled to Ibis select the same members on Spark as on DuckDB.

The rules read the small generated bank's features (``spark.py``), its transactions through rolling
windows, and a tag; each is compiled once per backend by ``rules.compile_rule``.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from ibis.backends import BaseBackend

from bankcrm.segmentation.rules import RuleSources, members, parse_rule
from tests.segmentation.spark import BankTables, SmallBank, assert_same_rows, on_both

RULES: dict[str, dict[str, Any]] = {
    "salary_each_month_and_aum_band_without_wealth": {
        "join": "and",
        "items": [
            {"field": "txn", "operator": "ge", "value": 1, "months": 3, "each_month": True,
             "direction": "in", "category": "salary", "measure": "count"},
            {"field": "aum_mda", "operator": "between", "value": [30000, 500000]},
            {"field": "balance_wealth", "operator": "eq", "value": 0},
        ],
    },
    "digital_or_never_active_among_rfm_value_segments": {
        "join": "and",
        "items": [
            {"join": "or", "items": [
                {"field": "digital_share_3m", "operator": "ge", "value": 0.4},
                {"field": "recency_days", "operator": "is_null"},
            ]},
            {"field": "rfm_segment", "operator": "not_in", "value": ["important_value", "dormant"]},
        ],
    },
    "falling_aum_or_big_dining_spend_or_few_mobile_payments": {
        "join": "or",
        "items": [
            {"field": "aum_change_3m", "operator": "lt", "value": -0.1},
            {"field": "txn", "operator": "ge", "value": 3000, "months": 12, "direction": "out",
             "category": "dining", "measure": "amount"},
            {"field": "txn", "operator": "between", "value": [0, 1], "months": 1, "channel": "mobile"},
        ],
    },
    "tagged_or_older_with_long_tenure": {
        "join": "or",
        "items": [
            {"field": "tag", "operator": "has", "value": "watch"},
            {"join": "and", "items": [
                {"field": "age_years", "operator": "ge", "value": 60},
                {"field": "tenure_months", "operator": "gt", "value": 24},
            ]},
        ],
    },
}  # fmt: skip


def _tags(bank: SmallBank) -> pa.Table:
    ids = bank.profile["customer_id"].to_pylist()[::7]
    return pa.table({"customer_id": pa.array(ids, pa.int64()), "tag": ["watch"] * len(ids)})


@pytest.mark.parametrize("name", sorted(RULES))
def test_a_segment_rule_selects_the_same_members_on_spark_as_on_duckdb(
    small_bank: SmallBank, spark: BaseBackend, name: str
) -> None:
    rule = parse_rule(RULES[name], known_choices={"tag": ["watch"]})
    as_of = small_bank.month_end

    def selected(tables: BankTables) -> Any:
        tags = tables.backend.create_table("rule_tags", _tags(small_bank), overwrite=True)
        sources = RuleSources(tables.features(as_of), tags, tables.transactions, as_of)
        return members(rule, sources)

    duckdb_rows, spark_rows = on_both(small_bank, spark, selected)
    assert 0 < duckdb_rows.num_rows < small_bank.profile.num_rows  # the rule tells customers apart
    assert_same_rows(duckdb_rows, spark_rows, key="customer_id")
