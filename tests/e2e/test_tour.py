"""Every page at the two screen sizes of UI.md, in both languages, with plain and crowded data.

The screenshots under test-artifacts/screenshots/ are for people to look at; the assertions catch
what a person would notice first: a page wider than the screen, a table that needs a scroll bar.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy.orm import Session

from bankcrm.core.config import Settings
from bankcrm.core.context import Actor
from bankcrm.demo import seed
from bankcrm.identity.models import OrgUnit, User
from bankcrm.identity.service import orgs, users
from bankcrm.web.security import LOCALE_COOKIE
from tests.e2e.conftest import LOCALES, Browsing, LiveServer, new_browser_context, running_server
from tests.e2e.tour import LONG_NAME, LONG_REASON, LONG_UNIT, STOPS, Stop, record_id

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VIEWPORTS = {"1366": (1366, 768), "1920": (1920, 1080)}
CROWD = 66
CROWD_ROLES = ("relationship_manager", "service_agent", "marketing", "risk_officer", "analyst")
LONGEST_USERNAME = "crowd." + "very-long-username-" * 3


def _crowd(session: Session) -> None:
    """Sixty-odd more staff, some with the longest names the forms accept, in a long-named team."""
    actor = Actor.system("e2e")
    parent = orgs.find_unit_by_code(session, "BJ-HD")
    assert parent is not None
    team = orgs.bootstrap_org_unit(
        session,
        actor,
        code="BJ-HD-T9",
        name=LONG_UNIT,
        name_en="Zhongguancun Science Park Digital Finance and Wealth Management Integrated Service Team",
        kind="team",
        parent=parent,
    )
    assert len(LONGEST_USERNAME) <= 64
    for number in range(CROWD):
        users.bootstrap_user(
            session,
            actor,
            username=LONGEST_USERNAME if number == 0 else f"crowd.{number:03d}",
            display_name=LONG_NAME if number % 3 == 0 else f"员工{number:03d}号",
            password=seed.DEMO_PASSWORD,
            unit=team,
            role_code=CROWD_ROLES[number % len(CROWD_ROLES)],
            mobile=f"139{number:08d}",
            email=f"crowd.{number:03d}@example.com",
            employee_no=f"E{number:06d}",
        )


@pytest.fixture(scope="module")
def calm_server(settings: Settings) -> Iterator[LiveServer]:
    """Demo data only, so empty states look as a new installation's do."""
    with running_server(settings, "e2e_calm") as server:
        yield server


@pytest.fixture(scope="module")
def crowded_server(settings: Settings) -> Iterator[LiveServer]:
    with running_server(settings, "e2e_crowded", prepare=_crowd) as server:
        yield server


def assert_fits_the_screen(ui: Browsing, where: str) -> None:
    sizes = ui.page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert sizes[0] <= sizes[1], f"{where}: page is {sizes[0]}px wide on a {sizes[1]}px screen"


def assert_tables_fit(ui: Browsing, where: str) -> None:
    """Tables of the shell have few columns; none should need a horizontal scroll bar."""
    wide = ui.page.evaluate(
        """() => [...document.querySelectorAll('.table-responsive')]
             .filter(box => box.scrollWidth > box.clientWidth + 1)
             .map(box => (box.querySelector('table') || box).dataset.testid || box.className)"""
    )
    assert not wide, f"{where}: tables wider than their card: {wide}"


Person = tuple[str, str | None]  # (server url, demo login or None for a visitor)


@pytest.fixture(scope="module")
def people(browser: Browser) -> Iterator[dict[Person, Browsing]]:
    """Signed-in browsers kept for the whole tour: signing in once per person, not once per screen size."""
    kept: dict[Person, Browsing] = {}
    yield kept
    for ui in kept.values():
        ui.page.context.close()


