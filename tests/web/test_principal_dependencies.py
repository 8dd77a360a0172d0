"""The principal dependencies: one lookup per request, in the thread pool, and none without a credential."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from fastapi import Depends, FastAPI, Request
from fastapi.testclient import TestClient

from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.web.auth import current_principal, optional_principal, require
from bankcrm.web.security import SESSION_COOKIE
from tests.web.support import CALLER


@dataclass
class Lookups:
    """What the fake resolver saw: the thread of each call."""

    threads: list[int] = field(default_factory=list)

    def __call__(self, request: Request) -> Principal | None:
        self.threads.append(threading.get_ident())
        return CALLER if request.headers.get("authorization") or request.cookies.get(SESSION_COOKIE) else None


def _client(lookups: Lookups) -> TestClient:
    app = FastAPI()
    app.state.principal_resolver = lookups

    @app.get("/optional")
    async def optional(principal: Principal | None = Depends(optional_principal)) -> dict[str, object]:
        return {"user": principal.username if principal else None, "loop": threading.get_ident()}

    @app.get("/guarded")
    async def guarded(
        first: Principal = Depends(current_principal),
        second: Principal = Depends(require(Permission.USER_READ)),
    ) -> dict[str, object]:
        return {"same": first is second, "loop": threading.get_ident()}

    return TestClient(app)


def test_a_request_without_credential_is_anonymous_without_a_lookup() -> None:
    lookups = Lookups()
    response = _client(lookups).get("/optional")
    assert response.json()["user"] is None
    assert lookups.threads == []


def test_a_credential_is_looked_up_once_per_request_in_the_thread_pool() -> None:
    lookups = Lookups()
    response = _client(lookups).get("/guarded", headers={"Authorization": "Bearer abc"})
    assert response.status_code == 200, response.text
    assert response.json()["same"] is True
    assert len(lookups.threads) == 1
    assert lookups.threads[0] != response.json()["loop"]  # a database read never runs on the event loop


def test_a_session_cookie_is_a_credential() -> None:
    lookups = Lookups()
    client = _client(lookups)
    client.cookies.set(SESSION_COOKIE, "s3cret")
    assert client.get("/optional").json()["user"] == "callcenter"
    assert len(lookups.threads) == 1
