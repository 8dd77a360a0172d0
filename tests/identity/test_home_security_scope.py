"""The home page's users-and-sessions figures count only users within the viewer's data scope."""

from __future__ import annotations

import re
from typing import Any


def _figures(html: str) -> list[int]:
    widget = html[html.index('data-testid="w-security"') :]
    widget = widget[: widget.index("</section>")]
    return [int(value.replace(",", "")) for value in re.findall(r'<dd class="num">([\d,]+)</dd>', widget)]


def _grant(admin: Any, role_code: str, *permissions: str) -> None:
    role = next(r for r in admin.client.get("/api/v1/roles").json() if r["code"] == role_code)
    response = admin.client.put(
        f"/api/v1/roles/{role['id']}/permissions",
        json={"permissions": [*role["permissions"], *permissions], "reason": "branch security view"},
    )
    assert response.status_code == 200, response.text


def test_branch_manager_home_counts_only_the_branchs_users_and_sessions(signed_in) -> None:  # type: ignore[no-untyped-def]
    admin = signed_in("admin")
    bank_active = _figures(admin.client.get("/").text)[0]
    assert bank_active == 12  # every demo user
    _grant(admin, "branch_manager", "role.read")
    manager = signed_in("bm.beijing").client
    active, disabled, locked, sessions = _figures(manager.get("/").text)
    # bm.beijing, sbm.haidian, rm.zhang, rm.chen; the manager's own session (and admin's is not theirs)
    assert (active, disabled, locked, sessions) == (4, 0, 0, 1)
