"""Principal.can takes the enum in Python code and the permission's name in templates."""

from __future__ import annotations

import pytest

from bankcrm.core.permissions import Permission
from bankcrm.core.principal import DataScope, Principal


def _principal(*permissions: Permission) -> Principal:
    return Principal(
        user_id=1,
        username="u",
        display_name="U",
        role="admin",
        org_unit_id=1,
        org_path="/1/",
        org_unit_name="HO",
        scope=DataScope.ALL,
        permissions=frozenset(p.value for p in permissions),
    )


def test_can_accepts_the_enum_and_its_name() -> None:
    principal = _principal(Permission.USER_WRITE)
    assert principal.can(Permission.USER_WRITE)
    assert principal.can("user.write")
    assert not principal.can("org.write")


def test_a_misspelt_permission_name_fails_loudly() -> None:
    with pytest.raises(ValueError, match=r"user\.wrte"):
        _principal().can("user.wrte")
