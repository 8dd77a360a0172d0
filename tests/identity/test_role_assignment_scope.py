"""A user administrator gives no role whose data scope is wider than their own."""

from __future__ import annotations

from typing import Any

import pytest

from bankcrm.core.principal import DataScope


def _grant_user_write_to_branch_managers(admin: Any) -> None:
    role = next(r for r in admin.client.get("/api/v1/roles").json() if r["code"] == "branch_manager")
    response = admin.client.put(
        f"/api/v1/roles/{role['id']}/permissions",
        json={"permissions": [*role["permissions"], "user.write"], "reason": "branch user administration"},
    )
    assert response.status_code == 200, response.text


def _unit_id(client: Any, code: str) -> int:
    units = client.get("/api/v1/org-units", params={"q": code, "size": 200}).json()["items"]
    return int(next(unit["id"] for unit in units if unit["code"] == code))


@pytest.mark.parametrize(
    ("role", "status"),
    [("relationship_manager", 201), ("sub_branch_manager", 201), ("executive", 422), ("admin", 422)],
)
def test_branch_user_administrator_creates_no_account_wider_than_the_branch(
    signed_in,  # type: ignore[no-untyped-def]
    role: str,
    status: int,
) -> None:
    _grant_user_write_to_branch_managers(signed_in("admin"))
    manager = signed_in("bm.beijing").client
    response = manager.post(
        "/api/v1/users",
        json={
            "username": "new.user",
            "display_name": "新同事",
            "org_unit_id": _unit_id(manager, "BJ-HD-T1"),
            "role": role,
            "password": "Brand!New-Colleague-2027",
        },
    )
    assert response.status_code == status, response.text
    if status == 422:
        assert [(e["field"], e["rule"]) for e in response.json()["errors"]] == [("role", "user.role_scope")]


def test_branch_user_administrator_cannot_widen_a_users_role(signed_in) -> None:  # type: ignore[no-untyped-def]
    _grant_user_write_to_branch_managers(signed_in("admin"))
    manager = signed_in("bm.beijing").client
    user = next(u for u in manager.get("/api/v1/users", params={"q": "rm.zhang"}).json()["items"])
    body = {
        "display_name": user["display_name"],
        "org_unit_id": user["org_unit_id"],
        "role": "executive",
        "version": user["version"],
    }
    response = manager.patch(f"/api/v1/users/{user['id']}", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["rule"] == "user.role_scope"
    renamed = manager.patch(
        f"/api/v1/users/{user['id']}",
        json={**body, "role": "relationship_manager", "display_name": "张晓明2"},
    )
    assert renamed.status_code == 200, renamed.text


def test_data_scopes_are_ordered_own_subtree_all() -> None:
    assert DataScope.ALL.wider_than(DataScope.SUBTREE)
    assert DataScope.SUBTREE.wider_than(DataScope.OWN)
    assert not DataScope.SUBTREE.wider_than(DataScope.SUBTREE)
    assert not DataScope.OWN.wider_than(DataScope.ALL)
