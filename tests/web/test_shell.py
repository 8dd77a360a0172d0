"""The web shell: error pages, language switch, health checks, headers, navigation by role."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bankcrm.audit.models import AuditEvent
from bankcrm.identity.service import users as user_service


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ok", "database": "ok"}


def test_every_page_names_an_icon_that_is_served(client: TestClient) -> None:
    login = client.get("/login")
    assert '<link rel="icon" href="/static/img/favicon.svg"' in login.text
    icon = client.get("/static/img/favicon.svg")
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")


def test_security_headers_and_request_id_on_every_answer(client: TestClient) -> None:
    response = client.get("/login", headers={"X-Request-ID": "trace-123"})
    assert response.headers["x-request-id"] == "trace-123"
    assert response.headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in response.headers["content-security-policy"]


def test_unknown_page_is_a_friendly_404_in_the_users_language(signed_in, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    signed_in("rm.zhang")
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert 'data-testid="error-page"' in response.text
    assert "返回首页" in response.text


def test_unknown_api_path_is_a_problem_document(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["type"] == "/problems/http-404"


def test_forbidden_page_is_friendly_and_the_denial_is_audited(
    signed_in, client: TestClient, db: Session
) -> None:  # type: ignore[no-untyped-def]
    signed_in("rm.zhang")
    response = client.get("/admin/roles")
    assert response.status_code == 403
    assert "您没有执行此操作的权限" in response.text
    denial = db.execute(select(AuditEvent).where(AuditEvent.action == "permission_denied")).scalar_one()
    assert denial.actor_name == "rm.zhang"
    assert "/admin/roles" in denial.changes


def test_server_errors_show_a_friendly_page_with_the_request_id(signed_in, app, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("kaboom")

    signed_in("rm.zhang")
    with TestClient(app, raise_server_exceptions=False, cookies=client.cookies) as failing:
        response = failing.get("/boom", headers={"X-Request-ID": "req-boom"})
    assert response.status_code == 500
    assert "req-boom" in response.text
    assert "kaboom" not in response.text


def test_language_switch_sets_english_everywhere(signed_in, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    session = signed_in("admin")
    switched = client.post("/lang", data={"locale": "en", "next": "/admin/users", "csrf_token": session.csrf})
    assert switched.status_code == 303
    assert switched.headers["location"] == "/admin/users"
    page = client.get("/admin/users")
    assert '<html lang="en"' in page.text
    assert "Users" in page.text
    back = client.post(
        "/lang", data={"locale": "zh_CN", "next": "https://elsewhere.example/", "csrf_token": session.csrf}
    )
    assert back.headers["location"] == "/"
    assert '<html lang="zh-CN"' in client.get("/").text


def test_navigation_shows_only_what_the_role_may_use(signed_in, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    signed_in("rm.zhang")
    rm_home = client.get("/").text
    assert 'href="/admin/users"' not in rm_home
    assert 'data-home-kind="rm"' in rm_home
    signed_in("admin")
    admin_home = client.get("/").text
    for url in ("/admin/users", "/admin/roles", "/admin/org-units", "/admin/api-tokens", "/admin/audit"):
        assert f'href="{url}"' in admin_home


def test_every_role_has_its_home_page(signed_in, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    expected = {
        "admin": "admin",
        "exec": "executive",
        "bm.beijing": "manager",
        "sbm.haidian": "manager",
        "rm.zhang": "rm",
        "mkt": "marketing",
        "agent": "agent",
        "risk": "risk",
        "analyst": "analyst",
    }
    for username, kind in expected.items():
        signed_in(username)
        page = client.get("/")
        assert page.status_code == 200, username
        assert f'data-home-kind="{kind}"' in page.text
        assert "Nothing here yet" not in page.text  # translated


def test_audit_viewer_filters_and_exports_with_the_exporters_name(
    signed_in, client: TestClient, db: Session
) -> None:  # type: ignore[no-untyped-def]
    session = signed_in("admin")
    page = client.get("/admin/audit", params={"action": "login", "actor": "admin"})
    assert page.status_code == 200
    assert 'data-testid="audit-table"' in page.text
    bad_dates = client.get("/admin/audit", params={"date_from": "2026-11-30", "date_to": "2026-11-01"})
    assert bad_dates.status_code == 422
    assert "结束日期早于开始日期" in bad_dates.text
    export = client.post("/admin/audit/export", data={"action": "login", "csrf_token": session.csrf})
    assert export.status_code == 200
    assert "admin" in export.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(export.text.lstrip("\ufeff"))))
    assert rows[0][0].startswith("# exported by admin")
    assert rows[1][:3] == ["seq", "occurred_at", "actor_id"]
    assert all(row[5] == "login" for row in rows[2:])
    assert (
        db.execute(select(AuditEvent).where(AuditEvent.action == "export")).scalar_one().actor_name == "admin"
    )


def test_reveal_on_the_user_page_needs_a_reason_and_returns_the_number(
    signed_in, client: TestClient, db: Session
) -> None:  # type: ignore[no-untyped-def]
    signed_in("admin")
    target = user_service.find_user_by_username(db, "rm.zhang")
    assert target is not None
    page = client.get(f"/admin/users/{target.id}")
    assert "139****5678" in page.text
    assert "13912345678" not in page.text
    missing_reason = client.post(
        f"/admin/users/{target.id}/reveal",
        data={"field": "mobile", "reason": "", "masked": "139****5678"},
        headers={"HX-Request": "true"},
    )
    assert "13912345678" not in missing_reason.text
    assert "invalid-feedback" in missing_reason.text
    shown = client.post(
        f"/admin/users/{target.id}/reveal",
        data={"field": "mobile", "reason": "call to confirm visit"},
        headers={"HX-Request": "true"},
    )
    assert shown.status_code == 200
    assert "13912345678" in shown.text


def test_htmx_table_refresh_returns_only_the_table(signed_in, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    signed_in("admin")
    fragment = client.get(
        "/admin/users", params={"q": "rm."}, headers={"HX-Request": "true", "HX-Target": "users-table"}
    )
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert 'id="users-table"' in fragment.text
