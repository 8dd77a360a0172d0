"""The role -> permission map as data, and bearer tokens for other bank systems."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from bankcrm.core.context import Actor
from bankcrm.core.db import utcnow
from bankcrm.core.errors import PermissionDenied, ValidationFailed
from bankcrm.core.pagination import PageRequest
from bankcrm.core.permissions import Permission
from bankcrm.identity.models import ApiToken, KnownPermission, Role, RolePermission
from bankcrm.identity.schemas import ApiTokenCreate, RolePermissionsUpdate
from bankcrm.identity.service import roles, tokens
from bankcrm.identity.service import users as user_service
from tests.conftest import principal_for


def role(db: Session, code: str) -> Role:
    return db.query(Role).filter_by(code=code).one()


def principal_permissions(db: Session, role_id: int) -> list[str]:
    return [row.permission for row in db.query(RolePermission).filter_by(role_id=role_id)]


def test_an_administrator_edits_a_role_and_the_change_applies_at_once(db: Session, as_user, settings) -> None:  # type: ignore[no-untyped-def]
    analyst = role(db, "analyst")
    before = as_user("analyst")
    assert not before.can(Permission.USER_READ)
    granted = sorted({*before.permissions, Permission.USER_READ.value})
    roles.update_role_permissions(
        db,
        as_user("admin"),
        role_id=analyst.id,
        data=RolePermissionsUpdate(permissions=granted, reason="quarterly review"),
    )
    fresh = principal_for(db, settings, "analyst")  # a new request resolves the role afresh
    assert fresh.can(Permission.USER_READ)


def test_a_revoked_permission_is_gone_at_the_next_request_of_a_signed_in_user(  # type: ignore[no-untyped-def]
    db: Session, as_user, settings
) -> None:
    analyst = role(db, "analyst")
    before = principal_for(db, settings, "analyst")  # resolves, and caches, the role's permissions
    assert before.can(Permission.HOME_VIEW)
    stamp = analyst.permissions_stamp
    kept = sorted(p for p in before.permissions if p != Permission.HOME_VIEW.value)
    roles.update_role_permissions(
        db,
        as_user("admin"),
        role_id=analyst.id,
        data=RolePermissionsUpdate(permissions=kept, reason="review"),
    )
    assert analyst.permissions_stamp != stamp
    assert not principal_for(db, settings, "analyst").can(Permission.HOME_VIEW)


def test_unknown_permissions_are_refused(db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as caught:
        roles.update_role_permissions(
            db,
            as_user("admin"),
            role_id=role(db, "analyst").id,
            data=RolePermissionsUpdate(permissions=["home.view", "rule.everything"], reason="typo"),
        )
    assert caught.value.problems[0].rule == "role.permission_exists"


def test_the_administrator_role_cannot_lose_the_rights_to_repair_itself(db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as caught:
        roles.update_role_permissions(
            db,
            as_user("admin"),
            role_id=role(db, "admin").id,
            data=RolePermissionsUpdate(permissions=["home.view"], reason="cleanup"),
        )
    assert caught.value.problems[0].rule == "role.admin_essentials"


def test_only_role_writers_edit_roles(db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        roles.update_role_permissions(
            db,
            as_user("exec"),
            role_id=role(db, "analyst").id,
            data=RolePermissionsUpdate(permissions=[], reason="not allowed"),
        )


def test_a_removed_default_stays_removed_but_new_permissions_get_their_defaults(db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    analyst = role(db, "analyst")
    roles.update_role_permissions(
        db,
        as_user("admin"),
        role_id=analyst.id,
        data=RolePermissionsUpdate(permissions=["home.view"], reason="tighten"),
    )
    # Pretend org.read is new to this deployment: its defaults are granted once...
    db.query(KnownPermission).filter_by(permission="org.read").delete()
    db.query(RolePermission).filter_by(permission="org.read").delete()
    assert roles.sync_roles(db, Actor.system("test")) == ["org.read"]
    assert db.get(RolePermission, (analyst.id, "org.read")) is not None
    # ...while profile.edit, removed by the administrator above, is not re-granted.
    assert roles.sync_roles(db, Actor.system("test")) == []
    assert db.get(RolePermission, (analyst.id, "profile.edit")) is None


def issue(db: Session, admin, scopes: list[str], **overrides: object):  # type: ignore[no-untyped-def]
    client_user = user_service.find_user_by_username(db, "callcenter")
    assert client_user is not None
    values: dict[str, object] = {"name": "call centre prod", "user_id": client_user.id, "scopes": scopes}
    values.update(overrides)
    return tokens.issue_token(db, admin, data=ApiTokenCreate.model_validate(values))


def test_a_token_is_shown_once_and_stored_only_as_a_digest(db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    issued = issue(db, as_user("admin"), ["api.access", "org.read"])
    assert issued.token.startswith("bcrm_")
    stored = db.get(ApiToken, issued.id)
    assert stored is not None
    assert issued.token not in (stored.token_digest, stored.token_prefix)
    listed = tokens.list_tokens(db, as_user("admin"), page=PageRequest())
    assert all(not hasattr(item, "token") for item in listed.items)


def test_bearer_token_calls_the_api_within_its_scopes(client: TestClient, db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    issued = issue(db, as_user("admin"), ["api.access", "org.read"])
    headers = {"Authorization": f"Bearer {issued.token}"}
    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["auth_method"] == "token"
    assert client.get("/api/v1/org-units", headers=headers).status_code == 200
    assert client.get("/api/v1/users", headers=headers).status_code == 403  # not in its role or scopes


def test_scopes_never_exceed_the_role(client: TestClient, db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    issued = issue(db, as_user("admin"), ["api.access", "user.read"])
    response = client.get("/api/v1/users", headers={"Authorization": f"Bearer {issued.token}"})
    assert response.status_code == 403


def test_revoked_expired_and_unknown_tokens_are_refused(client: TestClient, db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    admin = as_user("admin")
    revoked = issue(db, admin, ["api.access"], name="old")
    tokens.revoke_token(db, admin, token_id=revoked.id, reason="rotated")
    expired = issue(db, admin, ["api.access"], name="expired")
    stored = db.get(ApiToken, expired.id)
    assert stored is not None
    stored.expires_at = utcnow() - timedelta(seconds=1)
    db.flush()
    for token in (revoked.token, expired.token, "bcrm_made-up"):
        response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
        assert response.json()["type"] == "/problems/authentication-required"


def test_tokens_are_only_for_api_clients_and_need_api_access(db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    admin = as_user("admin")
    staff = user_service.find_user_by_username(db, "rm.zhang")
    assert staff is not None
    with pytest.raises(ValidationFailed) as caught:
        tokens.issue_token(db, admin, data=ApiTokenCreate(name="x", user_id=staff.id, scopes=["api.access"]))
    assert caught.value.problems[0].rule == "token.api_client"
    with pytest.raises(ValidationFailed) as caught:
        issue(db, admin, ["org.read"])
    assert {p.rule for p in caught.value.problems} == {"token.api_access"}


def test_disabling_the_client_user_stops_its_tokens(client: TestClient, db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    admin = as_user("admin")
    issued = issue(db, admin, ["api.access"])
    client_user = user_service.find_user_by_username(db, "callcenter")
    assert client_user is not None
    user_service.set_user_active(db, admin, user_id=client_user.id, active=False, reason="system retired")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {issued.token}"}).status_code == 401


def test_api_clients_cannot_sign_in_to_the_web(db: Session, settings) -> None:  # type: ignore[no-untyped-def]
    from bankcrm.core.context import Origin
    from bankcrm.demo.seed import DEMO_PASSWORD
    from bankcrm.identity.service import auth

    assert not auth.login(
        db, username="callcenter", password=DEMO_PASSWORD, origin=Origin(), settings=settings
    ).ok


def test_a_token_that_just_worked_stops_at_the_next_request_once_revoked_or_its_user_disabled(  # type: ignore[no-untyped-def]
    client: TestClient, db: Session, as_user
) -> None:
    def me(token: str) -> int:
        return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code

    admin = as_user("admin")
    revoked = issue(db, admin, ["api.access"], name="revoked")
    disabled = issue(db, admin, ["api.access"], name="disabled")
    assert (me(revoked.token), me(disabled.token)) == (200, 200)
    tokens.revoke_token(db, admin, token_id=revoked.id, reason="leaked")
    assert (me(revoked.token), me(disabled.token)) == (401, 200)
    client_user = user_service.find_user_by_username(db, "callcenter")
    assert client_user is not None
    user_service.set_user_active(db, admin, user_id=client_user.id, active=False, reason="system retired")
    assert me(disabled.token) == 401


def test_whole_bank_data_rights_go_only_to_roles_of_the_whole_bank(db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    """Batches, rejected records and match pairs belong to no branch: a branch role holding them
    would see and merge the whole bank's."""
    manager = role(db, "branch_manager")
    before = set(principal_permissions(db, manager.id))
    with pytest.raises(ValidationFailed) as caught:
        roles.update_role_permissions(
            db,
            as_user("admin"),
            role_id=manager.id,
            data=RolePermissionsUpdate(
                permissions=sorted({*before, Permission.MATCH_REVIEW.value}), reason="help the data team"
            ),
        )
    assert [(p.rule, p.value) for p in caught.value.problems] == [
        ("role.whole_bank_only", Permission.MATCH_REVIEW.value)
    ]
    assert set(principal_permissions(db, manager.id)) == before
    executive = role(db, "executive")
    granted = sorted({*principal_permissions(db, executive.id), Permission.INTEGRATION_READ.value})
    roles.update_role_permissions(
        db,
        as_user("admin"),
        role_id=executive.id,
        data=RolePermissionsUpdate(permissions=granted, reason="data stewardship"),
    )
