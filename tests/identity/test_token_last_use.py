"""A token's last use is recorded at most once a minute, so API reads do not write every time."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bankcrm.core.config import Settings
from bankcrm.core.context import Origin
from bankcrm.demo import seed
from bankcrm.identity.schemas import ApiTokenCreate
from bankcrm.identity.service import auth, tokens
from bankcrm.identity.service import users as user_service


def test_last_use_is_recorded_once_then_not_again_within_a_minute(
    db: Session, demo: None, settings: Settings
) -> None:
    origin = Origin(ip="127.0.0.1")
    login = auth.login(db, username="admin", password=seed.DEMO_PASSWORD, origin=origin, settings=settings)
    assert login.token is not None
    resolved = auth.resolve_session(db, token=login.token, origin=origin, settings=settings)
    assert resolved is not None
    client = user_service.find_user_by_username(db, "callcenter")
    assert client is not None
    issued = tokens.issue_token(
        db,
        resolved.principal,
        data=ApiTokenCreate(name="warehouse", user_id=client.id, scopes=["api.access"]),
    )

    first = auth.resolve_bearer(db, token=issued.token, origin=origin)
    assert first is not None
    assert first.needs_touch
    tokens.mark_used(db, issued.token)
    db.flush()
    second = auth.resolve_bearer(db, token=issued.token, origin=origin)
    assert second is not None
    assert not second.needs_touch
    assert second.principal.username == "callcenter"
