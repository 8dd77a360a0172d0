"""Building a segment in the browser: the live count follows each change, a broken condition is
marked where it is, and the saved segment opens on its profile."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from bankcrm.core.config import Settings
from bankcrm.core.i18n import translate
from bankcrm.core.lake import Lake
from bankcrm.customers import lake_repository
from bankcrm.customers.schemas import CustomerCreate
from bankcrm.customers.service import customers
from bankcrm.identity.service import users
from bankcrm.segmentation.jobs import compute_features, store_breakdown, store_features
from tests.conftest import principal_for
from tests.customers.conftest import resident_id
from tests.e2e.conftest import Browsing, LiveServer, running_server
from tests.e2e.test_tour import assert_fits_the_screen
from tests.segmentation.bank import AS_OF, BALANCES, SALARY_DAYS, salary_rows

OWNER = "rm.zhang"


def _scored_bank(session: Session, settings: Settings) -> None:
    """The segmentation tests' five customers, A-E, made through the services and scored."""
    owner = users.find_user_by_username(session, OWNER)
    assert owner is not None
    rm = principal_for(session, settings, OWNER)
    ids: dict[str, int] = {}
    for number, label in enumerate(SALARY_DAYS):
        data = CustomerCreate.model_validate(
            {
                "kind": "individual",
                "name": f"分群客户{label}",
                "id_type": "resident_id",
                "id_number": resident_id(AS_OF.replace(year=1980 + number)),
                "mobile": f"1370000{number:04d}",
                "primary_rm_id": owner.id,
                "org_unit_id": owner.org_unit_id,
                "confirm_not_duplicate": True,
            }
        )
        ids[label] = customers.create_customer(session, rm, data=data).id
    lake = Lake(settings.lake_root)
    rows = [row for label, days in SALARY_DAYS.items() for row in salary_rows(ids[label], days)]
    table = pa.Table.from_pylist(rows, schema=lake_repository.TRANSACTION_SCHEMA)
    lake_repository.write_transactions(lake, table, batch_key="e2e")
    held = [(ids[label], c, Decimal(v)) for label, h in BALANCES.items() for c, v in h.items()]
    balances = pa.table(
        {
            "customer_id": [r[0] for r in held],
            "category": [r[1] for r in held],
            "balance": [r[2] for r in held],
        }
    )
    lake_repository.write_balances(lake, "2026-10", balances, batch_key="e2e")
    store_breakdown(lake, as_of=AS_OF)
    store_features(session, lake, compute_features(session, lake, as_of=AS_OF), as_of=AS_OF)


@pytest.fixture(scope="module")
def segment_server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(settings, "lake_dir", tmp_path_factory.mktemp("segment-lake"))
        with running_server(settings, "e2e_segments", prepare=lambda s: _scored_bank(s, settings)) as server:
            yield server


@pytest.fixture
def builder_ui(open_browser: Callable[..., Browsing], segment_server: LiveServer, locale: str) -> Browsing:
    return open_browser(locale, viewport=(1366, 900), server=segment_server)


def _set(ui: Browsing, name: str, value: str) -> None:
    """Type a value and leave the field, as a person does: the change posts the builder."""
    field = ui.page.locator(f"[name='{name}']")
    with ui.swapped():
        field.fill(value)
        field.press("Tab")


def _choose(ui: Browsing, name: str, value: str) -> None:
    with ui.swapped():
        ui.page.locator(f"[name='{name}']").select_option(value)


def test_building_a_segment_with_a_live_count(builder_ui: Browsing, tmp_path: Path) -> None:
    ui = builder_ui
    t = lambda text, **params: translate(ui.locale, text, params)  # noqa: E731
    ui.sign_in("bm.beijing")
    ui.goto("/segments/new")
    count = ui.page.get_by_test_id("preview-count")
    expect(count).to_have_text("5")  # the first condition, AUM at least 0: every scored customer

    _choose(ui, "n.1.field", "aum")
    _set(ui, "n.1.value", "390000")
    expect(count).to_have_text("4")
    expect(ui.page.get_by_test_id("preview-sample").locator("li")).to_have_count(4)

    # A group with a condition whose bounds are reversed: marked in place, no count.
    ui.page.get_by_role("button", name=t("Group")).click()
    expect(ui.page.locator("[name='n.2.1.field']")).to_be_visible()
    _choose(ui, "n.2.1.operator", "between")
    expect(ui.page.locator("[name='n.2.1.value2']")).to_be_visible()
    _set(ui, "n.2.1.value", "500")
    _set(ui, "n.2.1.value2", "100")
    error = ui.page.locator("[data-place='2.1'] [data-testid='rule-error']")
    expect(error).to_have_text(
        t("Condition %(place)s: the lower bound is above the upper bound.", place="2.1")
    )
    expect(ui.page.get_by_test_id("preview-unavailable")).to_be_visible()
    ui.screenshot("broken")

    ui.page.get_by_role("button", name=t("Remove group")).click()
    expect(count).to_have_text("4")
    ui.page.locator("input[name='name']").fill(f"四十万以上 {ui.locale}")
    ui.screenshot("builder")
    ui.submit("[data-testid='save-segment']")

    expect(ui.page.get_by_test_id("members")).to_have_text("4")
    expect(ui.page.get_by_test_id("profile-tiers").locator("svg")).to_be_visible()
    expect(ui.page.get_by_test_id("sample").locator("tbody tr")).to_have_count(4)
    assert_fits_the_screen(ui, "segment page")
    ui.screenshot("profile")
