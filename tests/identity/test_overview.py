"""The home page's user figures: active, disabled, locked and active by role, from one count."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bankcrm.core.config import Settings
from bankcrm.core.context import Origin
from bankcrm.identity.service import auth, overview
from bankcrm.identity.service import users as user_service


def _user_id(db: Session, username: str) -> int:
    user = user_service.find_user_by_username(db, username)
    assert user is not None
    return user.id


def _lock_out(db: Session, settings: Settings, username: str) -> None:
    for _ in range(settings.lockout_threshold):
        result = auth.login(
            db, username=username, password="wrong-password-0", origin=Origin(), settings=settings
        )
        assert not result.ok


def test_figures_count_disabled_and_locked_users_and_active_users_by_role(
    db: Session, settings: Settings, as_user
) -> None:  # type: ignore[no-untyped-def]
    admin = as_user("admin")
    before = overview.security_overview(db, admin)
    roles_before = overview.org_overview(db, admin).users_by_role
    user_service.set_user_active(
        db, admin, user_id=_user_id(db, "rm.chen"), active=False, reason="left the bank"
    )
    _lock_out(db, settings, "rm.zhang")

    after = overview.security_overview(db, admin)
    assert after.active_users == before.active_users - 1
    assert after.disabled_users == before.disabled_users + 1
    assert after.locked_users == before.locked_users + 1  # locked, yet still active
    roles_after = overview.org_overview(db, admin).users_by_role
    assert roles_after["relationship_manager"] == roles_before["relationship_manager"] - 1
    assert {code: n for code, n in roles_after.items() if code != "relationship_manager"} == {
        code: n for code, n in roles_before.items() if code != "relationship_manager"
    }


def test_figures_stay_within_the_viewers_data_scope(db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    admin = as_user("admin")
    manager = as_user("bm.beijing")
    bank = overview.org_overview(db, admin).users_by_role
    branch = overview.org_overview(db, manager).users_by_role
    assert branch  # bm.beijing may read users: the figures are there, only fewer
    assert sum(branch.values()) < sum(bank.values())
    assert all(branch[code] <= bank[code] for code in branch)