class Tour:
    """Walks stops as the right person, at one language and screen size, and looks at each page."""

    def __init__(
        self,
        people: dict[Person, Browsing],
        browser: Browser,
        server: LiveServer,
        locale: str,
        size: str,
        test: str,
    ) -> None:
        self.people = people
        self.browser = browser
        self.server = server
        self.locale = locale
        self.size = size
        self.test = test

    def browser_for(self, who: str | None) -> Browsing:
        key = (self.server.url, who)
        if key not in self.people:
            context = new_browser_context(self.browser, self.server, self.locale, VIEWPORTS[self.size])
            ui = Browsing(
                page=context.new_page(), locale=self.locale, server=self.server, test_name=self.test
            )
            if who is not None:
                ui.sign_in(who)
            self.people[key] = ui
        ui = self.people[key]
        width, height = VIEWPORTS[self.size]
        ui.page.set_viewport_size({"width": width, "height": height})
        ui.page.context.add_cookies([{"name": LOCALE_COOKIE, "value": self.locale, "url": self.server.url}])
        ui.locale = self.locale
        ui.test_name = self.test
        return ui

    def look(self, stop: Stop) -> Browsing:
        ui = self.browser_for(stop.who)
        try:
            stop.visit(ui)
        finally:
            # What a person sees at this screen size: the top, and the end after scrolling (sticky header).
            ui.screenshot(f"{stop.name}-{self.size}", full_page=False)
        if ui.page.evaluate("() => document.documentElement.scrollHeight > window.innerHeight * 1.2"):
            ui.page.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight)")
            ui.screenshot(f"{stop.name}-{self.size}-end", full_page=False)
            ui.page.evaluate("() => window.scrollTo(0, 0)")
        where = f"{stop.name} ({self.locale}, {self.size})"
        assert not ui.problems, f"{where}: the browser saw errors: {ui.problems}"
        assert_fits_the_screen(ui, where)
        assert_tables_fit(ui, where)
        return ui


@pytest.mark.parametrize("size", sorted(VIEWPORTS))
@pytest.mark.parametrize("locale", LOCALES)
def test_every_page_fits(
    people: dict[Person, Browsing], browser: Browser, calm_server: LiveServer, locale: str, size: str
) -> None:
    tour = Tour(people, browser, calm_server, locale, size, "test_every_page_fits")
    for stop in STOPS:
        tour.look(stop)


def _go(path: str) -> Callable[[Browsing], None]:
    def visit(ui: Browsing) -> None:
        ui.goto(path)

    return visit


@pytest.mark.parametrize("size", sorted(VIEWPORTS))
@pytest.mark.parametrize("locale", LOCALES)
def test_crowded_pages_fit(
    people: dict[Person, Browsing], browser: Browser, crowded_server: LiveServer, locale: str, size: str
) -> None:
    tour = Tour(people, browser, crowded_server, locale, size, "test_crowded_pages_fit")
    long_user = record_id(crowded_server, User, username=LONGEST_USERNAME)
    other_user = record_id(crowded_server, User, username=f"crowd.{CROWD - 1:03d}")

    ui = tour.look(Stop("crowded-users", "admin", _go("/admin/users")))
    expect(ui.page.get_by_test_id("pager")).to_contain_text(str(CROWD + len(seed.DEMO_USERS)))
    tour.look(Stop("crowded-users-last", "admin", _go("/admin/users?page=4&sort=-display_name")))
    tour.look(Stop("crowded-user", "admin", _go(f"/admin/users/{long_user}")))
    tour.look(Stop("crowded-user-edit", "admin", _go(f"/admin/users/{long_user}/edit")))
    tour.look(Stop("crowded-units", "admin", _go("/admin/org-units")))
    long_unit = record_id(crowded_server, OrgUnit, code="BJ-HD-T9")
    tour.look(Stop("crowded-unit", "admin", _go(f"/admin/org-units/{long_unit}")))

    def disable_with_a_long_reason(ui: Browsing) -> None:
        ui.goto(f"/admin/users/{other_user}")
        if ui.page.locator("form[action$='/disable']").count():
            ui.page.locator("details.action-block summary").first.click()
            ui.page.locator("form[action$='/disable'] input[name=reason]").fill(LONG_REASON[:480])
            ui.submit("form[action$='/disable'] button[type=submit]")
        ui.goto("/admin/audit")

    tour.look(Stop("crowded-audit", "admin", disable_with_a_long_reason, changes_data=True))
    tour.look(Stop("crowded-home", "admin", _go("/")))
