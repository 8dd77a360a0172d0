"""A relationship manager starts the day with three lists on the home page, in a real browser:
high-value, potential and at-risk customers of their own portfolio, each with the reasons.

Runs in Chinese and in English; the English run also checks the application's own text has no
Chinese in it (customer names are removed first).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from bankcrm.core.config import Settings
from bankcrm.core.i18n import translate
from bankcrm.customers.models import Customer
from tests.conftest import principal_for
from tests.e2e.conftest import Browsing, LiveServer, running_server
from tests.e2e.test_i18n import chinese_in_chrome
from tests.e2e.test_tour import assert_fits_the_screen, assert_tables_fit
from tests.e2e.tour import user_data
from tests.segmentation.value_list_world import LONG_NAME, PLANTED, plant

pytestmark = pytest.mark.browser

# (message id, figures) of a reason per list, as the rules word them for the planted customers.
REASONS = {
    "high_value": ("RFM: important value (R%(r)s F%(f)s M%(m)s)", {"r": "5", "f": "4", "m": "5"}),
    "potential": (
        "%(gap)s below the VIP threshold, AUM up %(change)s in 3 months",
        {"gap": "¥38,000.00", "change": "12%"},
    ),
    "at_risk": ("AUM down %(change)s in 3 months", {"change": "42%"}),
}


@pytest.fixture(scope="module")
def live_server(settings: Settings) -> Iterator[LiveServer]:
    """A server whose bank has the scored customers of ``value_list_world``."""

    def prepare(session):  # type: ignore[no-untyped-def]
        plant(session, lambda username: principal_for(session, settings, username))

    with running_server(settings, "e2e_rm_lists", prepare=prepare) as server:
        yield server


def _look(ui: Browsing, what: str) -> None:
    ui.screenshot(what)
    assert_fits_the_screen(ui, what)
    assert_tables_fit(ui, what)
    if ui.locale == "en":
        names = sorted([person.name for person in PLANTED] + user_data(ui.server), key=len, reverse=True)
        found = chinese_in_chrome(ui, names)
        assert not found, f"{what}: Chinese on an English page: {found}"


def _t(ui: Browsing, message: str, **params: str) -> str:
    return translate(ui.locale, message, params or None)


def test_an_rm_sees_the_three_lists_of_their_portfolio_with_the_reasons(ui: Browsing) -> None:
    ui.sign_in("rm.zhang")
    titles = {
        "high_value": "High-value customers",
        "potential": "Potential customers",
        "at_risk": "Customers at risk",
    }
    for kind, title in titles.items():
        card = ui.page.get_by_test_id(f"w-list-{kind}")
        expect(card.locator(".card-title")).to_have_text(_t(ui, title))
        message, figures = REASONS[kind]
        expect(card).to_contain_text(_t(ui, message, **figures))
        expect(card).not_to_contain_text("陈外人")  # another RM's customer, on every rule
    potential = ui.page.get_by_test_id("w-list-potential")
    expect(potential.locator("li[data-customer-id]")).to_have_count(1)
    expect(potential).to_contain_text("李思远")
    # A long name is cut and whole on hover; the tier and the figure keep their place.
    long_name = ui.page.get_by_test_id("w-list-high_value").get_by_role("link", name=LONG_NAME)
    expect(long_name).to_have_attribute("title", LONG_NAME)
    assert long_name.evaluate("el => el.scrollWidth > el.clientWidth"), "the long name is not cut"
    _look(ui, "home")

    ui.page.get_by_test_id("w-list-at_risk").get_by_role("link", name=_t(ui, "Open the whole list")).click()
    expect(ui.page.get_by_test_id("value-list")).to_have_attribute("data-kind", "at_risk")
    rows = ui.page.get_by_test_id("value-list").locator("tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("王建国")
    expect(rows.first).to_contain_text(_t(ui, "AUM down %(change)s in 3 months", change="42%"))
    _look(ui, "at-risk-list")

    # The 360° view is one click away.
    rows.first.get_by_role("link", name="王建国").click()
    expect(ui.page).to_have_url(ui.server.at(f"/customers/{_id_of(ui, '王建国')}"))

    # The same lists sit under the segments and tiers.
    ui.goto("/segments")
    expect(ui.page.get_by_test_id("value-lists").locator("li[data-customer-id]")).to_have_count(7)
    _look(ui, "segments")


def _id_of(ui: Browsing, name: str) -> int:
    with ui.server.database.transaction(write=False) as session:
        return int(session.scalars(select(Customer.id).where(Customer.name == name)).one())


def test_an_rm_without_customers_on_the_lists_sees_them_empty(ui: Browsing) -> None:
    ui.sign_in("rm.liu")
    for kind in ("high_value", "potential", "at_risk"):
        expect(ui.page.get_by_test_id(f"w-list-{kind}")).to_contain_text(_t(ui, "No customers on this list"))
    _look(ui, "home-empty")
