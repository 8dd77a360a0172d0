"""The lists for relationship managers read through the viewer's scope: who sees whom, and why."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from bankcrm.segmentation import rm_lists
from bankcrm.segmentation.value_lists import LIST_KINDS
from tests.segmentation.bank import active_churn_model
from tests.segmentation.value_list_world import LONG_NAME, plant


@pytest.fixture
def planted(db: Session, as_user) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return plant(db, as_user)


def _names(db: Session, principal, kind) -> list[str]:  # type: ignore[no-untyped-def]
    return [item.customer.name for item in rm_lists.value_list(db, principal, kind=kind).customers]


def _reasons(db: Session, principal, kind) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    found = rm_lists.value_list(db, principal, kind=kind).customers
    return {item.customer.name: [reason.code for reason in item.reasons] for item in found}


def test_an_rm_sees_each_list_of_their_own_customers_with_the_reasons(db: Session, planted, as_user) -> None:  # type: ignore[no-untyped-def]
    zhang = as_user("rm.zhang")
    assert _reasons(db, zhang, "high_value") == {
        LONG_NAME: ["tier_private", "rfm_important_value", "top_aum"],
        "王建国": ["tier_vip"],
        "孙立": ["tier_vip"],  # still VIP in its grace period
    }
    assert _reasons(db, zhang, "potential") == {"李思远": ["near_vip"]}
    assert _reasons(db, zhang, "at_risk") == {
        "王建国": ["aum_falling"],
        "孙立": ["below_vip"],
        "赵敏": ["gone_quiet"],
    }


def test_the_lists_keep_their_order(db: Session, planted, as_user) -> None:  # type: ignore[no-untyped-def]
    zhang = as_user("rm.zhang")
    assert _names(db, zhang, "high_value") == [LONG_NAME, "王建国", "孙立"]  # the largest AUM first
    assert _names(db, zhang, "at_risk") == ["王建国", "孙立", "赵敏"]


@pytest.mark.parametrize("kind", LIST_KINDS)
def test_an_rm_sees_only_their_own_customers_in_every_list(db: Session, planted, as_user, kind) -> None:  # type: ignore[no-untyped-def]
    assert "陈外人" not in _names(db, as_user("rm.zhang"), kind)
    chen = _names(db, as_user("rm.chen"), kind)
    assert set(chen) <= {"陈外人"}
    assert not set(chen) & {LONG_NAME, "王建国", "李思远", "赵敏", "孙立", "周平"}


def test_the_other_rms_customer_is_on_their_own_lists(db: Session, planted, as_user) -> None:  # type: ignore[no-untyped-def]
    chen = as_user("rm.chen")
    assert _reasons(db, chen, "high_value") == {"陈外人": ["tier_private", "rfm_important_value", "top_aum"]}
    assert _reasons(db, chen, "at_risk") == {"陈外人": ["aum_falling", "below_private"]}


def test_a_branch_manager_sees_the_lists_of_the_branch(db: Session, planted, as_user) -> None:  # type: ignore[no-untyped-def]
    branch = _names(db, as_user("bm.beijing"), "high_value")
    assert "陈外人" in branch
    assert LONG_NAME in branch
    sub_branch = _names(db, as_user("sbm.haidian"), "high_value")
    assert "陈外人" not in sub_branch
    assert LONG_NAME in sub_branch
    assert _names(db, as_user("rm.liu"), "high_value") == []  # Shanghai: none of these


def test_the_top_aum_share_is_of_the_viewers_own_customers(db: Session, planted, as_user) -> None:  # type: ignore[no-untyped-def]
    # Across the branch, 陈外人 (¥5.9M) is not the richest; for rm.chen it is the top of the portfolio.
    branch = _reasons(db, as_user("bm.beijing"), "high_value")
    assert branch["陈外人"] == ["tier_private", "rfm_important_value"]
    assert branch[LONG_NAME] == ["tier_private", "rfm_important_value", "top_aum"]


def test_names_are_masked_for_viewers_without_the_right(db: Session, planted, as_user) -> None:  # type: ignore[no-untyped-def]
    names = _names(db, as_user("analyst"), "potential")
    assert names == ["李**"]


def test_a_list_is_cut_at_its_limit(db: Session, planted, as_user) -> None:  # type: ignore[no-untyped-def]
    found = rm_lists.value_list(db, as_user("rm.zhang"), kind="at_risk", limit=2)
    assert [item.customer.name for item in found.customers] == ["王建国", "孙立"]
    assert found.maybe_more


def test_before_any_scoring_run_the_lists_are_empty(db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    lists = rm_lists.value_lists(db, as_user("rm.zhang"))
    assert lists.as_of is None
    assert [value_list.customers for value_list in lists.lists] == [[], [], []]


def test_a_high_churn_propensity_puts_a_customer_at_risk(  # type: ignore[no-untyped-def]
    db: Session, planted, as_user, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The model studio's seam: scores for one of rm.zhang's customers and for rm.chen's.
    scores = {planted["周平"]: 0.9, planted["李思远"]: 0.2, planted["陈外人"]: 0.95}
    monkeypatch.setattr(rm_lists, "churn_propensities", lambda session, principal: scores)
    found = _reasons(db, as_user("rm.zhang"), "at_risk")
    assert found["周平"] == ["churn_score"]
    assert "李思远" not in found  # below the cutoff
    assert "陈外人" not in found  # scored, but another RM's


def test_without_a_churn_model_the_seam_returns_nothing(db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    assert rm_lists.churn_propensities(db, as_user("rm.zhang")) is None


def test_an_active_churn_models_high_scores_come_through_the_seam(db: Session, planted, as_user) -> None:  # type: ignore[no-untyped-def]
    active_churn_model(db, {planted["周平"]: (0.9, "high"), planted["李思远"]: (0.2, "low")})
    assert rm_lists.churn_propensities(db, as_user("rm.zhang")) == {planted["周平"]: 0.9}
    assert _reasons(db, as_user("rm.zhang"), "at_risk")["周平"] == ["churn_score"]
