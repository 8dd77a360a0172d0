"""The lists for relationship managers on the home page and on their own pages, in both languages."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.orm import Session

from tests.segmentation.value_list_world import LONG_NAME, plant


@pytest.fixture
def planted(db: Session, as_user) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return plant(db, as_user)


def _card(html: str, kind: str) -> str:
    block = html[html.index(f'data-testid="w-list-{kind}"') :]
    return block[: block.index("</section>")]


def _names(card: str) -> list[str]:
    return re.findall(
        r'class="text-truncate value-list-name" href="/customers/\d+" title="[^"]*">([^<]+)</a>', card
    )


def test_an_rms_home_page_shows_the_three_lists_with_reasons(planted, signed_in) -> None:  # type: ignore[no-untyped-def]
    home = signed_in("rm.zhang").client.get("/").text
    assert 'data-testid="w-lists"' not in home  # the placeholder gave way
    high, potential, at_risk = (_card(home, kind) for kind in ("high_value", "potential", "at_risk"))
    assert "高价值客户" in high
    assert "有望升级客户" in potential
    assert "流失风险客户" in at_risk
    assert _names(high) == [LONG_NAME, "王建国", "孙立"]
    assert "RFM：重要价值客户（R5 F4 M5）" in high
    assert _names(potential) == ["李思远"]
    assert "距贵宾门槛还差 ¥38,000.00，资产三个月增长 12%" in potential
    assert _names(at_risk) == ["王建国", "孙立", "赵敏"]
    assert "资产较三个月前下降 42%" in at_risk
    assert "月日均资产 ¥420,000.00 低于贵宾门槛 ¥500,000.00，连续 3 个月低于门槛将降级" in at_risk
    assert "已 75 天无交易（近 12 个月共 30 笔）" in at_risk
    assert f'href="/customers/{planted["李思远"]}"' in potential


def test_no_list_shows_another_rms_customer(planted, signed_in) -> None:  # type: ignore[no-untyped-def]
    home = signed_in("rm.zhang").client.get("/").text
    assert "陈外人" not in home
    for kind in ("high_value", "potential", "at_risk"):
        assert "陈外人" not in signed_in("rm.zhang").client.get(f"/segments/lists/{kind}").text


def test_the_lists_speak_english(planted, signed_in) -> None:  # type: ignore[no-untyped-def]
    session = signed_in("rm.zhang")
    session.client.post("/lang", data={"locale": "en", "next": "/", "csrf_token": session.csrf})
    home = session.client.get("/").text
    assert "High-value customers" in home
    assert "Potential customers" in home
    assert "Customers at risk" in home
    assert "¥38,000.00 below the VIP threshold, AUM up 12% in 3 months" in home
    assert "AUM down 42% in 3 months" in home
    assert "No transaction for 75 days, after 30 in the last 12 months" in home


def test_before_any_scoring_run_each_list_says_why_it_is_empty(signed_in) -> None:  # type: ignore[no-untyped-def]
    home = signed_in("rm.zhang").client.get("/").text
    for kind in ("high_value", "potential", "at_risk"):
        card = _card(home, kind)
        assert "尚未运行评分。" in card
        assert "夜间评分运行为您的客户评分后，名单即会生成。" in card


def test_an_rm_with_no_one_on_a_list_sees_it_empty(planted, signed_in) -> None:  # type: ignore[no-untyped-def]
    home = signed_in("rm.liu").client.get("/").text  # Shanghai: scored bank, none of them theirs
    for kind in ("high_value", "potential", "at_risk"):
        assert "此名单暂无客户" in _card(home, kind)
    assert "您的客户中暂无资产上升且接近上一等级门槛的客户。" in _card(home, "potential")


def test_the_whole_bank_sees_the_lists_on_the_segments_page_not_at_home(planted, signed_in) -> None:  # type: ignore[no-untyped-def]
    admin = signed_in("admin").client
    assert 'data-testid="w-list-' not in admin.get("/").text
    segments = admin.get("/segments").text
    assert "陈外人" in _card(segments, "high_value")


def test_a_whole_list_has_its_own_page(planted, signed_in) -> None:  # type: ignore[no-untyped-def]
    page = signed_in("rm.zhang").client.get("/segments/lists/at_risk")
    assert page.status_code == 200
    assert 'data-kind="at_risk"' in page.text
    rows = re.findall(r'<tr data-customer-id="(\d+)">', page.text)
    assert rows == [str(planted[name]) for name in ("王建国", "孙立", "赵敏")]
    assert "-42%" in page.text
    assert "共 3 位客户，依据截至 2026-10-31 的评分结果。" in page.text


def test_an_unknown_list_is_not_found(signed_in) -> None:  # type: ignore[no-untyped-def]
    assert signed_in("rm.zhang").client.get("/segments/lists/everyone").status_code == 404


def test_masked_names_stay_masked_on_the_list_page(planted, signed_in) -> None:  # type: ignore[no-untyped-def]
    page = signed_in("analyst").client.get("/segments/lists/potential").text
    assert "李**" in page
    assert "李思远" not in page


@pytest.mark.parametrize("username", ["mkt", "risk", "analyst", "agent", "exec"])
def test_roles_that_do_not_work_a_portfolio_have_no_lists_at_home(signed_in, username) -> None:  # type: ignore[no-untyped-def]
    assert 'data-testid="w-list-' not in signed_in(username).client.get("/").text


@pytest.mark.parametrize("username", ["bm.beijing", "sbm.haidian"])
def test_managers_have_their_units_lists_at_home(planted, signed_in, username) -> None:  # type: ignore[no-untyped-def]
    assert LONG_NAME in _card(signed_in(username).client.get("/").text, "high_value")
