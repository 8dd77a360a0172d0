"""The 360 page of a customer with ten thousand transactions: it pages, filters and keeps its shape.

The section is swapped by HTMX at every step; each step waits for the swap to settle before touching
the new buttons and fields (see ``settled``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Locator, expect

from bankcrm.core.config import Settings
from tests.e2e.conftest import Browsing, LiveServer
from tests.e2e.customer_world import (
    BUSY,
    FIRST_BOOKED,
    IN_EVERY,
    PER_DAY,
    SAME_LAST4,
    STEP,
    TRANSACTIONS,
    customer_server,
    look,
    open_360,
    settled,
    t,
)

pytestmark = pytest.mark.browser

PAGE_SIZE = 25
PAGES = TRANSACTIONS // PAGE_SIZE


@pytest.fixture(scope="module")
def live_server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with customer_server(settings, tmp_path_factory.mktemp("customer-lake")) as server:
        yield server


def booked(number: int) -> str:
    """How the page shows the time of the number-th transaction (Beijing time, to the minute)."""
    return (FIRST_BOOKED + STEP * number).strftime("%Y-%m-%d %H:%M")


def showing(ui: Browsing, first: int, last: int, total: int) -> str:
    return t(
        ui,
        "Showing %(first)s–%(last)s of %(total)s",
        first=f"{first:,}",
        last=f"{last:,}",
        total=f"{total:,}",
    )


def assert_usable(ui: Browsing, section: Locator, where: str) -> None:
    """The table stays inside its card and the screen, and the pager can be reached."""
    look(ui, where)
    widths = section.evaluate(
        "(card) => [card.getBoundingClientRect().width,"
        " card.querySelector('table').getBoundingClientRect().width, window.innerWidth]"
    )
    assert widths[1] <= widths[0] <= widths[2], (
        f"{where}: table {widths[1]}, card {widths[0]}, screen {widths[2]}"
    )
    pager = section.locator(".card-footer")
    pager.scroll_into_view_if_needed()
    expect(pager).to_be_in_viewport()


def test_ten_thousand_transactions_page_newest_first_filter_by_date_and_direction_and_fit_the_screen(
    ui: Browsing,
) -> None:
    ui.sign_in("rm.zhang")
    open_360(ui, BUSY.name)
    section = ui.page.locator("#section-transactions")
    rows = section.get_by_test_id("section-transactions").locator("tbody tr")
    footer = section.locator(".card-footer")

    expect(section.locator(".card-actions")).to_have_text(
        t(ui, "%(total)s in total, newest first", total=f"{TRANSACTIONS:,}")
    )
    expect(rows).to_have_count(PAGE_SIZE)
    expect(rows.first.locator("td").first).to_have_text(booked(TRANSACTIONS - 1))
    # Categories in words of the page's language: 9999 is a "shopping" one.
    expect(rows.first.locator("td").nth(2)).to_have_text(t(ui, "Shopping"))
    expect(footer).to_contain_text(showing(ui, 1, PAGE_SIZE, TRANSACTIONS))
    expect(footer).to_contain_text(f"1 / {PAGES}")
    expect(footer.get_by_role("button", name=t(ui, "Previous"))).to_be_disabled()
    assert_usable(ui, section, "first-page")

    # Later pages, one after the other, and back.
    footer.get_by_role("button", name=t(ui, "Next")).click()
    expect(footer).to_contain_text(f"2 / {PAGES}")
    settled(section)
    footer.get_by_role("button", name=t(ui, "Next")).click()
    expect(footer).to_contain_text(f"3 / {PAGES}")
    settled(section)
    expect(footer).to_contain_text(showing(ui, 2 * PAGE_SIZE + 1, 3 * PAGE_SIZE, TRANSACTIONS))
    expect(rows).to_have_count(PAGE_SIZE)
    expect(rows.first.locator("td").first).to_have_text(booked(TRANSACTIONS - 1 - 2 * PAGE_SIZE))
    expect(rows.last.locator("td").first).to_have_text(booked(TRANSACTIONS - 3 * PAGE_SIZE))
    footer.get_by_role("button", name=t(ui, "Previous")).click()
    expect(footer).to_contain_text(f"2 / {PAGES}")
    expect(rows.first.locator("td").first).to_have_text(booked(TRANSACTIONS - 1 - PAGE_SIZE))
    settled(section)
    assert_usable(ui, section, "later-page")

    # One business day: sixteen transactions, on one page.
    section.locator("#t-from").fill("2025-06-01")
    section.locator("#t-to").fill("2025-06-01")
    section.get_by_role("button", name=t(ui, "Filter")).click()
    expect(section.locator(".card-actions")).to_have_text(
        t(ui, "%(total)s in total, newest first", total=str(PER_DAY))
    )
    expect(rows).to_have_count(PER_DAY)
    day = (FIRST_BOOKED.date().replace(month=6) - FIRST_BOOKED.date()).days
    expect(rows.first.locator("td").first).to_have_text(booked((day + 1) * PER_DAY - 1))
    expect(rows.last.locator("td").first).to_have_text(booked(day * PER_DAY))
    expect(footer).to_contain_text("1 / 1")
    expect(footer.get_by_role("button", name=t(ui, "Next"))).to_be_disabled()
    settled(section)

    # The same day, money coming in only: every fourth transaction, all shown as credits.
    section.locator("#t-dir").select_option("in")
    section.get_by_role("button", name=t(ui, "Filter")).click()
    expect(rows).to_have_count(PER_DAY // IN_EVERY)
    expect(section.locator("#t-dir")).to_have_value("in")
    expect(section.locator("#t-from")).to_have_value("2025-06-01")
    expect(rows.locator("td.num.up")).to_have_count(PER_DAY // IN_EVERY)
    settled(section)
    assert_usable(ui, section, "filtered")

    # Direction alone pages through its own total, keeping the filter from page to page.
    section.locator("#t-from").fill("")
    section.locator("#t-to").fill("")
    section.get_by_role("button", name=t(ui, "Filter")).click()
    credits = TRANSACTIONS // IN_EVERY
    expect(footer).to_contain_text(showing(ui, 1, PAGE_SIZE, credits))
    settled(section)
    footer.get_by_role("button", name=t(ui, "Next")).click()
    expect(footer).to_contain_text(f"2 / {credits // PAGE_SIZE}")
    settled(section)
    expect(rows.locator("td.num.up")).to_have_count(PAGE_SIZE)
    expect(rows.first.locator("td").first).to_have_text(booked(TRANSACTIONS - IN_EVERY * (PAGE_SIZE + 1)))

    # By category, chosen by name: salaries are exactly the money coming in.
    section.locator("#t-dir").select_option("")
    section.locator("#t-cat").select_option(label=t(ui, "Salary"))
    section.get_by_role("button", name=t(ui, "Filter")).click()
    expect(footer).to_contain_text(showing(ui, 1, PAGE_SIZE, credits))
    expect(section.locator("#t-cat")).to_have_value("salary")
    expect(rows.locator("td:nth-child(3)", has_text=t(ui, "Salary"))).to_have_count(PAGE_SIZE)
    settled(section)

    # The same page on a wide screen.
    ui.page.set_viewport_size({"width": 1920, "height": 1080})
    assert_usable(ui, section, "1920")


def test_the_relationship_graph_is_drawn_when_its_section_arrives_with_the_others(ui: Browsing) -> None:
    # The relationships come with the other operational-store sections in one response, swapped
    # out of band: the graph must be drawn after that swap too, not only after a section's own.
    ui.sign_in("rm.zhang")
    open_360(ui, BUSY.name)
    graph = ui.page.locator("#section-relationships [data-chart]")
    expect(graph.locator("svg")).to_have_count(1)
    expect(graph).to_have_attribute("data-drawn", "1")
    expect(ui.page.locator("#section-relationships")).to_contain_text(SAME_LAST4.name)
