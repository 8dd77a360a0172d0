"""Administration as an administrator does it: create and disable a user, reveal a number, read the trail."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from bankcrm.core.i18n import translate
from bankcrm.demo import seed
from bankcrm.identity.models import OrgUnit, User
from tests.e2e.conftest import Browsing
from tests.e2e.tour import record_id

pytestmark = pytest.mark.browser

INITIAL_PASSWORD = "Kx9#mPq2-Lw7v!"


def test_admin_creates_a_user_then_disables_them(ui: Browsing) -> None:
    username = "e2e.new." + ui.locale.lower().replace("_", "-")
    display_name = "测试新用户" if ui.locale == "zh_CN" else "Test New User"
    ui.sign_in("admin")
    ui.goto("/admin/users")
    ui.submit("a[href='/admin/users/new']")
    expect(ui.page).to_have_url(ui.server.at("/admin/users/new"))

    # First with a username the rules refuse: the error sits next to that field, the rest is kept.
    ui.page.locator("#f-username").fill("Not Valid")
    ui.page.locator("#f-display_name").fill(display_name)
    ui.page.locator("#f-role").select_option("relationship_manager")
    ui.page.locator("#f-org_unit_id").select_option(str(record_id(ui.server, OrgUnit, code="BJ-HD-T1")))
    ui.page.locator("#f-password").fill(INITIAL_PASSWORD)
    ui.submit("form[action='/admin/users/new'] button[type=submit]")

    username_error = ui.page.locator("[data-field-error=username]")
    expect(username_error).to_have_text(translate(ui.locale, "The format is not valid."))
    expect(ui.page.locator("#f-username")).to_have_attribute("aria-invalid", "true")
    expect(ui.page.locator("#f-username")).to_have_attribute(
        "aria-describedby", re.compile(r"\be-username\b")
    )
    expect(ui.page.locator("#f-display_name")).to_have_value(display_name)
    expect(ui.page.locator("#f-role")).to_have_value("relationship_manager")
    expect(ui.page.locator("[data-field-error]")).to_have_count(1)
    ui.screenshot("validation")

    ui.page.locator("#f-username").fill(username)
    ui.page.locator("#f-password").fill(INITIAL_PASSWORD)  # a password is never sent back to the form
    ui.submit("form[action='/admin/users/new'] button[type=submit]")

    expect(ui.page).to_have_url(re.compile(r"/admin/users/\d+$"))
    expect(ui.page.get_by_test_id("flash")).to_have_text(
        translate(ui.locale, "User %(name)s created.", {"name": username})
    )
    expect(ui.page.get_by_test_id("user-title")).to_contain_text(display_name)
    expect(ui.page.locator(".page-header .badge").first).to_have_text(translate(ui.locale, "Active"))
    ui.screenshot("created")

    disable = ui.page.locator("form[action$='/disable']")
    ui.page.locator("details.action-block > summary", has_text=translate(ui.locale, "Disable user")).click()
    expect(disable.locator("input[name=reason]")).to_be_visible()
    disable.locator("input[name=reason]").fill("离职 / left the bank")
    ui.submit("form[action$='/disable'] button[type=submit]")

    expect(ui.page.get_by_test_id("flash")).to_have_text(
        translate(ui.locale, "User disabled; their sessions and API tokens have ended.")
    )
    expect(ui.page.locator(".page-header .badge").first).to_have_text(translate(ui.locale, "Disabled"))
    expect(ui.page.locator("form[action$='/enable']")).to_have_count(1)
    ui.screenshot("disabled")

    ui.goto(f"/admin/users?q={username}&active=false")
    expect(ui.page.get_by_test_id("users-table").locator("tbody tr")).to_have_count(1)
    expect(ui.page.get_by_test_id("users-table")).to_contain_text(username)


def test_revealing_a_mobile_number_asks_for_a_reason_and_is_audited(ui: Browsing) -> None:
    # rm.liu's number is revealed only here, so the trail's unmask rows for this user are this test's.
    user_id = record_id(ui.server, User, username="rm.liu")
    reason = f"客户回访核实 e2e {ui.locale}"
    ui.sign_in("admin")
    ui.goto(f"/admin/users/{user_id}")
    mobile = ui.page.get_by_test_id("user-mobile")
    expect(mobile.locator(".masked-value")).to_have_text("136****2222")
    expect(mobile).not_to_contain_text("13611112222")

    mobile.locator("summary").click()
    reason_input = mobile.locator("input[name=reason]")
    expect(reason_input).to_be_visible()
    expect(reason_input).to_have_attribute("required", "")
    expect(mobile.locator("label")).to_have_text(
        translate(ui.locale, "Why do you need to see it? (recorded)")
    )
    # An empty reason is refused before anything is sent; the number stays masked.
    mobile.locator("button[type=submit]").click()
    expect(mobile.locator(".masked-value")).to_have_text("136****2222")
    ui.screenshot("asked")

    reason_input.fill(reason)
    with ui.page.expect_response(f"**/admin/users/{user_id}/reveal"):
        mobile.locator("button[type=submit]").click()
    expect(mobile.locator("[data-revealed=true] .masked-value")).to_have_text("13611112222")
    expect(mobile).to_contain_text(translate(ui.locale, "Shown, audited"))
    ui.screenshot("shown")

    ui.submit(f"a[href='/admin/audit?entity_type=user&entity_id={user_id}']")
    rows = ui.page.get_by_test_id("audit-table").locator(
        "tbody tr", has=ui.page.locator("[data-action=unmask]")
    )
    expect(rows.filter(has_text=reason)).to_have_count(1)
    expect(rows.filter(has_text=reason)).to_contain_text(translate(ui.locale, "Unmasked"))
    ui.screenshot("trail")


def test_audit_trail_filters_by_action(ui: Browsing) -> None:
    ui.sign_in("admin")
    ui.goto("/admin/audit")
    table = ui.page.get_by_test_id("audit-table")
    expect(table.locator("[data-action=create]").first).to_be_visible()

    ui.page.locator("#action").select_option("login")
    ui.submit("form[role=search] button[type=submit]")

    expect(ui.page).to_have_url(re.compile(r"[?&]action=login(&|$)"))
    expect(ui.page.locator("#action")).to_have_value("login")
    actions = table.locator("tbody [data-action]")
    expect(actions.first).to_be_visible()
    assert set(actions.evaluate_all("nodes => nodes.map(n => n.dataset.action)")) == {"login"}
    expect(actions.first).to_have_text(translate(ui.locale, "Signed in"))
    ui.screenshot()

    ui.page.locator("#action").select_option("create")
    ui.page.locator("#entity_type").select_option("org_unit")
    ui.submit("form[role=search] button[type=submit]")
    rows = table.locator("tbody tr")
    expect(rows.first).to_be_visible()
    assert rows.count() >= len(seed.DEMO_UNITS)
    assert set(rows.locator("[data-action]").evaluate_all("nodes => nodes.map(n => n.dataset.action)")) == {
        "create"
    }
