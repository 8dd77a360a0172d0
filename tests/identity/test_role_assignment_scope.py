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


def test_branch_user_administrator_cannot_act_for_a_wider_account_placed_in_the_branch(signed_in) -> None:  # type: ignore[no-untyped-def]
    """A bank-wide account that sits in the branch is visible to the branch's user administrator,
    but resetting its password (and then signing in as it), disabling, enabling or unlocking it
    is refused; the branch's own RMs are still served."""
    admin = signed_in("admin")
    _grant_user_write_to_branch_managers(admin)
    created = admin.client.post(
        "/api/v1/users",
        json={
            "username": "exec.beijing",
            "display_name": "驻京高管",
            "org_unit_id": _unit_id(admin.client, "BJ"),
            "role": "executive",
            "password": "Head-Office!Wide-2027",
        },
    )
    assert created.status_code == 201, created.text
    wide = created.json()["id"]
    manager = signed_in("bm.beijing")
    assert manager.client.get(f"/api/v1/users/{wide}").status_code == 200
    reason = {"reason": "branch clean-up"}
    for path, body in (
        ("password-reset", {"new_password": "Taken!Over-Account-2027", **reason}),
        ("disable", reason),
        ("enable", reason),
    ):
        answer = manager.client.post(f"/api/v1/users/{wide}/{path}", json=body)
        assert answer.status_code == 403, (path, answer.text)
    unlock = manager.client.post(
        f"/admin/users/{wide}/unlock", data={**reason, "csrf_token": manager.csrf}, follow_redirects=False
    )
    assert unlock.status_code == 403
    rm = next(u for u in manager.client.get("/api/v1/users", params={"q": "rm.zhang"}).json()["items"])
    reset = manager.client.post(
        f"/api/v1/users/{rm['id']}/password-reset", json={"new_password": "Fresh!Start-Key-2027", **reason}
    )
    assert reset.status_code == 200, reset.text


def test_data_scopes_are_ordered_own_subtree_all() -> None:
    assert DataScope.ALL.wider_than(DataScope.SUBTREE)
    assert DataScope.SUBTREE.wider_than(DataScope.OWN)
    assert not DataScope.SUBTREE.wider_than(DataScope.SUBTREE)
    assert not DataScope.OWN.wider_than(DataScope.ALL)
