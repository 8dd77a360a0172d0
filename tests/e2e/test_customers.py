"""A relationship manager's day with customers, in a real browser: find, look, log, tag, merge.

Each test runs in Chinese and in English; the English run also checks the application's own text on
every page it photographs has no Chinese in it (customer data may be Chinese: it is removed first).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Locator, expect

from bankcrm.core.config import Settings
from bankcrm.core.formatting import business_today
from tests.e2e.conftest import Browsing, LiveServer
from tests.e2e.customer_world import (
    DUPLICATES,
    LISTS,
    LONG_CORPORATE,
    SAME_LAST4,
    SAME_SURNAME,
    SEARCHED,
    TAGS,
    customer_id,
    customer_server,
    look,
    open_360,
    t,
    wait_for_sections,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live_server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Every browser of this module talks to the server with the customers of customer_world."""
    with customer_server(settings, tmp_path_factory.mktemp("customer-lake")) as server:
        yield server


def search(ui: Browsing, query: str) -> Locator:
    """Type into the customer list's search box as a person would; the table is swapped in by HTMX."""
    box = ui.page.locator("#cq")
    box.fill(query)
    with ui.page.expect_response(lambda response: "/customers?" in response.url):
        box.press("Enter")
    expect(ui.page).to_have_url(re.compile(r"[?&]q="))
    return ui.page.get_by_test_id("customer-table").locator("tbody tr")


def test_rm_finds_a_customer_by_initials_name_and_last_four_digits_then_reveals_the_mobile(
    ui: Browsing,
) -> None:
    ui.sign_in("rm.zhang")
    ui.goto("/customers")

    rows = search(ui, "smyt")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(SEARCHED.name)

    rows = search(ui, "司马")
    expect(rows).to_have_count(3)
    for name in (SEARCHED.name, SAME_SURNAME.name, LONG_CORPORATE):
        expect(rows.filter(has_text=name)).to_have_count(1)
    # A long name is cut in the table and whole on hover.
    expect(rows.get_by_role("link", name=LONG_CORPORATE).locator(".cell-truncate")).to_have_attribute(
        "title", LONG_CORPORATE
    )
    # Mobiles are masked in the list, in their usual shape.
    expect(rows.filter(has_text=SEARCHED.name)).to_contain_text("138****5678")
    expect(ui.page.get_by_test_id("customer-table")).not_to_contain_text(SEARCHED.mobile)
    look(ui, "search-results")

    rows = search(ui, "5678")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text=SAME_LAST4.name)).to_have_count(1)

    rows = search(ui, "司马 5678")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(SEARCHED.name)

    with ui.page.expect_navigation():
        rows.first.get_by_role("link", name=SEARCHED.name).click()
    expect(ui.page).to_have_url(ui.server.at(f"/customers/{customer_id(ui.server, SEARCHED.name)}"))
    header = ui.page.get_by_test_id("customer-header")
    expect(ui.page.get_by_test_id("customer-name")).to_contain_text(SEARCHED.name)
    wait_for_sections(ui)
    mobile = header.locator("[data-masked-field=mobile]")
    expect(mobile.locator(".masked-value")).to_have_text("138****5678")
    expect(header.locator("[data-masked-field=id_number] .masked-value")).to_have_text(
        re.compile(r"^110\*+\d{3}[\dX]$")
    )
    expect(ui.page.locator("body")).not_to_contain_text(SEARCHED.mobile)
    contacts = ui.page.locator("#section-contacts")
    expect(contacts).to_contain_text("138****5678")
    expect(contacts).to_contain_text("s***@example.com")
    expect(contacts).not_to_contain_text(SEARCHED.email or "")
    look(ui, "360")

    mobile.locator("summary").click()
    reason = mobile.locator("input[name=reason]")
    expect(reason).to_be_visible()
    expect(mobile.locator("label")).to_have_text(t(ui, "Why do you need to see it? (recorded)"))
    mobile.locator("button[type=submit]").click()  # no reason: the browser refuses, nothing is sent
    expect(mobile.locator(".masked-value")).to_have_text("138****5678")
    reason.fill(f"核实客户来电身份 e2e {ui.locale}")
    with ui.page.expect_response(re.compile(r"/customers/\d+/reveal$")):
        mobile.locator("button[type=submit]").click()
    revealed = header.locator("[data-revealed=true]")
    expect(revealed.locator(".masked-value")).to_have_text(SEARCHED.mobile)
    expect(revealed).to_contain_text(t(ui, "Shown, audited"))
    # Only that field of that customer: the ID number stays masked.
    expect(header.locator("[data-masked-field=id_number] .masked-value")).to_contain_text("*")
    ui.screenshot("revealed")


INTERACTIONS = {
    "zh_CN": ("到网点面谈，客户关注子女教育金与养老规划", "下周二前发送教育金配置方案"),
    "en": ("Met at the branch: education fund and pension planning", "Send the education fund proposal"),
}


