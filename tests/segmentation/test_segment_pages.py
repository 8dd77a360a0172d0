"""The segment pages: the builder redraws with a live count, marks a broken condition in place,
saves; a segment's page shows its rule, profile, runs and members; compare and export."""

from __future__ import annotations

import json
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from bankcrm.core.lake import Lake
from bankcrm.segmentation import service as segments
from bankcrm.segmentation import tag_rules
from bankcrm.segmentation.models import TagRule
from bankcrm.segmentation.schemas import RuleTagIn, SegmentIn

RULE_FORM = {
    "n.join": "and",
    "n.1.field": "aum",
    "n.1.operator": "ge",
    "n.1.value": "390000",
}


def _count(html: str) -> int:
    found = re.search(r'data-testid="preview-count">([\d,]+)<', html)
    assert found, html[:2000]
    return int(found.group(1).replace(",", ""))


def test_the_builder_counts_the_rule_as_it_is_edited(bank: dict[str, int], signed_in) -> None:  # type: ignore[no-untyped-def]
    session = signed_in("bm.beijing")
    page = session.client.get("/segments/new")
    assert page.status_code == 200
    drawn = session.client.post("/segments/builder", data={**RULE_FORM, "csrf_token": session.csrf})
    assert drawn.status_code == 200
    assert _count(drawn.text) == 4
    narrowed = session.client.post(
        "/segments/builder", data={**RULE_FORM, "n.1.value": "500000", "csrf_token": session.csrf}
    )
    assert _count(narrowed.text) == 1
    assert "客户C" in narrowed.text  # the sample


def test_the_builder_adds_and_removes_conditions_and_groups(bank: dict[str, int], signed_in) -> None:  # type: ignore[no-untyped-def]
    session = signed_in("bm.beijing")
    added = session.client.post(
        "/segments/builder", data={**RULE_FORM, "action": "add-group:n", "csrf_token": session.csrf}
    ).text
    assert 'name="n.2.join"' in added
    assert 'name="n.2.1.field"' in added
    removed = session.client.post(
        "/segments/builder",
        data={
            **RULE_FORM,
            "n.2.join": "or",
            "n.2.1.field": "aum",
            "n.2.1.operator": "ge",
            "n.2.1.value": "1",
            "action": "remove:n.2",
            "csrf_token": session.csrf,
        },
    ).text
    assert 'name="n.2.join"' not in removed


def test_a_broken_condition_is_marked_where_it_is(bank: dict[str, int], signed_in) -> None:  # type: ignore[no-untyped-def]
    session = signed_in("bm.beijing")
    data = {
        **RULE_FORM,
        "n.2.join": "or",
        "n.2.1.field": "aum",
        "n.2.1.operator": "between",
        "n.2.1.value": "500",
        "n.2.1.value2": "100",
        "csrf_token": session.csrf,
    }
    html = session.client.post("/segments/builder", data=data).text
    assert 'data-testid="preview-count"' not in html
    condition = html[html.index('data-place="2.1"') :]
    assert "条件 2.1：下限高于上限。" in condition[: condition.index('data-testid="rule-error"') + 80]


