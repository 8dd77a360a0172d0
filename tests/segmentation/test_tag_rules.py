"""Rule and model tags: held by exactly the customers their rule or band selects after each run,
with the history of who gained and lost them, when and why; manual tags keep their history too."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
from sqlalchemy.orm import Session

from bankcrm.core.errors import ValidationFailed
from bankcrm.core.lake import Lake
from bankcrm.customers import lake_repository
from bankcrm.customers.schemas import TagIn
from bankcrm.customers.service import tags
from bankcrm.customers.service.errors import CustomerNotFound
from bankcrm.segmentation import tag_rules
from bankcrm.segmentation.jobs import compute_features, store_features
from bankcrm.segmentation.schemas import ModelTagIn, RuleTagIn
from tests.segmentation.bank import AS_OF, active_churn_model

RICH: dict[str, Any] = {"join": "and", "items": [{"field": "aum", "operator": "ge", "value": "390000"}]}
NEXT_RUN = date(2026, 11, 30)


def _holders(db: Session, as_user: Any, customer_ids: dict[str, int], code: str) -> set[str]:
    viewer = as_user("bm.beijing")
    return {
        label
        for label, cid in customer_ids.items()
        if code in {t.code for t in tags.tags_of(db, viewer, customer_id=cid)}
    }


def test_a_rule_tag_is_held_by_exactly_the_customers_meeting_its_rule(
    db: Session, lake: Lake, bank: dict[str, int], as_user
) -> None:  # type: ignore[no-untyped-def]
    tag = tag_rules.create_rule_tag(
        db, as_user("mkt"), lake, data=RuleTagIn(code="rich", name="四十万以上", rule=RICH)
    )
    assert tag.kind == "rule"
    assert _holders(db, as_user, bank, "rich") == {"A", "B", "C", "D"}

    # November: A falls to 100,000, E rises to 900,000.
    november = {
        bank["A"]: "100000",
        bank["B"]: "400000",
        bank["C"]: "600000",
        bank["D"]: "400000",
        bank["E"]: "900000",
    }
    table = pa.table(
        {
            "customer_id": list(november),
            "category": ["deposit"] * len(november),
            "balance": [Decimal(v) for v in november.values()],
        }
    )
    lake_repository.write_balances(lake, "2026-11", table, batch_key="b2")
    store_features(db, lake, compute_features(db, lake, as_of=NEXT_RUN), as_of=NEXT_RUN)

    assert _holders(db, as_user, bank, "rich") == {"B", "C", "D", "E"}
    history_a = tags.tag_history(db, as_user("bm.beijing"), customer_id=bank["A"])
    assert [(e.tag_code, e.change, e.as_of) for e in history_a] == [
        ("rich", "lost", NEXT_RUN),
        ("rich", "gained", AS_OF),
    ]
    assert history_a[0].reason.startswith("rule ")
    assert '"aum"' in history_a[0].reason


def test_a_run_again_on_the_same_date_changes_no_tag(
    db: Session, lake: Lake, bank: dict[str, int], as_user
) -> None:  # type: ignore[no-untyped-def]
    tag_rules.create_rule_tag(
        db, as_user("mkt"), lake, data=RuleTagIn(code="rich", name="四十万以上", rule=RICH)
    )
    store_features(db, lake, compute_features(db, lake, as_of=AS_OF), as_of=AS_OF)
    history = tags.tag_history(db, as_user("bm.beijing"), customer_id=bank["A"])
    assert [e.change for e in history] == ["gained"]


def test_a_rule_tag_with_a_broken_rule_is_refused_and_nothing_is_saved(
    db: Session, lake: Lake, bank: dict[str, int], as_user
) -> None:  # type: ignore[no-untyped-def]
    broken = {"join": "and", "items": [{"field": "aum", "operator": "gt", "value": "lots"}]}
    with pytest.raises(ValidationFailed) as raised:
        tag_rules.create_rule_tag(
            db, as_user("mkt"), lake, data=RuleTagIn(code="broken", name="坏规则", rule=broken)
        )
    assert raised.value.problems[0].field == "rule.1.value"
    assert tags.find_tag_by_code(db, "broken") is None


def test_a_rule_tag_cannot_be_set_by_hand(db: Session, lake: Lake, bank: dict[str, int], as_user) -> None:  # type: ignore[no-untyped-def]
    tag = tag_rules.create_rule_tag(
        db, as_user("mkt"), lake, data=RuleTagIn(code="rich", name="四十万以上", rule=RICH)
    )
    with pytest.raises(ValidationFailed):
        tags.tag_customers(db, as_user("rm.zhang"), tag_id=tag.id, customer_ids=[bank["E"]], add=True)


def test_a_model_tag_follows_the_active_models_band(
    db: Session, lake: Lake, bank: dict[str, int], as_user
) -> None:  # type: ignore[no-untyped-def]
    active_churn_model(db, {bank["A"]: (0.5, "high"), bank["B"]: (0.5, "medium"), bank["C"]: (0.5, "low")})
    tag_rules.create_model_tag(
        db,
        as_user("mkt"),
        lake,
        data=ModelTagIn(code="churn-high", name="高流失风险", bands=["high", "medium"]),
    )
    assert _holders(db, as_user, bank, "churn-high") == {"A", "B"}
    history = tags.tag_history(db, as_user("bm.beijing"), customer_id=bank["A"])
    assert history[0].reason == "model churn: high, medium"


def test_manual_tags_keep_their_history_and_the_history_is_scoped(
    db: Session, lake: Lake, bank: dict[str, int], as_user
) -> None:  # type: ignore[no-untyped-def]
    tag = tags.create_tag(db, as_user("mkt"), data=TagIn(code="vip-visit", name="重点拜访"))
    rm = as_user("rm.zhang")
    tags.tag_customers(db, rm, tag_id=tag.id, customer_ids=[bank["B"]], add=True)
    tags.tag_customers(db, rm, tag_id=tag.id, customer_ids=[bank["B"]], add=False)
    history = tags.tag_history(db, rm, customer_id=bank["B"])
    assert [(e.change, e.reason, e.actor) for e in history] == [
        ("lost", "manual", "张晓明"),
        ("gained", "manual", "张晓明"),
    ]
    with pytest.raises(CustomerNotFound):
        tags.tag_history(db, as_user("rm.chen"), customer_id=bank["B"])
