"""A decision on the match review page that cannot be made for want of a record or a right answers
like every other page (a 404 or 403 page), not with a redirect that reads as a refused rule."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bankcrm.identity.schemas import RolePermissionsUpdate
from bankcrm.identity.service import roles as role_service

MISSING = 987_654_321


def test_a_decision_on_a_missing_pair_is_a_404_page(signed_in, client) -> None:  # type: ignore[no-untyped-def]
    signed_in("admin")
    answer = client.post(f"/integration/matches/{MISSING}/decision", data={"decision": "accept"})
    assert answer.status_code == 404
    assert (
        client.post(f"/api/v1/integration/matches/{MISSING}/decision", json={"accept": True}).status_code
        == 404
    )


def test_a_reviewer_without_the_read_right_gets_a_403_page(  # type: ignore[no-untyped-def]
    db: Session, as_user, signed_in, client
) -> None:
    admin = as_user("admin")
    # A whole-bank role: only such a role may hold an integration right.
    executive = next(role for role in role_service.list_roles(db, admin) if role.code == "executive")
    role_service.update_role_permissions(
        db,
        admin,
        role_id=executive.id,
        data=RolePermissionsUpdate(
            permissions=["home.view", "profile.edit", "integration.match_review"], reason="tests"
        ),
    )
    signed_in("exec")
    answer = client.post(f"/integration/matches/{MISSING}/decision", data={"decision": "accept"})
    assert answer.status_code == 403
    assert (
        client.post(f"/api/v1/integration/matches/{MISSING}/decision", json={"accept": True}).status_code
        == 403
    )
