"""Bearer tokens are for other systems calling the JSON API, and only while api.access holds."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def _issue_callcenter_token(admin: Any, *scopes: str) -> str:
    me = admin.client.get("/api/v1/users", params={"q": "callcenter"}).json()["items"][0]
    response = admin.client.post(
        "/api/v1/api-tokens", json={"name": "reach test", "user_id": me["id"], "scopes": list(scopes)}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


def _without_cookies(client: TestClient, token: str) -> dict[str, str]:
    client.cookies.clear()
    return {"Authorization": f"Bearer {token}", "X-CSRF-Token": ""}


def test_bearer_token_reads_the_api(signed_in) -> None:  # type: ignore[no-untyped-def]
    admin = signed_in("admin")
    token = _issue_callcenter_token(admin, "api.access", "org.read")
    response = admin.client.get("/api/v1/org-units", headers=_without_cookies(admin.client, token))
    assert response.status_code == 200, response.text


def test_bearer_token_opens_no_html_page(signed_in) -> None:  # type: ignore[no-untyped-def]
    admin = signed_in("admin")
    token = _issue_callcenter_token(admin, "api.access", "org.read")
    response = admin.client.get("/admin/org-units", headers=_without_cookies(admin.client, token))
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


def test_token_whose_role_lost_api_access_is_refused(signed_in) -> None:  # type: ignore[no-untyped-def]
    admin = signed_in("admin")
    token = _issue_callcenter_token(admin, "api.access", "org.read")
    role = next(role for role in admin.client.get("/api/v1/roles").json() if role["code"] == "api_client")
    changed = admin.client.put(
        f"/api/v1/roles/{role['id']}/permissions",
        json={"permissions": ["org.read"], "reason": "switch the call centre off"},
    )
    assert changed.status_code == 200, changed.text
    for path in ("/api/v1/me", "/api/v1/org-units"):
        response = admin.client.get(path, headers=_without_cookies(admin.client, token))
        assert response.status_code == 403, (path, response.text)
        assert response.json()["type"] == "/problems/permission-denied"
