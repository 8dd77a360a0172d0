"""Browser test of the model studio: an analyst trains on an uploaded table, reads the model card
(both models' AUCs, lift, the calibration chart, a leakage warning) and activates the model."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow.csv as pa_csv
import pytest
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from bankcrm.core.config import Settings
from bankcrm.core.lake import Lake
from bankcrm.customers.schemas import CustomerCreate
from bankcrm.customers.service import customers
from bankcrm.identity.service import users
from bankcrm.segmentation.studio import service as studio
from tests.conftest import principal_for
from tests.customers.conftest import resident_id
from tests.e2e.conftest import Browsing, LiveServer, running_server
from tests.segmentation.studio.data import nonlinear_table
from tests.segmentation.studio.history import add_wealth_purchases, churn_history, run_table, write_run


def test_an_analyst_trains_on_a_table_and_reads_the_model_card(ui: Browsing, tmp_path: Path) -> None:
    labelled = tmp_path / "labelled.csv"
    pa_csv.write_csv(nonlinear_table(400, leak=True), labelled)
    ui.sign_in("analyst")
    ui.goto("/models")
    expect(ui.page.get_by_test_id("train-upload")).to_be_visible()
    ui.screenshot("list")
    form = ui.page.get_by_test_id("train-upload")
    form.locator("#f-upload_name").fill(f"E2E {ui.locale}")
    form.locator("#f-file").set_input_files(str(labelled))
    form.locator("#f-target").fill("churned")
    form.locator("#f-id_column").fill("customer")
    ui.submit("[data-testid=train-upload] button[type=submit]")

    expect(ui.page.get_by_test_id("leakage")).to_contain_text("closed_days")
    metrics = ui.page.get_by_test_id("metrics")
    expect(metrics.locator("tr[data-metric=holdout_auc] td.num")).to_have_count(2)
    expect(metrics.locator("tr[data-metric=lift] td.num").first).not_to_have_text("—")
    expect(ui.page.get_by_test_id("calibration").locator("svg").first).to_be_visible()
    ui.screenshot("card")

    ui.page.once("dialog", lambda dialog: dialog.accept())
    ui.submit("[data-testid=activate]")
    expect(ui.page.locator("h1 [data-status=active]")).to_be_visible()


@dataclass
class ChurnWorld:
    server: LiveServer
    model_id: int
    customer_id: int


def _train_and_activate(settings: Settings, world: dict[str, int]) -> Callable[[Session], None]:
    """A customer of rm.zhang, a feature history with churners and wealth buyers, a churn model
    trained and active."""

    def prepare(session: Session) -> None:
        person = customers.create_customer(
            session,
            principal_for(session, settings, "rm.zhang"),
            data=CustomerCreate.model_validate(
                {
                    "kind": "individual",
                    "name": "王流失",
                    "id_type": "resident_id",
                    "id_number": resident_id(date(1979, 3, 8)),
                    "mobile": "13911112222",
                    "confirm_not_duplicate": True,
                    "primary_rm_id": users.find_user_by_username(session, "rm.zhang").id,  # type: ignore[union-attr]
                    "org_unit_id": users.find_user_by_username(session, "rm.zhang").org_unit_id,  # type: ignore[union-attr]
                }
            ),
        )
        lake = Lake(settings.lake_root)
        churn_history(lake, 300)
        add_wealth_purchases(lake)  # the runs also show who took up wealth management
        analyst = principal_for(session, settings, "analyst")
        card = studio.train_churn(session, analyst, lake, name="流失预警 2025", split_date=date(2025, 5, 1))
        # The run the model scores holds the one real customer (the history's ids are not customers).
        write_run(lake, date(2025, 9, 30), run_table([person.id], [30_000.0], [-2.0], [0.1]))
        studio.activate_model(session, analyst, lake, model_id=card.id)
        world.update(model_id=card.id, customer_id=person.id)

    return prepare


@pytest.fixture(scope="module")
def churn_world(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChurnWorld]:
    world: dict[str, int] = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(settings, "lake_dir", tmp_path_factory.mktemp("studio-lake"))
        with running_server(settings, "e2e_studio", prepare=_train_and_activate(settings, world)) as server:
            yield ChurnWorld(server, world["model_id"], world["customer_id"])


def test_a_churn_model_card_and_a_customers_score_with_its_factors(
    open_browser: Callable[..., Browsing], churn_world: ChurnWorld, locale: str
) -> None:
    ui = open_browser(locale, server=churn_world.server)
    ui.sign_in("analyst")
    ui.goto(f"/models/{churn_world.model_id}")
    expect(ui.page.locator("h1 [data-status=active]")).to_be_visible()
    expect(ui.page.get_by_test_id("card-data")).to_contain_text("2025-05-01")
    expect(ui.page.get_by_test_id("calibration").locator("svg").first).to_be_visible()
    ui.screenshot("churn-card")

    rm = open_browser(locale, server=churn_world.server)
    rm.sign_in("rm.zhang")
    rm.goto(f"/models/customers/{churn_world.customer_id}")
    scores = rm.page.get_by_test_id("customer-scores")
    expect(scores).to_contain_text("流失预警 2025")
    expect(scores.locator("li[data-factor]")).to_have_count(3)
    rm.screenshot("customer-scores")


def test_an_analyst_picks_the_purchase_target_and_reads_its_definition_on_the_card(
    open_browser: Callable[..., Browsing], churn_world: ChurnWorld, locale: str
) -> None:
    ui = open_browser(locale, server=churn_world.server)
    ui.sign_in("analyst")
    ui.goto("/models")
    form = ui.page.get_by_test_id("train-history")
    form.locator("#f-target").select_option("purchase:wealth")
    form.locator("#f-name").fill(f"Wealth {locale}")
    form.locator("#f-split_date").fill("2025-04-01")
    ui.screenshot("purchase-form")
    ui.submit("[data-testid=train-history] button[type=submit]")

    expect(ui.page.locator("h1 [data-status=draft]")).to_be_visible()
    product = "理财" if locale == "zh_CN" else "Wealth management"
    expect(ui.page.get_by_test_id("target-definition")).to_contain_text(product)
    expect(ui.page.get_by_test_id("metrics").locator("tr[data-metric=holdout_auc] td.num")).to_have_count(2)
    ui.screenshot("purchase-card")