def test_rm_logs_an_interaction_that_shows_on_the_timeline_and_as_a_follow_up_at_home(ui: Browsing) -> None:
    summary, next_step = INTERACTIONS[ui.locale]
    follow_up = business_today() + timedelta(days=1)
    ui.sign_in("rm.zhang")
    open_360(ui, SEARCHED.name)

    ui.page.get_by_test_id("log-interaction").click()
    form = ui.page.get_by_test_id("interaction-form")
    expect(form).to_be_visible()
    form.locator("#f-kind").select_option("visit")
    form.locator("#f-channel").select_option("branch")
    form.locator("#f-next_step").fill(next_step)
    form.locator("#f-follow_up_on").fill(follow_up.isoformat())

    # Without a summary the server refuses: the 360 page comes back with the form open, the error
    # next to the field and everything typed still there.
    ui.submit("[data-testid=interaction-form] button[type=submit]")
    form = ui.page.get_by_test_id("interaction-form")
    expect(form).to_be_visible()
    expect(form.locator("#f-summary")).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(form.locator("#f-summary + .invalid-feedback")).to_be_visible()
    expect(form.locator("#f-kind")).to_have_value("visit")
    expect(form.locator("#f-channel")).to_have_value("branch")
    expect(form.locator("#f-next_step")).to_have_value(next_step)
    expect(form.locator("#f-follow_up_on")).to_have_value(follow_up.isoformat())
    expect(ui.page.get_by_test_id("customer-name")).to_contain_text(SEARCHED.name)

    form.locator("#f-summary").fill(summary)
    look(ui, "interaction-form")
    ui.submit("[data-testid=interaction-form] button[type=submit]")

    expect(ui.page.get_by_test_id("flash")).to_have_text(t(ui, "Interaction logged."))
    timeline = ui.page.get_by_test_id("section-timeline")
    entry = timeline.locator(".timeline-item", has_text=summary)
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text(t(ui, "Visit"))
    expect(entry).to_contain_text(t(ui, "Branch outlet"))
    # Changes to the record read as words, not as audit codes and column names.
    created = timeline.locator(".timeline-item", has=ui.page.locator("[data-action=create]"))
    expect(created.locator("[data-action=create]")).to_have_text(t(ui, "Created"))
    expect(created.get_by_test_id("changed-fields")).to_contain_text(t(ui, "Relationship manager"))
    expect(created.get_by_test_id("changed-fields")).not_to_contain_text("primary_rm_id")
    wait_for_sections(ui)
    look(ui, "timeline")

    ui.goto("/")
    due = ui.page.get_by_test_id("w-followups").locator("li", has_text=next_step)
    expect(due).to_have_count(1)
    expect(due).to_contain_text(SEARCHED.name)
    expect(due).to_contain_text(follow_up.isoformat())
    look(ui, "home-follow-up")


def test_rm_tags_a_customer_and_adds_them_to_a_list_from_the_360_page(ui: Browsing) -> None:
    _code, tag = TAGS[ui.locale]
    listed = LISTS[ui.locale]
    ui.sign_in("rm.zhang")
    open_360(ui, SEARCHED.name)
    add = "details.action-block form[action$='/tags']"

    ui.page.get_by_test_id("add-tag").click()
    ui.page.locator("#tag-target").select_option(label=tag)
    ui.submit(f"{add} button[type=submit]")
    expect(ui.page.get_by_test_id("flash")).to_have_text(t(ui, "Saved."))
    tags = ui.page.get_by_test_id("section-tags")
    expect(tags.locator(".badge", has_text=tag)).to_have_count(1)

    ui.page.get_by_test_id("add-tag").click()
    ui.page.locator("#tag-target").select_option(label=listed)
    ui.submit(f"{add} button[type=submit]")
    expect(ui.page.get_by_test_id("flash")).to_have_text(t(ui, "Saved."))
    tags = ui.page.get_by_test_id("section-tags")
    expect(tags).to_contain_text(t(ui, "In my lists:"))
    expect(tags.locator(".badge", has_text=listed)).to_have_count(1)
    # The timeline names the tag that was set, not only that a tag was.
    timeline = ui.page.get_by_test_id("section-timeline")
    tagged = timeline.locator(".timeline-item", has=ui.page.locator("[data-action=tag]"))
    expect(tagged.get_by_test_id("change-subject").first).to_have_text(tag)
    wait_for_sections(ui)
    look(ui, "tagged")

    # The tag finds the customer in the list of customers.
    ui.goto("/customers")
    ui.page.locator("#ctag").select_option(label=tag)
    rows = ui.page.get_by_test_id("customer-table").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(SEARCHED.name)


