"""The pages of the web shell as a list of stops, shared by the layout tour and the language checks.

Each stop gets a browser signed in as the right person and leaves it on the page to look at.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from playwright.sync_api import expect
from sqlalchemy import select

from bankcrm.identity.models import OrgUnit, Role, User
from tests.e2e.conftest import Browsing, LiveServer

# The long display name used by the crowded database (the form's limit is 100 characters).
LONG_NAME = "欧阳" + "慕容司马诸葛上官东方皇甫尉迟公孙长孙宇文轩辕令狐钟离澹台" * 3
LONG_UNIT = "北京海淀支行中关村科技园区" + "数字金融与财富管理综合服务" * 6 + "团队"
LONG_REASON = "客户来电要求核实身份信息并更新联系方式，经支行负责人审批同意后办理。" * 6


def record_id(server: LiveServer, model: type[User] | type[Role] | type[OrgUnit], **where: str) -> int:
    """The id of one demo record, read straight from the live server's database."""
    with server.database.transaction(write=False) as session:
        statement = select(model.id)
        for column, value in where.items():
            statement = statement.where(getattr(model, column) == value)
        found = session.scalars(statement).one()
    return int(found)


def user_data(server: LiveServer) -> list[str]:
    """Names people typed in: they may be Chinese on an English page. Longest first, for stripping."""
    with server.database.transaction(write=False) as session:
        names = list(session.scalars(select(User.display_name)))
        names += list(session.scalars(select(OrgUnit.name)))
    return sorted({name for name in names if name}, key=len, reverse=True)


@dataclass(frozen=True)
class Stop:
    name: str
    who: str | None  # demo login, or None for a visitor who is not signed in
    visit: Callable[[Browsing], None]
    changes_data: bool = False


def _path(path: str) -> Callable[[Browsing], None]:
    def visit(ui: Browsing) -> None:
        ui.goto(path)

    return visit


def _user_page(suffix: str = "") -> Callable[[Browsing], None]:
    def visit(ui: Browsing) -> None:
        ui.goto(f"/admin/users/{record_id(ui.server, User, username='rm.zhang')}{suffix}")

    return visit


def _role_page(ui: Browsing) -> None:
    ui.goto(f"/admin/roles/{record_id(ui.server, Role, code='relationship_manager')}")


def _unit_page(ui: Browsing) -> None:
    ui.goto(f"/admin/org-units/{record_id(ui.server, OrgUnit, code='BJ-HD')}")


def _login_error(ui: Browsing) -> None:
    ui.goto("/login")
    ui.page.locator("#username").fill("no.such.user")
    ui.page.locator("#password").fill("wrong password")
    ui.submit("form[action='/login'] button[type=submit]")
    expect(ui.page.get_by_test_id("login-error")).to_be_visible()


def _new_user_errors(ui: Browsing) -> None:
    ui.goto("/admin/users/new")
    ui.page.locator("#f-username").fill("Bad Name")
    ui.page.locator("#f-mobile").fill("12345")
    ui.submit("form[action='/admin/users/new'] button[type=submit]")
    expect(ui.page.locator("[data-field-error=username]")).to_be_visible()


def _new_unit_errors(ui: Browsing) -> None:
    ui.goto("/admin/org-units/new")
    ui.page.locator("#f-code").fill("bad code")
    ui.submit("form[action='/admin/org-units/new'] button[type=submit]")
    expect(ui.page.locator("[data-field-error=code]")).to_be_visible()


def _revealed_mobile(ui: Browsing) -> None:
    _user_page()(ui)
    mobile = ui.page.get_by_test_id("user-mobile")
    mobile.locator("summary").click()
    mobile.locator("input[name=reason]").fill("核实身份 / identity check")
    mobile.locator("button[type=submit]").click()
    expect(mobile.locator("[data-revealed=true]")).to_be_visible()


def _issued_token(ui: Browsing) -> None:
    ui.goto("/admin/api-tokens")
    ui.page.locator("#f-user_id").select_option(label="呼叫中心系统 (callcenter)")
    size = ui.page.viewport_size or {"width": 0}
    # Names are unique per client; the size and language tell the tours' tokens apart.
    name = f"呼叫中心 IVR 生产环境 / call-centre IVR production {ui.locale} {size['width']}"
    ui.page.locator("#f-name").fill(name)
    ui.submit("form[action='/admin/api-tokens'] button[type=submit]")
    expect(ui.page.get_by_test_id("issued-token")).to_be_visible()


def _open_disable_form(ui: Browsing) -> None:
    _user_page()(ui)
    ui.page.locator("details.action-block summary").first.click()


STOPS = (
    Stop("login", None, _path("/login")),
    Stop("login-error", None, _login_error),
    Stop("home-admin", "admin", _path("/")),
    Stop("users", "admin", _path("/admin/users")),
    Stop("user", "admin", _user_page()),
    Stop("user-actions", "admin", _open_disable_form),
    Stop("user-revealed", "admin", _revealed_mobile),
    Stop("user-edit", "admin", _user_page("/edit")),
    Stop("user-new", "admin", _path("/admin/users/new")),
    Stop("user-new-errors", "admin", _new_user_errors),
    Stop("roles", "admin", _path("/admin/roles")),
    Stop("role", "admin", _role_page),
    Stop("units", "admin", _path("/admin/org-units")),
    Stop("unit", "admin", _unit_page),
    Stop("unit-new", "admin", _path("/admin/org-units/new")),
    Stop("unit-new-errors", "admin", _new_unit_errors),
    Stop("tokens", "admin", _path("/admin/api-tokens")),
    Stop("token-issued", "admin", _issued_token, changes_data=True),
    Stop("audit", "admin", _path("/admin/audit")),
    Stop("password", "admin", _path("/account/password")),
    Stop("not-found", "admin", _path("/admin/users/987654")),
    Stop("no-such-page", "admin", _path("/no/such/page")),
    Stop("forbidden", "analyst", _path("/admin/users")),
    Stop("home-rm", "rm.zhang", _path("/")),
    Stop("home-manager", "sbm.haidian", _path("/")),
    Stop("home-executive", "exec", _path("/")),
    Stop("home-marketing", "mkt", _path("/")),
    Stop("home-agent", "agent", _path("/")),
    Stop("home-risk", "risk", _path("/")),
    Stop("home-analyst", "analyst", _path("/")),
)
