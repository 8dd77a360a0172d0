"""API tokens are as visible as the API-client user they belong to (data scope, out of scope = 404)."""

from __future__ import annotations

from typing import Any


def _unit_id(admin: Any, code: str) -> int:
    units = admin.client.get("/api/v1/org-units", params={"q": code, "size": 200}).json()["items"]
    return int(next(unit["id"] for unit in units if unit["code"] == code))


def _user_id(admin: Any, username: str) -> int:
    users = admin.client.get("/api/v1/users", params={"q": username}).json()["items"]
    return int(next(user["id"] for user in users if user["username"] == username))


def _token(admin: Any, user_id: int, name: str) -> int:
    response = admin.client.post(
        "/api/v1/api-tokens", json={"name": name, "user_id": user_id, "scopes": ["api.access"]}
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _branch_managers_may_manage_tokens(admin: Any) -> None:
    role = next(r for r in admin.client.get("/api/v1/roles").json() if r["code"] == "branch_manager")
    response = admin.client.put(
        f"/api/v1/roles/{role['id']}/permissions",
        json={"permissions": [*role["permissions"], "api_token.manage"], "reason": "branch systems"},
    )
    assert response.status_code == 200, response.text


def test_branch_token_manager_sees_and_serves_only_its_branch_api_clients(signed_in) -> None:  # type: ignore[no-untyped-def]
    admin = signed_in("admin")
    created = admin.client.post(
        "/api/v1/users",
        json={
            "username": "sys.bj",
            "display_name": "北京分行系统",
            "org_unit_id": _unit_id(admin, "BJ"),
            "role": "api_client",
        },
    )
    assert created.status_code == 201, created.text
    branch_token = _token(admin, created.json()["id"], "branch system")
    callcenter = _user_id(admin, "callcenter")
    head_office_token = _token(admin, callcenter, "head office system")
    _branch_managers_may_manage_tokens(admin)

    manager = signed_in("bm.beijing").client
    listed = {token["id"] for token in manager.get("/api/v1/api-tokens").json()["items"]}
    assert listed == {branch_token}

    issued = manager.post(
        "/api/v1/api-tokens", json={"name": "x", "user_id": callcenter, "scopes": ["api.access"]}
    )
    assert issued.status_code == 422
    assert issued.json()["errors"][0]["field"] == "user_id"

    revoked = manager.post(f"/api/v1/api-tokens/{head_office_token}/revoke", json={"reason": "not mine"})
    assert revoked.status_code == 404
    assert revoked.json()["type"] == "/problems/api-token-not-found"
    own = manager.post(f"/api/v1/api-tokens/{branch_token}/revoke", json={"reason": "mine"})
    assert own.status_code == 200, own.text
