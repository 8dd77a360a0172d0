from __future__ import annotations

import pytest

from bankcrm.core.permissions import Permission
from bankcrm.core.principal import DataScope, Principal


def _principal(*permissions: str) -> Principal:
    return Principal(
        user_id=1,
        username="someone",
        display_name="某人",
        role="admin",
        org_unit_id=1,
        org_path="/1/",
        org_unit_name="总行",
        scope=DataScope.ALL,
        permissions=frozenset(permissions),
    )


def test_principal_can_answers_for_a_permission_or_its_name() -> None:
    principal = _principal("audit.read")
    assert principal.can(Permission.AUDIT_READ)
    assert principal.can("audit.read")
    assert not principal.can("audit.export")


def test_principal_can_refuses_a_misspelt_permission_name() -> None:
    with pytest.raises(ValueError, match=r"audit\.exprt"):
        _principal("audit.read").can("audit.exprt")


def test_audit_viewer_page_renders_for_an_administrator(signed_in) -> None:  # type: ignore[no-untyped-def]
    # The page asks principal.can("audit.export") in its template; that used to be a 500.
    response = signed_in("admin").client.get("/admin/audit")
    assert response.status_code == 200, response.text
    assert "/admin/audit/export" in response.text
