"""Customer pages as a user drives them: search, 360 sections, forms, workflow, export."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bankcrm.audit.models import AuditEvent
from bankcrm.core.formatting import business_today
from bankcrm.customers.schemas import GroupIn, TagIn
from bankcrm.customers.service import customers as customer_service
from bankcrm.customers.service import tags, view360
from tests.customers.conftest import resident_id

SECTIONS = (
    "assets",
    "holdings",
    "accounts",
    "transactions",
    "timeline",
    "tags",
    "relationships",
    "contacts",
    "sources",
    "scores",
)
# Sections that read the lake load one request each; the others come in one request together.
LAKE_SECTIONS = ("assets", "transactions")
STORE_SECTIONS = tuple(name for name in SECTIONS if name not in LAKE_SECTIONS)


def test_search_page_finds_by_pinyin_initials_and_masks(signed_in, client: TestClient, make_customer) -> None:  # type: ignore[no-untyped-def]
    zhang = make_customer(name="张三", mobile="13812345678")
    signed_in("rm.zhang")
    page = client.get("/customers", params={"q": "zs"})
    assert page.status_code == 200
    assert f'href="/customers/{zhang.id}"' in page.text
    assert "138****5678" in page.text
    assert "13812345678" not in page.text
    assert client.get("/search", params={"q": "zs"}).headers["location"] == "/customers?q=zs"


def test_a_list_longer_than_the_count_cap_says_more_than_and_still_pages_on(
    signed_in, client: TestClient, make_customer, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    for name in ("赵一", "赵二", "赵三", "赵四"):
        make_customer(name=name)
    monkeypatch.setattr(customer_service, "LIST_COUNT_CAP", 2)
    signed_in("rm.zhang")
    listed = client.get("/api/v1/customers", params={"q": "赵", "size": 1}).json()
    assert (listed["total"], listed["total_exact"], len(listed["items"])) == (2, False, 1)
    page = client.get("/customers", params={"q": "赵"}).text
    assert "共 2 条以上" in page
    assert "1 / 1+" in page
    monkeypatch.setattr(customer_service, "LIST_COUNT_CAP", 10)
    exact = client.get("/api/v1/customers", params={"q": "赵"}).json()
    assert (exact["total"], exact["total_exact"]) == (4, True)


def test_the_search_box_needs_the_read_right_and_passes_the_query_on_whole(
    signed_in, client: TestClient
) -> None:  # type: ignore[no-untyped-def]
    anonymous = client.get("/search", params={"q": "zs"})
    assert anonymous.headers["location"].startswith("/login?next=")
    signed_in("rm.zhang")
    sent = client.get("/search", params={"q": "张三 & status=all #5678"})
    assert sent.status_code == 303
    assert parse_qs(urlsplit(sent.headers["location"]).query) == {"q": ["张三 & status=all #5678"]}


def test_ids_too_large_for_any_record_are_refused_not_a_server_error(
    signed_in, client: TestClient, make_customer
) -> None:  # type: ignore[no-untyped-def]
    """Ids are BIGINT keys: a larger number in a path, a query or a form names no record and must not
    reach the database driver (which cannot bind it)."""
    mine = make_customer(name="大数客户")
    rm = signed_in("rm.zhang")
    huge = str(2**64)
    assert client.get(f"/customers/{huge}").status_code == 422
    assert client.get(f"/customers/merges/{huge}").status_code == 422
    assert client.get("/customers", params={"group_id": huge}).status_code == 422
    assert client.get("/customers/merges/new", params={"ids": f"{mine.id},{huge}"}).status_code == 200
    ticked = client.post(
        "/customers/bulk",
        data={"customer_ids": [huge], "target": f"tag:{huge}", "csrf_token": rm.csrf},
    )
    assert ticked.status_code == 303
    tagged = client.post(f"/customers/{mine.id}/tags", data={"target": f"tag:{huge}", "csrf_token": rm.csrf})
    assert tagged.status_code == 303
    merged = client.post(
        "/customers/merges/new",
        data={"ids": f"{mine.id},{huge}", "survivor_id": huge, "reason": "同一个人", "csrf_token": rm.csrf},
    )
    assert merged.status_code == 422


def test_every_360_section_renders_and_another_rm_gets_404(
    signed_in, client: TestClient, make_customer
) -> None:  # type: ignore[no-untyped-def]
    customer = make_customer(name="孙悟空")
    signed_in("rm.zhang")
    page = client.get(f"/customers/{customer.id}")
    assert page.status_code == 200
    assert 'data-testid="customer-header"' in page.text
    for name in SECTIONS:
        fragment = client.get(f"/customers/{customer.id}/sections/{name}", headers={"HX-Request": "true"})
        assert fragment.status_code == 200, name
        assert "<html" not in fragment.text
    assert client.get(f"/customers/{customer.id}/sections/nonsense").status_code == 404
    signed_in("rm.chen")
    assert client.get(f"/customers/{customer.id}").status_code == 404
    assert client.get(f"/customers/{customer.id}/sections/accounts").status_code == 404


def test_the_page_asks_for_store_sections_together_and_lake_sections_each_on_their_own(
    signed_in, client: TestClient, make_customer
) -> None:  # type: ignore[no-untyped-def]
    customer = make_customer(name="沙悟净")
    signed_in("rm.zhang")
    page = client.get(f"/customers/{customer.id}").text
    assert f'hx-get="/customers/{customer.id}/sections"' in page
    for name in LAKE_SECTIONS:
        assert f'hx-get="/customers/{customer.id}/sections/{name}"' in page
    for name in STORE_SECTIONS:
        assert f'hx-get="/customers/{customer.id}/sections/{name}"' not in page
        assert f'id="section-{name}"' in page

    group = client.get(f"/customers/{customer.id}/sections", headers={"HX-Request": "true"})
    assert group.status_code == 200
    assert "<html" not in group.text
    swaps = re.findall(r'<div id="section-(\w+)" hx-swap-oob="innerHTML">', group.text)
    assert swaps == list(STORE_SECTIONS)
    assert 'data-testid="section-scores"' in group.text


def test_a_failing_store_section_shows_its_error_and_the_others_still_arrive(
    signed_in, client: TestClient, make_customer, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    customer = make_customer(name="白骨精")
    signed_in("rm.zhang")

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the timeline store is down")

    monkeypatch.setattr(view360, "timeline", broken)
    group = client.get(f"/customers/{customer.id}/sections", headers={"HX-Request": "true"})
    assert group.status_code == 200
    pieces = re.split(r'<div id="section-(\w+)" hx-swap-oob="innerHTML">', group.text)
    parts = dict(zip(pieces[1::2], pieces[2::2], strict=True))
    assert "alert-danger" in parts["timeline"]
    assert "the timeline store is down" not in group.text
    assert 'data-testid="section-scores"' in group.text
    assert "alert-danger" not in parts["scores"]


def test_create_through_the_form_with_a_duplicate_warning(
    signed_in, client: TestClient, make_customer, db: Session
) -> None:  # type: ignore[no-untyped-def]
    make_customer(name="林黛玉", mobile="13900001111")
    session = signed_in("rm.zhang")
    form = {
        "kind": "individual",
        "name": "林黛玉",
        "id_type": "resident_id",
        "id_number": resident_id(date(1990, 7, 7), male=False),
        "mobile": "13900001111",
        "csrf_token": session.csrf,
    }
    warned = client.post("/customers/new", data=form)
    assert warned.status_code == 409
    assert 'data-testid="duplicates"' in warned.text
    saved = client.post("/customers/new", data={**form, "confirm_not_duplicate": "on"})
    assert saved.status_code == 303
    assert saved.headers["location"].startswith("/customers/")
    invalid = client.post(
        "/customers/new", data={**form, "id_number": "110101199001011234", "confirm_not_duplicate": "on"}
    )
    assert invalid.status_code == 422
    assert 'data-field-error="id_number"' in invalid.text


def test_edit_keeps_masked_identifiers_that_were_left_blank(
    signed_in, client: TestClient, make_customer
) -> None:  # type: ignore[no-untyped-def]
    customer = make_customer(name="贾宝玉", mobile="13700002222")
    session = signed_in("rm.zhang")
    form = client.get(f"/customers/{customer.id}/edit")
    assert form.status_code == 200
    assert "13700002222" not in form.text
    saved = client.post(
        f"/customers/{customer.id}/edit",
        data={
            "name": "贾宝玉",
            "occupation": "诗人",
            "version": customer.version,
            "csrf_token": session.csrf,
        },
    )
    assert saved.status_code == 303, saved.text
    detail = client.get(f"/api/v1/customers/{customer.id}").json()
    assert detail["occupation"] == "诗人"
    assert detail["mobile"] == "137****2222"
    stale = client.post(
        f"/customers/{customer.id}/edit",
        data={
            "name": "贾宝玉",
            "occupation": "画家",
            "version": customer.version,
            "csrf_token": session.csrf,
        },
    )
    assert stale.status_code == 409


def test_log_interaction_tag_and_reveal_from_the_360_page(
    signed_in,
    client: TestClient,
    make_customer,
    db: Session,  # type: ignore[no-untyped-def]
    as_user,
) -> None:
    customer = make_customer(name="薛宝钗", mobile="13600003333")
    tag = tags.create_tag(db, as_user("admin"), data=TagIn(code="vip-care", name="重点维护"))
    session = signed_in("rm.zhang")
    logged = client.post(
        f"/customers/{customer.id}/interactions",
        data={
            "kind": "visit",
            "channel": "branch",
            "summary": "讨论子女教育金规划",
            "follow_up_on": business_today().isoformat(),
            "csrf_token": session.csrf,
        },
    )
    assert logged.status_code == 303
    home = client.get("/")
    assert "讨论子女教育金规划" in home.text or "薛宝钗" in home.text
    bad = client.post(
        f"/customers/{customer.id}/interactions",
        data={"kind": "visit", "channel": "branch", "summary": "", "csrf_token": session.csrf},
    )
    assert bad.status_code == 422
    # The 360 page again, not a bare form: the header, and the form open with the summary's error.
    assert 'data-testid="customer-header"' in bad.text
    assert '<details class="action-block" open>' in bad.text
    assert 'name="summary" class="form-control is-invalid"' in bad.text
    tagged = client.post(
        f"/customers/{customer.id}/tags",
        data={"target": f"tag:{tag.id}", "operation": "add", "csrf_token": session.csrf},
    )
    assert tagged.status_code == 303
    assert "重点维护" in client.get(f"/customers/{customer.id}/sections/tags").text
    shown = client.post(
        f"/customers/{customer.id}/reveal",
        # What the form posts: the masked value comes along so an error can redraw it.
        data={
            "field": "mobile",
            "masked": "136****3333",
            "reason": "confirm the visit",
            "csrf_token": session.csrf,
        },
    )
    assert "13600003333" in shown.text
    assert db.execute(
        select(AuditEvent).where(AuditEvent.action == "unmask", AuditEvent.entity_id == str(customer.id))
    ).scalar_one()


def test_the_360_page_adds_the_customer_to_one_of_my_lists(
    signed_in, client: TestClient, make_customer, db: Session, as_user
) -> None:  # type: ignore[no-untyped-def]
    customer = make_customer(name="林黛玉")
    mine = tags.create_group(db, as_user("rm.zhang"), data=GroupIn(name="春节回访"))
    session = signed_in("rm.zhang")
    assert (
        f'<option value="group:{mine.id}">春节回访</option>' in client.get(f"/customers/{customer.id}").text
    )
    added = client.post(
        f"/customers/{customer.id}/tags",
        data={"target": f"group:{mine.id}", "operation": "add", "csrf_token": session.csrf},
    )
    assert added.status_code == 303
    assert "春节回访" in client.get(f"/customers/{customer.id}/sections/tags").text


def test_merge_through_the_pages_needs_a_second_user(signed_in, client: TestClient, make_customer) -> None:  # type: ignore[no-untyped-def]
    first = make_customer(name="王熙凤", mobile="13500004444")
    second = make_customer(name="王熙凤", mobile="13500005555")
    maker = signed_in("rm.zhang")
    compare = client.get(
        "/customers/merges/new", params=[("customer_ids", first.id), ("customer_ids", second.id)]
    )
    assert compare.status_code == 200
    assert 'data-testid="merge-compare"' in compare.text
    filed = client.post(
        "/customers/merges/new",
        data={
            "ids": [str(first.id), str(second.id)],
            "survivor_id": str(first.id),
            "choose_mobile": str(second.id),
            "reason": "same person",
            "csrf_token": maker.csrf,
        },
    )
    assert filed.status_code == 303, filed.text
    review_url = filed.headers["location"]
    checker = signed_in("sbm.haidian")
    review = client.get(review_url)
    assert 'data-testid="approve-merge"' in review.text
    version = review.text.split('name="version" value="')[1].split('"')[0]
    approved = client.post(
        review_url + "/decision", data={"decision": "approve", "version": version, "csrf_token": checker.csrf}
    )
    assert approved.status_code == 303
    assert "已批准" in client.get(review_url).text
    assert client.get(f"/api/v1/customers/{second.id}").json()["status"] == "merged"


def test_decisions_out_of_scope_are_404_pages_and_the_makers_own_a_403_page(
    signed_in, client: TestClient, make_customer, as_user, db: Session
) -> None:  # type: ignore[no-untyped-def]
    """Not a redirect with a message: a record outside the scope does not exist, and a missing right
    is refused, on the pages as in the API."""
    from bankcrm.customers.schemas import HandoverIn, MergeRequestIn
    from bankcrm.customers.service import merge, portfolio
    from tests.customers.conftest import user_id

    far = [make_customer("rm.liu", name="远方客户") for _ in range(2)]
    near = [make_customer("rm.zhang", name="近处客户") for _ in range(2)]
    liu, sbm = as_user("rm.liu"), as_user("sbm.haidian")
    far_merge = merge.request_merge(
        db, liu, data=MergeRequestIn(survivor_id=far[0].id, merged_ids=[far[1].id], reason="同一个人")
    )
    own_merge = merge.request_merge(
        db, sbm, data=MergeRequestIn(survivor_id=near[0].id, merged_ids=[near[1].id], reason="同一个人")
    )
    far_handover = portfolio.request_handover(
        db,
        liu,
        data=HandoverIn(
            from_rm_id=user_id(db, "rm.liu"), to_rm_id=user_id(db, "rm.zhang"), reason="调岗交接"
        ),
    )
    own_handover = portfolio.request_handover(
        db,
        sbm,
        data=HandoverIn(
            from_rm_id=user_id(db, "rm.zhang"), to_rm_id=user_id(db, "rm.chen"), reason="调岗交接"
        ),
    )
    checker = signed_in("sbm.haidian")
    for merge_id, status in ((far_merge.id, 404), (own_merge.id, 403), (987654, 404)):
        answer = client.post(
            f"/customers/merges/{merge_id}/decision",
            data={"decision": "approve", "version": "1", "csrf_token": checker.csrf},
        )
        assert answer.status_code == status, merge_id
    for handover_id, status in ((far_handover.id, 404), (own_handover.id, 403), (987654, 404)):
        answer = client.post(
            f"/customers/handovers/{handover_id}/decision",
            data={"decision": "approve", "note": "同意", "csrf_token": checker.csrf},
        )
        assert answer.status_code == status, handover_id
    refused = client.post(  # a rule still explains itself on the page
        f"/customers/merges/{own_merge.id}/decision", data={"decision": "reject", "csrf_token": checker.csrf}
    )
    assert refused.status_code == 303


def test_export_is_permissioned_audited_and_names_the_exporter(
    signed_in,
    client: TestClient,
    make_customer,  # type: ignore[no-untyped-def]
    db: Session,
) -> None:
    make_customer(name="刘姥姥", mobile="13400006666")
    rm = signed_in("rm.zhang")
    assert client.post("/customers/export", data={"csrf_token": rm.csrf}).status_code == 403
    manager = signed_in("sbm.haidian")
    export = client.post("/customers/export", data={"q": "刘姥姥", "csrf_token": manager.csrf})
    assert export.status_code == 200
    rows = list(csv.reader(io.StringIO(export.text.lstrip("\ufeff"))))
    assert rows[0][0].startswith("# exported by sbm.haidian")
    assert rows[2][1] == "刘姥姥"
    assert "134****6666" in rows[2]
    assert db.execute(
        select(AuditEvent).where(AuditEvent.action == "export", AuditEvent.entity_type == "customer")
    ).scalar_one()


def test_bulk_tagging_from_a_search_result(
    signed_in, client: TestClient, make_customer, db: Session, as_user
) -> None:  # type: ignore[no-untyped-def]
    people = [make_customer(name=f"批量{i}") for i in range(3)]
    tag = tags.create_tag(db, as_user("admin"), data=TagIn(code="spring", name="春节走访"))
    session = signed_in("rm.zhang")
    done = client.post(
        "/customers/bulk",
        data={
            "customer_ids": [str(p.id) for p in people],
            "target": f"tag:{tag.id}",
            "operation": "add",
            "back": "/customers?q=批量",
            "csrf_token": session.csrf,
        },
    )
    assert done.status_code == 303
    tagged = client.get("/api/v1/customers", params={"tag_id": tag.id}).json()
    assert tagged["total"] == 3


def test_handover_pages(signed_in, client: TestClient, make_customer, db: Session) -> None:  # type: ignore[no-untyped-def]
    from tests.customers.conftest import user_id

    make_customer("rm.zhang", name="移交客户")
    maker = signed_in("sbm.haidian")
    asked = client.post(
        "/customers/handovers",
        data={
            "from_rm_id": user_id(db, "rm.zhang"),
            "to_rm_id": user_id(db, "rm.chen"),
            "reason": "parental leave",
            "csrf_token": maker.csrf,
        },
    )
    assert asked.status_code == 303, asked.text
    checker = signed_in("bm.beijing")
    page = client.get("/customers/handovers")
    handover_id = page.text.split("/customers/handovers/")[1].split("/")[0]
    decided = client.post(
        f"/customers/handovers/{handover_id}/decision",
        data={"decision": "approve", "note": "ok", "csrf_token": checker.csrf},
    )
    assert decided.status_code == 303
    signed_in("rm.chen")
    assert client.get("/api/v1/customers", params={"mine": True}).json()["total"] == 1


def test_360_actions_consent_dnc_relationship_and_assistant(
    signed_in,
    client: TestClient,
    make_customer,  # type: ignore[no-untyped-def]
    db: Session,
) -> None:
    from tests.customers.conftest import user_id

    person = make_customer(name="史湘云")
    partner = make_customer(name="卫若兰")
    session = signed_in("rm.zhang")
    base = f"/customers/{person.id}"
    assert (
        client.post(
            f"{base}/consents",
            data={"channel": "sms", "granted": "false", "source": "phone call", "csrf_token": session.csrf},
        ).status_code
        == 303
    )
    assert client.get(f"/api/v1/customers/{person.id}/360").json()["consents"][0]["granted"] is False
    assert (
        client.post(
            f"{base}/do-not-contact",
            data={"do_not_contact": "true", "reason": "asked on the phone", "csrf_token": session.csrf},
        ).status_code
        == 303
    )
    assert "do_not_contact" in client.get(f"/api/v1/customers/{person.id}").json()["flags"]
    added = client.post(
        f"{base}/relationships",
        data={"kind": "spouse", "customer_no": partner.customer_no, "csrf_token": session.csrf},
    )
    assert added.status_code == 303
    links = client.get(f"/api/v1/customers/{person.id}/relationships").json()
    assert [(link["kind"], link["other_customer_id"]) for link in links] == [("spouse", partner.id)]
    missing = client.post(
        f"{base}/relationships",
        data={"kind": "spouse", "customer_no": "C9999999999", "csrf_token": session.csrf},
    )
    assert missing.status_code == 303  # back to the page with the reason in a flash message
    helper = client.post(
        f"{base}/assistants", data={"user_id": user_id(db, "sbm.haidian"), "csrf_token": session.csrf}
    )
    assert helper.status_code == 303
    roles = {
        (a["user_name"], a["role"]) for a in client.get(f"/api/v1/customers/{person.id}/assignments").json()
    }
    assert ("赵支行长", "assistant") in roles


def test_linking_from_a_customer_outside_the_scope_is_a_404_page(
    signed_in, client: TestClient, make_customer
) -> None:  # type: ignore[no-untyped-def]
    """Whatever number is typed, the customer of the page is checked first."""
    theirs = make_customer("rm.liu", name="别人的客户")
    mine = make_customer("rm.zhang", name="自己的客户")
    rm = signed_in("rm.zhang")
    for other in ("C0000000000", mine.customer_no):
        answer = client.post(
            f"/customers/{theirs.id}/relationships",
            data={"customer_no": other, "kind": "household", "csrf_token": rm.csrf},
        )
        assert answer.status_code == 404, other


def test_corporate_contacts_replace_the_legal_representative(
    signed_in, client: TestClient, make_customer
) -> None:  # type: ignore[no-untyped-def]
    from tests.customers.conftest import uscc

    company = make_customer(
        kind="corporate",
        name="金陵织造有限公司",
        id_type="uscc",
        id_number=uscc("91320100MA1XYQAB1"),
        mobile=None,
    )
    session = signed_in("rm.zhang")
    for name in ("甄士隐", "贾雨村"):
        done = client.post(
            f"/customers/{company.id}/corporate-contacts",
            data={"role": "legal_rep", "name": name, "mobile": "13800138000", "csrf_token": session.csrf},
        )
        assert done.status_code == 303
    contacts = client.get(f"/api/v1/customers/{company.id}/corporate-contacts").json()
    current = [c["name"] for c in contacts if c["valid_to"] is None]
    assert current == ["贾雨村"]
    assert all(c["mobile"] == "138****8000" for c in contacts)
    individual = make_customer(name="个人客户")
    refused = client.post(
        f"/api/v1/customers/{individual.id}/corporate-contacts", json={"role": "finance", "name": "某人"}
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["rule"] == "contact.corporate_only"


def test_lists_and_tag_catalogue_page(signed_in, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    rm = signed_in("rm.zhang")
    assert (
        client.post("/customers/lists", data={"name": "重阳节慰问", "csrf_token": rm.csrf}).status_code == 303
    )
    assert "重阳节慰问" in client.get("/customers/lists").text
    assert (
        client.post("/customers/tags", data={"code": "x", "name": "y", "csrf_token": rm.csrf}).status_code
        == 403
    )
    admin = signed_in("admin")
    bad = client.post("/customers/tags", data={"code": "Bad Code", "name": "坏", "csrf_token": admin.csrf})
    assert bad.status_code == 422
    made = client.post(
        "/customers/tags",
        data={"code": "pension-plan", "name": "养老规划", "category": "preference", "csrf_token": admin.csrf},
    )
    assert made.status_code == 303
    assert "pension-plan" in client.get("/customers/lists").text
