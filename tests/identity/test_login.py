"""Sign-in, lockout, session timeouts and renewal, sign-out, password change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bankcrm.audit.models import AuditEvent
from bankcrm.core.config import Settings
from bankcrm.core.context import Origin
from bankcrm.core.db import utcnow
from bankcrm.demo.seed import DEMO_PASSWORD
from bankcrm.identity.models import UserSession
from bankcrm.identity.service import auth
from bankcrm.identity.service import users as user_service
from bankcrm.web.security import SESSION_COOKIE
from tests.conftest import csrf_from

ORIGIN = Origin(ip="10.0.0.1", user_agent="pytest")


def post_login(client: TestClient, username: str, password: str, next_url: str = "/") -> object:
    form = client.get("/login")
    return client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "next": next_url,
            "csrf_token": csrf_from(form.text),
        },
    )


def audit_actions(db: Session) -> list[str]:
    return list(db.execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars())


@pytest.mark.usefixtures("demo")
def test_signing_in_sets_an_http_only_session_cookie_and_redirects(client: TestClient, db: Session) -> None:
    response = post_login(client, "rm.zhang", DEMO_PASSWORD, "/account/password")
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert response.headers["location"] == "/account/password"  # type: ignore[attr-defined]
    cookie = response.headers["set-cookie"]  # type: ignore[attr-defined]
    assert SESSION_COOKIE in cookie
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    assert "login" in audit_actions(db)


@pytest.mark.usefixtures("demo")
def test_login_never_redirects_to_another_site(client: TestClient) -> None:
    response = post_login(client, "rm.zhang", DEMO_PASSWORD, "//evil.example/steal")
    assert response.headers["location"] == "/"  # type: ignore[attr-defined]


@pytest.mark.usefixtures("demo")
def test_wrong_password_and_unknown_user_get_the_same_message(client: TestClient, db: Session) -> None:
    wrong = post_login(client, "rm.zhang", "not-the-password")
    unknown = post_login(client, "nobody.here", "not-the-password")
    for response in (wrong, unknown):
        assert response.status_code == 200  # type: ignore[attr-defined]
        assert "用户名或密码错误" in response.text  # type: ignore[attr-defined]
        assert SESSION_COOKIE not in response.headers.get("set-cookie", "")  # type: ignore[attr-defined]
    assert audit_actions(db).count("login_failed") == 2


@pytest.mark.usefixtures("demo")
def test_five_failures_lock_the_account_for_fifteen_minutes(db: Session, settings: Settings) -> None:
    for _ in range(settings.lockout_threshold):
        assert not auth.login(db, username="rm.zhang", password="wrong", origin=ORIGIN, settings=settings).ok
    user = user_service.find_user_by_username(db, "rm.zhang")
    assert user is not None
    assert user.locked_until is not None
    assert timedelta(minutes=14) < user.locked_until - utcnow() <= timedelta(minutes=15)
    refused = auth.login(db, username="rm.zhang", password=DEMO_PASSWORD, origin=ORIGIN, settings=settings)
    assert not refused.ok
    assert "locked" in (refused.message or "")
    user.locked_until = utcnow() - timedelta(seconds=1)  # the fifteen minutes are over
    assert auth.login(db, username="rm.zhang", password=DEMO_PASSWORD, origin=ORIGIN, settings=settings).ok


@pytest.mark.usefixtures("demo")
def test_each_sign_in_issues_a_new_strong_token(db: Session, settings: Settings) -> None:
    first = auth.login(db, username="rm.zhang", password=DEMO_PASSWORD, origin=ORIGIN, settings=settings)
    second = auth.login(
        db,
        username="rm.zhang",
        password=DEMO_PASSWORD,
        origin=ORIGIN,
        settings=settings,
        previous_token=first.token,
    )
    assert first.token
    assert second.token
    assert first.token != second.token
    assert len(first.token) >= 43  # 32 random bytes, url-safe base64: 256 bits
    assert auth.resolve_session(db, token=first.token, origin=ORIGIN, settings=settings) is None
    assert auth.resolve_session(db, token=second.token, origin=ORIGIN, settings=settings) is not None


@pytest.mark.usefixtures("demo")
def test_sessions_expire_when_idle_and_after_the_absolute_limit(db: Session, settings: Settings) -> None:
    result = auth.login(db, username="rm.zhang", password=DEMO_PASSWORD, origin=ORIGIN, settings=settings)
    assert result.token
    record = db.execute(select(UserSession).order_by(UserSession.id.desc()).limit(1)).scalar_one()
    record.last_seen_at = utcnow() - timedelta(minutes=settings.session_idle_minutes + 1)
    db.flush()
    assert auth.resolve_session(db, token=result.token, origin=ORIGIN, settings=settings) is None
    record.last_seen_at = utcnow()
    record.expires_at = utcnow() - timedelta(seconds=1)
    db.flush()
    assert auth.resolve_session(db, token=result.token, origin=ORIGIN, settings=settings) is None


def test_signing_out_ends_the_session(signed_in, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    signed_in("rm.zhang")
    assert client.get("/").status_code == 200
    response = client.post("/logout")
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert client.get("/").status_code == 303  # back to the login page


def test_disabling_a_user_ends_all_their_sessions(
    signed_in,
    client: TestClient,
    db: Session,
    settings: Settings,  # type: ignore[no-untyped-def]
    as_user,
) -> None:
    signed_in("rm.zhang")
    assert client.get("/").status_code == 200
    user = user_service.find_user_by_username(db, "rm.zhang")
    assert user is not None
    user_service.set_user_active(db, as_user("admin"), user_id=user.id, active=False, reason="left the bank")
    assert client.get("/").status_code == 303


def test_anonymous_pages_redirect_to_login_and_api_answers_401(client: TestClient) -> None:
    page = client.get("/admin/users")
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=/admin/users"
    api = client.get("/api/v1/me")
    assert api.status_code == 401
    assert api.headers["content-type"] == "application/problem+json"
    assert api.headers["www-authenticate"] == "Bearer"


def test_changing_password_requires_the_current_one_and_ends_other_sessions(  # type: ignore[no-untyped-def]
    signed_in, client: TestClient, db: Session, settings: Settings
) -> None:
    session = signed_in("rm.chen")
    other = auth.login(db, username="rm.chen", password=DEMO_PASSWORD, origin=ORIGIN, settings=settings)
    wrong = client.post(
        "/account/password",
        data={
            "current_password": "nope",
            "new_password": "Blue-river-stone-88",
            "confirm_password": "Blue-river-stone-88",
            "csrf_token": session.csrf,
        },
    )
    assert wrong.status_code == 422
    assert "当前密码不正确" in wrong.text
    mismatch = client.post(
        "/account/password",
        data={
            "current_password": DEMO_PASSWORD,
            "new_password": "Blue-river-stone-88",
            "confirm_password": "Blue-river-stone-89",
            "csrf_token": session.csrf,
        },
    )
    assert mismatch.status_code == 422
    changed = client.post(
        "/account/password",
        data={
            "current_password": DEMO_PASSWORD,
            "new_password": "Blue-river-stone-88",
            "confirm_password": "Blue-river-stone-88",
            "csrf_token": session.csrf,
        },
    )
    assert changed.status_code == 303
    assert other.token
    assert auth.resolve_session(db, token=other.token, origin=ORIGIN, settings=settings) is None
    assert client.get("/").status_code == 200  # the session that changed it stays signed in
    assert auth.login(
        db, username="rm.chen", password="Blue-river-stone-88", origin=ORIGIN, settings=settings
    ).ok


def test_a_user_with_a_temporary_password_must_change_it_first(  # type: ignore[no-untyped-def]
    signed_in, client: TestClient, db: Session, as_user
) -> None:
    from bankcrm.identity.schemas import PasswordReset

    user = user_service.find_user_by_username(db, "rm.liu")
    assert user is not None
    user_service.reset_password(
        db,
        as_user("admin"),
        user_id=user.id,
        data=PasswordReset(new_password="Temporary-stone-77", reason="forgot password"),
    )
    response = post_login(client, "rm.liu", "Temporary-stone-77")
    assert response.headers["location"] == "/account/password"  # type: ignore[attr-defined]
    assert client.get("/").headers["location"] == "/account/password"
    assert client.get("/admin/users").status_code == 403
