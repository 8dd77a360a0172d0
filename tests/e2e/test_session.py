"""Signing in and out, the language switch and each role's home page, in a real browser."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from bankcrm.core.i18n import translate
from tests.e2e.conftest import Browsing

pytestmark = pytest.mark.browser

# Demo login -> (home kind, widgets that kind shows). Only the admin sees the live admin widgets.
LISTS = ("w-list-high_value", "w-list-potential", "w-list-at_risk")  # the lists for relationship managers
ROLE_HOMES = {
    "admin": ("admin", ("w-security", "w-org", "w-audit")),
    "exec": ("executive", ("w-kpi", "w-portfolio", "w-alerts")),
    "bm.beijing": ("manager", ("w-followups", "w-portfolio", "w-alerts", "w-funnel", *LISTS)),
    "sbm.haidian": ("manager", ("w-followups", "w-portfolio", "w-alerts", "w-funnel", *LISTS)),
    "rm.zhang": ("rm", ("w-followups", "w-alerts", "w-portfolio", *LISTS)),
    "mkt": ("marketing", ("w-portfolio", "w-campaigns", "w-segments")),
    "agent": ("agent", ("w-queue", "w-sla", "w-complaints")),
    "risk": ("risk", ("w-alerts", "w-large")),
    "analyst": ("analyst", ("w-reports",)),
}
ADMIN_ONLY_WIDGETS = ("w-security", "w-audit")


def test_admin_signs_in_and_sees_the_admin_home(ui: Browsing) -> None:
    ui.goto("/")
    expect(ui.page).to_have_url(ui.server.at("/login?next=/"))
    expect(ui.page.locator("h1")).to_have_text(translate(ui.locale, "Sign in to BankCRM"))

    ui.sign_in("admin")

    expect(ui.page).to_have_url(ui.server.at("/"))
    expect(ui.page.get_by_test_id("home-title")).to_have_attribute("data-home-kind", "admin")
    expect(ui.page.get_by_test_id("w-security")).to_be_visible()
    expect(ui.page.get_by_test_id("w-audit")).to_be_visible()
    expect(ui.page.get_by_test_id("w-audit").locator("tbody tr").first).to_be_visible()
    expect(ui.page.get_by_test_id("user-box")).to_contain_text("系统管理员")
    ui.screenshot()


def test_language_switch_changes_text_and_html_lang(open_browser: Callable[..., Browsing]) -> None:
    ui = open_browser("zh_CN")
    ui.sign_in("analyst")
    html = ui.page.locator("html")
    expect(html).to_have_attribute("lang", "zh-CN")
    expect(ui.page.get_by_test_id("logout")).to_have_text(translate("zh_CN", "Sign out"))
    ui.screenshot("before")

    ui.submit("form.lang-switch button[value=en]")
    expect(html).to_have_attribute("lang", "en")
    expect(ui.page).to_have_url(ui.server.at("/"))
    expect(ui.page.get_by_test_id("logout")).to_have_text("Sign out")
    expect(ui.page.get_by_test_id("home-title")).to_contain_text("Good day")
    ui.locale = "en"
    ui.screenshot("switched")

    ui.submit("form.lang-switch button[value=zh_CN]")
    expect(html).to_have_attribute("lang", "zh-CN")
    expect(ui.page.get_by_test_id("logout")).to_have_text("退出")
    expect(ui.page.get_by_test_id("home-title")).to_contain_text("您好")


def test_language_switch_on_the_login_page_keeps_the_form(open_browser: Callable[..., Browsing]) -> None:
    ui = open_browser("zh_CN")
    ui.goto("/login")
    ui.submit("button[name=locale][value=en]")
    expect(ui.page.locator("html")).to_have_attribute("lang", "en")
    expect(ui.page.locator("h1")).to_have_text("Sign in to BankCRM")
    expect(ui.page.locator("label[for=username]")).to_have_text("Username")


@pytest.mark.parametrize("username", sorted(ROLE_HOMES))
def test_each_role_home_shows_its_widgets(ui: Browsing, username: str) -> None:
    kind, widgets = ROLE_HOMES[username]
    ui.sign_in(username)
    expect(ui.page.get_by_test_id("home-title")).to_have_attribute("data-home-kind", kind)
    for widget in widgets:
        expect(ui.page.get_by_test_id(widget)).to_be_visible()
    if kind != "admin":
        for widget in ADMIN_ONLY_WIDGETS:
            expect(ui.page.get_by_test_id(widget)).to_have_count(0)
    ui.screenshot(username)


def test_failed_sign_in_shows_the_error_and_stays_signed_out(ui: Browsing) -> None:
    ui.goto("/login")
    ui.page.locator("#username").fill("nobody.here")
    ui.page.locator("#password").fill("not the password")
    ui.submit("form[action='/login'] button[type=submit]")

    error = ui.page.get_by_test_id("login-error")
    expect(error).to_have_text(translate(ui.locale, "Wrong username or password."))
    expect(ui.page.locator("#username")).to_have_value("nobody.here")
    expect(ui.page.locator("#password")).to_have_value("")
    expect(ui.page.get_by_test_id("user-box")).to_have_count(0)
    ui.screenshot()

    ui.goto("/")
    expect(ui.page).to_have_url(ui.server.at("/login?next=/"))


def test_sign_out_returns_to_the_login_page_with_a_message(ui: Browsing) -> None:
    ui.sign_in("rm.chen")
    ui.submit("[data-testid=logout]")

    expect(ui.page).to_have_url(ui.server.at("/login"))
    expect(ui.page.get_by_test_id("flash")).to_have_text(translate(ui.locale, "You have signed out."))
    ui.screenshot()

    ui.goto("/")
    expect(ui.page).to_have_url(ui.server.at("/login?next=/"))


def test_keyboard_users_see_where_they_are(ui: Browsing) -> None:
    ui.sign_in("bm.beijing")
    ui.page.keyboard.press("Tab")
    skip = ui.page.locator(".skip-link")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box is not None
    assert box["x"] >= 0, "the skip link must come into view when focused"
    ui.page.keyboard.press("Enter")
    expect(ui.page.locator("#main")).to_be_focused()

    # The next stop is the first link in the content, e.g. a widget's "open the list" link.
    ui.page.keyboard.press("Tab")
    expect(ui.page.locator("#main a:focus")).to_have_count(1)
    outline = ui.page.evaluate(
        "() => { const style = getComputedStyle(document.activeElement);"
        " return [style.outlineStyle, style.outlineWidth]; }"
    )
    assert outline[0] != "none", "the focused link has no visible outline"
    assert outline[1] not in ("0px", ""), "the focused link has no visible outline"
    ui.screenshot()