def test_a_merge_filed_by_one_manager_is_approved_by_another_and_the_duplicate_points_to_the_survivor(
    open_browser: Callable[..., Browsing], locale: str
) -> None:
    first, second = DUPLICATES[locale]
    maker = open_browser(locale)
    first_id = customer_id(maker.server, first.name, mobile=first.mobile)
    second_id = customer_id(maker.server, second.name, mobile=second.mobile)
    # The sub-branch manager may approve merges, which makes refusing their own request meaningful.
    maker.sign_in("sbm.haidian")
    maker.goto("/customers")
    rows = search(maker, first.name)
    expect(rows).to_have_count(2)
    for number in (first_id, second_id):
        rows.locator(f"input[name=customer_ids][value='{number}']").check()
    maker.submit("[data-merge-button]")

    expect(maker.page).to_have_url(re.compile(r"/customers/merges/new\?"))
    compare = maker.page.get_by_test_id("merge-compare")
    expect(compare.locator("input[name=survivor_id]")).to_have_count(2)
    # Coded values read as words: the gender is "Female", not "F".
    expect(compare.locator("tbody tr", has_text=t(maker, "Gender"))).to_contain_text(
        t(maker, "Female" if first.female else "Male")
    )
    # The second record survives, keeping the first one's mobile and its own occupation.
    compare.locator(f"input[name=survivor_id][value='{second_id}']").check()
    # Values the maker has not picked follow the survivor, so changing it keeps no stale choice.
    expect(compare.locator(f"input[name=choose_mobile][value='{second_id}']")).to_be_checked()
    compare.locator(f"input[name=choose_mobile][value='{first_id}']").check()
    compare.locator(f"input[name=choose_occupation][value='{second_id}']").check()
    compare.locator(f"input[name=choose_income_band][value='{second_id}']").check()
    maker.page.locator("[name=reason]").fill("同一客户在两个网点各开一户 / one person, two records")
    look(maker, "merge-comparison")
    maker.submit("[data-testid=submit-merge]")

    expect(maker.page).to_have_url(re.compile(r"/customers/merges/\d+$"))
    merge_url = maker.page.url
    expect(maker.page.get_by_test_id("flash")).to_have_text(
        t(maker, "Merge request filed; another authorised user must approve it.")
    )
    expect(maker.page.get_by_test_id("merge-status")).to_have_text(t(maker, "Pending"))
    expect(maker.page.locator(".alert-info")).to_have_text(
        t(maker, "You filed this request, so another authorised user must decide it.")
    )
    expect(maker.page.get_by_test_id("approve-merge")).to_have_count(0)
    look(maker, "merge-filed")

    # Approving anyway, by posting the decision the page does not offer, is refused and says why.
    csrf = maker.page.locator("body").get_attribute("data-csrf")
    forced = maker.page.request.post(
        merge_url + "/decision",
        form={"csrf_token": csrf or "", "decision": "approve", "version": "1"},
        max_redirects=0,
    )
    assert forced.status == 403
    assert t(maker, "The maker of a merge request cannot approve it; another authorised user must.") in (
        forced.text()
    )
    maker.page.reload()
    expect(maker.page.get_by_test_id("merge-status")).to_have_text(t(maker, "Pending"))

    checker = open_browser(locale)
    checker.sign_in("bm.beijing")
    checker.goto("/customers/merges")
    merge_id = merge_url.rsplit("/", 1)[1]
    checker.submit(f"[data-testid=merge-table] a[href='/customers/merges/{merge_id}']")
    review = checker.page.get_by_test_id("merge-review")
    mobile_row = review.locator("tbody tr", has_text=t(checker, "Mobile"))
    expect(mobile_row.locator("td.table-success")).to_have_text(f"{first.mobile[:3]}****{first.mobile[-4:]}")
    expect(checker.page.get_by_test_id("approve-merge")).to_be_visible()
    look(checker, "merge-approval")
    checker.submit("[data-testid=approve-merge]")

    expect(checker.page.get_by_test_id("flash")).to_have_text(t(checker, "Merge approved."))
    expect(checker.page.get_by_test_id("merge-status")).to_have_text(t(checker, "Approved"))

    # The merged record still opens, says so, and leads to the survivor with the chosen values.
    checker.goto(f"/customers/{first_id}")
    expect(checker.page.locator("[data-flag=merged]")).to_be_visible()
    checker.submit(f"[data-testid=customer-flags] a[href='/customers/{second_id}']")
    expect(checker.page).to_have_url(checker.server.at(f"/customers/{second_id}"))
    header = checker.page.get_by_test_id("customer-header")
    expect(header.locator("[data-masked-field=mobile] .masked-value")).to_have_text(
        f"{first.mobile[:3]}****{first.mobile[-4:]}"
    )
    wait_for_sections(checker)
    # The survivor's own history says it took the duplicate in, and which of its fields changed.
    timeline = checker.page.get_by_test_id("section-timeline")
    absorbed = timeline.locator(".timeline-item", has=checker.page.locator("[data-action=absorb]"))
    expect(absorbed.locator("[data-action=absorb]")).to_have_text(t(checker, "Duplicates merged into it"))
    expect(absorbed.get_by_test_id("changed-fields")).to_contain_text(t(checker, "Mobile"))
    look(checker, "survivor")