def test_saving_a_segment_opens_its_page_with_rule_profile_and_runs(
    db: Session, lake: Lake, bank: dict[str, int], signed_in
) -> None:  # type: ignore[no-untyped-def]
    session = signed_in("bm.beijing")
    saved = session.client.post(
        "/segments/new",
        data={**RULE_FORM, "name": "四十万以上", "kind": "dynamic", "csrf_token": session.csrf},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    page = session.client.get(saved.headers["location"]).text
    assert "四十万以上" in page
    assert re.search(r'data-testid="members">4<', page)
    assert "月末资产" in page  # the rule in words
    assert 'data-testid="profile-tiers"' in page
    assert "2026-10-31" in page  # the run
    listing = session.client.get("/segments").text
    assert "四十万以上" in listing


def test_saving_without_a_name_keeps_the_rule_and_says_why(bank: dict[str, int], signed_in) -> None:  # type: ignore[no-untyped-def]
    session = signed_in("bm.beijing")
    refused = session.client.post("/segments/new", data={**RULE_FORM, "name": "", "csrf_token": session.csrf})
    assert refused.status_code == 422
    assert 'value="390000"' in refused.text


def test_a_relationship_manager_may_look_but_not_define(
    bank: dict[str, int], db: Session, lake: Lake, signed_in, as_user
) -> None:  # type: ignore[no-untyped-def]
    segment = segments.create_segment(
        db,
        as_user("bm.beijing"),
        lake,
        data=SegmentIn(
            name="全部", rule={"join": "and", "items": [{"field": "aum", "operator": "ge", "value": 0}]}
        ),
    )
    session = signed_in("rm.chen")  # no customers of rm.chen in the bank
    assert session.client.get("/segments/new").status_code == 403
    page = session.client.get(f"/segments/{segment.id}").text
    assert re.search(r'data-testid="members">0<', page)
    assert "客户A" not in page


def test_compare_and_export_pages(bank: dict[str, int], db: Session, lake: Lake, signed_in, as_user) -> None:  # type: ignore[no-untyped-def]
    manager = as_user("bm.beijing")
    first = segments.create_segment(
        db,
        manager,
        lake,
        data=SegmentIn(
            name="甲", rule={"join": "and", "items": [{"field": "aum", "operator": "ge", "value": 390000}]}
        ),
    )
    second = segments.create_segment(
        db,
        manager,
        lake,
        data=SegmentIn(
            name="乙", rule={"join": "and", "items": [{"field": "aum", "operator": "ge", "value": 500000}]}
        ),
    )
    session = signed_in("bm.beijing")
    compared = session.client.get(f"/segments/compare?first={first.id}&second={second.id}")
    assert compared.status_code == 200
    assert "两个分群共有 1 位客户" in compared.text or "1 customers are in both" in compared.text
    exported = session.client.get(f"/segments/{first.id}/export.csv")
    assert exported.status_code == 200
    assert exported.text.count("\n") == 2 + 4


def test_a_rule_tag_is_made_on_its_page_with_the_builder(bank: dict[str, int], signed_in) -> None:  # type: ignore[no-untyped-def]
    session = signed_in("mkt")
    assert session.client.get("/segments/tags/new").status_code == 200
    saved = session.client.post(
        "/segments/tags/new",
        data={
            **RULE_FORM,
            "code": "rich",
            "name": "四十万以上",
            "category": "value",
            "tag_kind": "rule",
            "csrf_token": session.csrf,
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert "四十万以上" in session.client.get("/customers/lists").text
    refused = session.client.post(
        "/segments/tags/new",
        data={**RULE_FORM, "code": "Bad Code", "name": "x", "tag_kind": "rule", "csrf_token": session.csrf},
    )
    assert refused.status_code == 422


def test_the_customer_page_shows_the_tag_history(
    bank: dict[str, int], db: Session, lake: Lake, signed_in, as_user
) -> None:  # type: ignore[no-untyped-def]
    rule = {"join": "and", "items": [{"field": "aum", "operator": "ge", "value": "390000"}]}
    tag_rules.create_rule_tag(
        db, as_user("mkt"), lake, data=RuleTagIn(code="rich", name="四十万以上", rule=rule)
    )
    section = signed_in("rm.zhang").client.get(f"/customers/{bank['A']}/sections/tags").text
    assert 'data-testid="tag-history"' in section
    assert "四十万以上" in section


def test_a_model_tag_follows_the_target_chosen_on_its_page(
    bank: dict[str, int], signed_in, db: Session
) -> None:  # type: ignore[no-untyped-def]
    session = signed_in("mkt")
    form = session.client.get("/segments/tags/new").text
    assert '<option value="purchase:fund"' in form
    assert "购买基金" in form
    saved = session.client.post(
        "/segments/tags/new",
        data={
            **RULE_FORM,
            "code": "fund-prospect",
            "name": "基金潜客",
            "tag_kind": "model",
            "model_target": "purchase:fund",
            "bands": "high",
            "csrf_token": session.csrf,
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    stored = db.scalars(select(TagRule)).all()
    assert [json.loads(rule.rule) for rule in stored] == [
        {"model": {"target": "purchase:fund", "bands": ["high"]}}
    ]
