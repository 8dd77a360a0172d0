"""The sidebar marks exactly one item: the one whose URL is the page or the nearest folder above it."""

from __future__ import annotations

from bankcrm.core.permissions import Permission
from bankcrm.web.render import Navigation, NavItem


def navigation() -> Navigation:
    menu = Navigation()
    menu.register(
        NavItem("home", "Home", "/", Permission.CUSTOMER_READ),
        NavItem("sources", "Sources", "/integration", Permission.INTEGRATION_READ),
        NavItem("quality", "Data quality", "/integration/quality", Permission.INTEGRATION_READ),
        NavItem("customers", "Customers", "/customers", Permission.CUSTOMER_READ),
    )
    return menu


def test_the_deepest_matching_item_is_active() -> None:
    menu = navigation()
    assert menu.active_url("/integration/quality/core/id_number") == "/integration/quality"
    assert menu.active_url("/integration/batches/3") == "/integration"
    assert menu.active_url("/integration") == "/integration"


def test_a_prefix_that_is_not_a_folder_does_not_count() -> None:
    assert navigation().active_url("/customers-export") is None
    assert navigation().active_url("/") == "/"
    assert navigation().active_url("/admin/users") is None
