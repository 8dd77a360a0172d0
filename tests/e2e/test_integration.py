"""Browser tests of the data-integration pages: a batch with its counts, data quality and rejects;
the data-quality drill-down; the match review queue; a customer's golden record."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from bankcrm.core.config import Settings
from bankcrm.core.context import Actor
from bankcrm.core.i18n import translate
from bankcrm.core.masking import MaskKind, mask
from bankcrm.customers.models import Customer
from bankcrm.demo.extracts import write_extracts
from bankcrm.integration.mapping import registry
from bankcrm.integration.models import Batch, MatchCandidate, SourceRecord
from bankcrm.integration.service.ingest import ingest_file
from bankcrm.integration.service.matching import run_matching
from tests.e2e.conftest import Browsing, LiveServer, running_server
from tests.e2e.test_i18n import chinese_in_chrome
from tests.e2e.tour import user_data
from tests.integration.files import core_row, resident_id, write_core

JOB = Actor.system("e2e-integration")
# A person per language run, so both runs upload a new customer.
UPLOAD_DAY = {"zh_CN": "20261130", "en": "20261201"}
UPLOADED = {"zh_CN": resident_id(date(1984, 6, 1), 41), "en": resident_id(date(1986, 7, 2), 43)}
SOURCES = (
    ("core", "core_customers_*.csv"),
    ("cards", "cards_customers_*.txt"),
    ("online", "online_users_*.csv"),
)


def _deliver_and_match(settings: Settings) -> Callable[[Session], None]:
    def prepare(session: Session) -> None:
        with tempfile.TemporaryDirectory() as folder:
            extracts = write_extracts(Path(folder), people=300, seed=11, transactions_per_customer=1).folder
            for source, pattern in SOURCES:
                ingest_file(session, JOB, source=source, path=next(extracts.glob(pattern)))
        # Nothing merges on its own here, so the review queue has pairs to decide.
        automatic = settings.match_auto_threshold
        settings.match_auto_threshold = 1.01
        try:
            run_matching(session, JOB)
        finally:
            settings.match_auto_threshold = automatic

    return prepare


@pytest.fixture(scope="module")
def delivered(settings: Settings) -> Iterator[LiveServer]:
    with running_server(settings, "e2e-integration", _deliver_and_match(settings)) as server:
        yield server


def _online_batch(server: LiveServer) -> int:
    with server.database.transaction() as session:
        batch = session.execute(select(Batch).where(Batch.source_code == "online")).scalars().one()
        return batch.id


def _pending_candidates(server: LiveServer) -> list[int]:
    with server.database.transaction() as session:
        rows = session.execute(select(MatchCandidate.id).where(MatchCandidate.status == "pending"))
        return list(rows.scalars())


def _linked_customer(server: LiveServer) -> int:
    with server.database.transaction() as session:
        record = (
            session.execute(
                select(SourceRecord).where(
                    SourceRecord.source_code == "online", SourceRecord.customer_id.is_not(None)
                )
            )
            .scalars()
            .first()
        )
        assert record is not None
        assert record.customer_id is not None
        return record.customer_id


def test_a_batch_shows_its_counts_data_quality_and_masked_rejects(
    open_browser: Callable[..., Browsing], delivered: LiveServer, locale: str
) -> None:
    ui = open_browser(locale, server=delivered)
    ui.sign_in("admin")
    ui.goto("/integration/batches")
    batch_id = _online_batch(delivered)
    with ui.page.expect_navigation():
        ui.page.get_by_test_id("batch-table").locator(f"a[href='/integration/batches/{batch_id}']").click()
    expect(ui.page.get_by_test_id("batch-status")).to_be_visible()
    quality = ui.page.get_by_test_id("field-quality-table")
    expect(quality.locator("tr[data-field='id_number']")).to_be_visible()
    rejects = ui.page.get_by_test_id("reject-table")
    expect(rejects).to_contain_text("id.checksum")
    # Rejected ID numbers keep only the region and the last four characters.
    expect(rejects.locator("td", has_text="***********").first).to_be_visible()
    ui.screenshot("batch")
    with ui.page.expect_navigation():
        quality.get_by_test_id("failing-id_number").click()
    expect(ui.page.get_by_test_id("failing-records")).to_contain_text("id.checksum")
    ui.screenshot("failing-records")


def test_a_delivery_chosen_with_the_pages_own_file_picker_loads_into_a_new_batch(
    open_browser: Callable[..., Browsing], delivered: LiveServer, locale: str, tmp_path: Path
) -> None:
    ui = open_browser(locale, server=delivered)
    ui.sign_in("admin")
    ui.goto("/integration")
    chosen = ui.page.get_by_test_id("file-name-core")
    expect(chosen).to_have_text(translate(ui.locale, "No file chosen"))
    expect(ui.page.locator("label[for='file-core']")).to_contain_text(translate(ui.locale, "Choose file"))
    number = f"UP-{locale}"
    delivery = write_core(
        tmp_path, f"core_customers_{UPLOAD_DAY[locale]}.csv", [core_row(number, "上传客户", UPLOADED[locale])]
    )
    ui.page.locator("#file-core").set_input_files(delivery)
    expect(chosen).to_have_text(delivery.name)
    ui.screenshot("file-chosen")
    with ui.page.expect_navigation():
        ui.page.locator("form:has(#file-core) button[type=submit]").click()
    expect(ui.page.get_by_test_id("batch-status")).to_have_text(translate(ui.locale, "loaded"))
    with delivered.database.transaction() as session:
        record = session.execute(
            select(SourceRecord).where(SourceRecord.source_customer_no == number)
        ).scalar_one()
        assert record.customer_id is not None


def test_data_quality_lists_every_source_and_drills_down_to_its_fields(
    open_browser: Callable[..., Browsing], delivered: LiveServer, locale: str
) -> None:
    ui = open_browser(locale, server=delivered)
    ui.sign_in("admin")
    ui.goto("/integration/quality")
    sources = ui.page.get_by_test_id("quality-sources")
    for code, _pattern in SOURCES:
        expect(sources.locator(f"tr[data-source='{code}']")).to_be_visible()
    ui.screenshot("overview")
    with ui.page.expect_navigation():
        sources.locator("tr[data-source='online'] a[href='/integration/quality/online']").click()
    fields = ui.page.get_by_test_id("field-quality-table")
    expect(fields.locator("tr[data-field='mobile']")).to_be_visible()
    expect(fields.locator("tr[data-field='email']")).to_contain_text("%")
    ui.screenshot("source")


def test_a_reviewer_decides_a_pair_side_by_side_with_values_masked(
    open_browser: Callable[..., Browsing], delivered: LiveServer
) -> None:
    pending = _pending_candidates(delivered)
    assert pending, "the prepared deliveries left no pair for review"
    for locale in ("en", "zh_CN"):
        ui = open_browser(locale, server=delivered)
        ui.sign_in("admin")
        ui.goto("/integration/matches")
        expect(ui.page.get_by_test_id("match-candidate").first).to_be_visible()
        ui.screenshot("queue")
    card = ui.page.locator(f"[data-testid='match-candidate'][data-candidate-id='{pending[0]}']")
    expect(card).to_contain_text("*")
    with ui.page.expect_navigation():
        card.locator("form input[value='reject'] ~ button").click()
    expect(ui.page.locator(".alert-success")).to_be_visible()
    expect(
        ui.page.locator(f"[data-testid='match-candidate'][data-candidate-id='{pending[0]}']")
    ).to_have_count(0)
    with delivered.database.transaction() as session:
        decided = session.get(MatchCandidate, pending[0])
        assert decided is not None
        assert decided.status == "rejected"


def test_the_golden_record_is_reached_from_the_customer_page(
    open_browser: Callable[..., Browsing], delivered: LiveServer, locale: str
) -> None:
    customer_id = _linked_customer(delivered)
    ui = open_browser(locale, server=delivered)
    ui.sign_in("admin")
    ui.goto(f"/customers/{customer_id}")
    link = ui.page.get_by_test_id("golden-record-link")
    with ui.page.expect_navigation():
        link.click()
    fields = ui.page.get_by_test_id("golden-fields")
    expect(fields.locator("tr[data-field='mobile']")).to_be_visible()
    expect(fields.locator("[data-chosen='true']").first).to_be_visible()
    expect(ui.page.get_by_test_id("golden-history")).to_be_visible()
    ui.screenshot("golden")


def _data_names(server: LiveServer) -> list[str]:
    """Chinese a page may show as data: people's and units' names, customers' names (also masked),
    and the sources' own names from their mapping files."""
    with server.database.transaction(write=False) as session:
        names = list(session.scalars(select(Customer.name)))
    names += [mask(MaskKind.NAME, name) or "" for name in names]
    names += [mapping.name for mapping in registry().values()]
    return sorted({*names, *user_data(server)} - {""}, key=len, reverse=True)


def test_english_integration_pages_have_no_chinese_outside_the_data(
    open_browser: Callable[..., Browsing], delivered: LiveServer
) -> None:
    ui = open_browser("en", server=delivered)
    ui.sign_in("admin")
    names = _data_names(delivered)
    pages = [
        "/integration",
        "/integration/batches",
        f"/integration/batches/{_online_batch(delivered)}",
        "/integration/quality",
        "/integration/quality/online",
        "/integration/quality/online/id_number",
        "/integration/matches",
        f"/integration/golden/{_linked_customer(delivered)}",
    ]
    problems = {}
    for path in pages:
        ui.goto(path)
        found = chinese_in_chrome(ui, names)
        if found:
            problems[path] = found
    assert not problems, f"Chinese text on English pages: {problems}"
