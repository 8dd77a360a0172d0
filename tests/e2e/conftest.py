"""Browser tests: a live BankCRM on a scratch database, driven by Debian's chromium.

One server per test session (per xdist worker): a fresh database, migrated, with the built-in roles
and the demo organisation committed, served by uvicorn in a background thread on a free port.
Each test gets its own browser context (cookies, language) so tests never share a sign-in.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright
from sqlalchemy.orm import Session

from bankcrm.core.config import Settings
from bankcrm.core.context import Actor
from bankcrm.core.db import Database, build_database, create_db_engine
from bankcrm.demo import seed
from bankcrm.identity.service import roles
from bankcrm.main import create_app
from bankcrm.web.security import LOCALE_COOKIE
from tests.conftest import ARTIFACTS, new_scratch_database, run_migrations

CHROMIUM = Path("/usr/bin/chromium")

SCREENSHOTS = ARTIFACTS / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCALES = ("zh_CN", "en")
# Han, kana, CJK punctuation and full-width forms: none of it may appear in English chrome.
CJK = re.compile(r"[\u3001-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
# Navigation must finish well within this; a stuck page fails the test instead of hanging the run.
TIMEOUT_MS = 15_000


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    no_browser = pytest.mark.skip(reason=f"{CHROMIUM} is not installed: no browser tests")
    for item in items:
        if "tests/e2e/" not in item.nodeid.replace("\\", "/"):
            continue
        # With `--dist loadgroup` a module's browser tests stay on one worker (its servers start
        # once) while different modules still run side by side.
        item.add_marker(pytest.mark.xdist_group(f"browser-{item.path.stem}"))
        if not CHROMIUM.exists():
            item.add_marker(no_browser)


@dataclass(frozen=True)
class LiveServer:
    url: str
    database: Database

    def at(self, path: str) -> str:
        return self.url + path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


Prepare = Callable[[Session], None]


@contextmanager
def running_server(settings: Settings, label: str, prepare: Prepare | None = None) -> Iterator[LiveServer]:
    """A scratch database (migrated, roles synced, demo loaded, then ``prepare``) served by uvicorn."""
    scratch = new_scratch_database(label)
    run_migrations(scratch.url)
    database = build_database(create_db_engine(scratch.url))
    with database.transaction() as session:
        roles.sync_roles(session, Actor.system("e2e"))
        seed.load_demo(session, only_if_empty=False)
        if prepare is not None:
            prepare(session)

    port = _free_port()
    config = uvicorn.Config(
        create_app(settings, database),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"e2e-uvicorn-{label}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    poll = threading.Event()
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        poll.wait(0.05)  # server start-up, not a test: uvicorn offers no event to wait on
    try:
        if not server.started:
            pytest.fail("the live server did not start within 30 s")
        yield LiveServer(url=f"http://127.0.0.1:{port}", database=database)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        database.dispose()
        scratch.close()


@pytest.fixture(scope="session")
def live_server(settings: Settings) -> Iterator[LiveServer]:
    with running_server(settings, "e2e") as server:
        yield server


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    browser = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="session", autouse=True)
def _expect_timeout() -> None:
    expect.set_options(timeout=TIMEOUT_MS)


def new_browser_context(
    browser: Browser, server: LiveServer, locale: str, viewport: tuple[int, int]
) -> BrowserContext:
    context = browser.new_context(
        base_url=server.url,
        viewport={"width": viewport[0], "height": viewport[1]},
        locale="zh-CN" if locale == "zh_CN" else "en-GB",
        timezone_id="Asia/Shanghai",
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    context.add_cookies([{"name": LOCALE_COOKIE, "value": locale, "url": server.url}])
    return context


@dataclass
class Browsing:
    """What a test drives: a page in a fresh context, its language, and where screenshots go.

    Server errors (5xx) and script errors seen by the page are collected and fail the test.
    """

    page: Page
    locale: str
    server: LiveServer
    test_name: str
    problems: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on(
            "response",
            lambda response: (
                self.problems.append(f"{response.status} from {response.url}")
                if response.status >= 500
                else None
            ),
        )
        self.page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))
        self.page.on(
            "console",
            lambda message: (
                self.problems.append(f"console {message.type}: {message.text}")
                if message.type == "error" and "Failed to load resource" not in message.text
                else None
            ),
        )

    def goto(self, path: str) -> None:
        response = self.page.goto(self.server.at(path))
        assert response is not None, f"no response for {path}"

    def screenshot(self, suffix: str = "", *, full_page: bool = True) -> Path:
        name = self.test_name + (f"-{suffix}" if suffix else "") + f"-{self.locale}.png"
        target = SCREENSHOTS / name
        target.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(target), full_page=full_page)
        return target

    def sign_in(self, username: str, password: str = seed.DEMO_PASSWORD) -> None:
        """Through the form, as a person would; waits for the home page."""
        self.goto("/login")
        self.page.locator("#username").fill(username)
        self.page.locator("#password").fill(password)
        with self.page.expect_navigation():
            self.page.locator("form[action='/login'] button[type=submit]").click()
        expect(self.page.get_by_test_id("user-box")).to_be_visible()

    @contextmanager
    def swapped(self) -> Iterator[None]:
        """Wait until htmx has put in place and settled what the action inside the block asked for.

        Waiting for the response alone is not enough: the swap runs a moment after the response
        arrives, and a field filled in that moment is thrown away with the old markup.
        """
        self.page.evaluate(
            """() => {
                window.__bankcrmSettled = false;
                document.body.addEventListener(
                    "htmx:afterSettle", () => { window.__bankcrmSettled = true; }, { once: true });
            }"""
        )
        yield
        self.page.wait_for_function("() => window.__bankcrmSettled === true")

    def submit(self, button: str) -> None:
        """Click a submit button (a CSS selector) and wait for the page it leads to."""
        with self.page.expect_navigation():
            self.page.locator(button).click()


def _test_name(request: pytest.FixtureRequest) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.originalname or request.node.name)


@pytest.fixture
def open_browser(
    browser: Browser, live_server: LiveServer, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Browsing]]:
    """``open_browser(locale)``: a new context in that language (each call is a separate person)."""
    contexts: list[BrowserContext] = []
    opened: list[Browsing] = []

    def _open(
        locale: str = "zh_CN", viewport: tuple[int, int] = (1366, 768), server: LiveServer | None = None
    ) -> Browsing:
        target = server or live_server
        context = new_browser_context(browser, target, locale, viewport)
        contexts.append(context)
        ui = Browsing(page=context.new_page(), locale=locale, server=target, test_name=_test_name(request))
        opened.append(ui)
        return ui

    yield _open
    for context in contexts:
        context.close()
    problems = [problem for ui in opened for problem in ui.problems]
    assert not problems, "the browser saw errors:\n" + "\n".join(problems)


@pytest.fixture(params=LOCALES)
def locale(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture
def ui(open_browser: Callable[..., Browsing], locale: str) -> Browsing:
    """A browser in the test's language (tests using it run once per language)."""
    return open_browser(locale)
