from __future__ import annotations

from fastapi.testclient import TestClient


def test_anonymous_api_write_is_asked_to_authenticate(client: TestClient) -> None:
    # No cookie, no token: nothing ambient to forge, so the answer is 401 (not a CSRF 403).
    response = client.post("/api/v1/users", json={})
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["type"] == "/problems/authentication-required"


def test_api_write_carried_by_a_session_cookie_still_needs_the_csrf_token(signed_in) -> None:  # type: ignore[no-untyped-def]
    session = signed_in("admin")
    del session.client.headers["X-CSRF-Token"]
    response = session.client.post("/api/v1/users", json={})
    assert response.status_code == 403
    assert response.json()["type"] == "/problems/csrf-failed"


def test_login_form_without_a_csrf_token_is_refused(client: TestClient) -> None:
    response = client.post("/login", data={"username": "admin", "password": "x"})
    assert response.status_code == 403
