"""PrincipalRoute: the credential is looked up in the thread-pool hop that runs the route's code,
once per request, and 401/403 still outrank 422 for a bad parameter."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Annotated, Any

import anyio.to_thread
import pytest
from fastapi import Depends, FastAPI, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import ResponseValidationError
from fastapi.testclient import TestClient
from pydantic import BaseModel, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import JSONResponse, Response

from bankcrm.audit.models import AuditEvent
from bankcrm.core.errors import DomainError
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.identity.schemas import ApiTokenCreate
from bankcrm.identity.service import tokens
from bankcrm.identity.service import users as user_service
from bankcrm.web.auth import PrincipalRoute, current_principal, is_principal_dependency, require
from bankcrm.web.errors import STATUS_BY_KIND
from tests.web.support import CALLER, api_routes

WEAK = Principal(**{**CALLER.__dict__, "permissions": frozenset({Permission.API_ACCESS.value})})

# The number of the thread-pool hop a piece of code runs in (0: on the event loop).
HOP: ContextVar[int] = ContextVar("hop", default=0)


@dataclass
class Lookups:
    """A fake resolver: ``Bearer good`` may read users, ``Bearer weak`` may not, anything else is nobody."""

    hops: list[int] = field(default_factory=list)

    def __call__(self, request: Request) -> Principal | None:
        self.hops.append(HOP.get())
        return {"Bearer good": CALLER, "Bearer weak": WEAK}.get(request.headers.get("authorization", ""))


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[Callable[..., Any]]:
    """Numbers every thread-pool hop; the worker sees its number in ``HOP``."""
    taken: list[Callable[..., Any]] = []
    original = anyio.to_thread.run_sync

    async def numbered(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        taken.append(func)
        token = HOP.set(len(taken))  # the worker runs in a copy of this context
        try:
            return await original(func, *args, **kwargs)
        finally:
            HOP.reset(token)

    monkeypatch.setattr(anyio.to_thread, "run_sync", numbered)
    return taken


# The hops in which a Greeting was checked against its model.
checked_in: list[int] = []


class Greeting(BaseModel):
    text: str
    hop: int

    @field_validator("text")
    @classmethod
    def _note_the_hop(cls, value: str) -> str:
        checked_in.append(HOP.get())
        return value


def _client(lookups: Lookups) -> TestClient:
    app = FastAPI()
    app.router.route_class = PrincipalRoute
    app.state.principal_resolver = lookups

    async def domain_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        return JSONResponse({"code": exc.code}, status_code=STATUS_BY_KIND[exc.kind])

    app.add_exception_handler(DomainError, domain_error)

    @app.get("/users")
    def users(
        first: Principal = Depends(current_principal),
        second: Principal = Depends(require(Permission.USER_READ)),
        size: Annotated[int, Query(ge=1, le=100)] = 25,
    ) -> dict[str, Any]:
        return {"user": second.username, "same": first is second, "size": size, "hop": HOP.get()}

    async def unit_of(principal: Principal = Depends(current_principal)) -> int:
        return principal.org_unit_id

    @app.get("/unit")
    def unit(unit_id: int = Depends(unit_of)) -> dict[str, Any]:
        return {"unit": unit_id, "hop": HOP.get()}

    @app.get("/greeting", response_model=Greeting)
    def greeting(principal: Principal = Depends(current_principal), text: str = "hello") -> Any:
        return {"hop": HOP.get()} | ({} if text == "omit" else {"text": text})  # "omit": no text

    @app.get("/async")
    async def asynchronous(principal: Principal = Depends(current_principal)) -> dict[str, Any]:
        return {"user": principal.username, "hop": HOP.get()}

    return TestClient(app)


def test_the_credential_is_looked_up_once_in_the_hop_that_runs_the_route(hops: list[Any]) -> None:
    lookups = Lookups()
    response = _client(lookups).get("/users", headers={"Authorization": "Bearer good"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user"] == "callcenter"
    assert body["same"] is True  # each dependency's answer is the principal itself, checked
    assert lookups.hops == [body["hop"]]  # one lookup, in the route's own hop
    assert body["hop"] > 0  # never on the event loop


def test_a_request_without_a_credential_is_refused_without_a_lookup(hops: list[Any]) -> None:
    lookups = Lookups()
    assert _client(lookups).get("/users").status_code == 401
    assert lookups.hops == []


@pytest.mark.parametrize(
    ("authorization", "status"),
    [(None, 401), ("Bearer unknown", 401), ("Bearer weak", 403), ("Bearer good", 422)],
)
def test_a_bad_parameter_is_answered_only_after_who_is_asking(
    hops: list[Any], authorization: str | None, status: int
) -> None:
    lookups = Lookups()
    headers = {"Authorization": authorization} if authorization else {}
    response = _client(lookups).get("/users", params={"size": "0"}, headers=headers)
    assert response.status_code == status, response.text
    assert len(lookups.hops) == (1 if authorization else 0)
    assert all(hop > 0 for hop in lookups.hops)


def test_a_permission_is_still_enforced_when_the_route_has_valid_parameters(hops: list[Any]) -> None:
    response = _client(Lookups()).get("/users", headers={"Authorization": "Bearer weak"})
    assert response.status_code == 403
    assert response.json()["code"] == "permission-denied"


def test_a_dependency_that_needs_the_principal_gets_it_in_a_hop_of_its_own(hops: list[Any]) -> None:
    lookups = Lookups()
    response = _client(lookups).get("/unit", headers={"Authorization": "Bearer good"})
    assert response.status_code == 200, response.text
    assert response.json()["unit"] == CALLER.org_unit_id
    assert len(lookups.hops) == 1
    assert lookups.hops[0] not in (0, response.json()["hop"])


def test_a_json_route_checks_its_result_against_its_model_in_the_hop_that_ran_it(hops: list[Any]) -> None:
    checked_in.clear()
    response = _client(Lookups()).get("/greeting", headers={"Authorization": "Bearer good"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["text"] == "hello"
    assert len(hops) == 1  # FastAPI would check a def route's result in a second hop
    assert checked_in == [body["hop"]]


def test_a_result_that_breaks_its_model_is_still_a_response_validation_error(hops: list[Any]) -> None:
    client = _client(Lookups())
    with pytest.raises(ResponseValidationError):
        client.get("/greeting", params={"text": "omit"}, headers={"Authorization": "Bearer good"})


def test_an_async_route_looks_the_credential_up_in_a_hop_of_its_own(hops: list[Any]) -> None:
    lookups = Lookups()
    response = _client(lookups).get("/async", headers={"Authorization": "Bearer good"})
    assert response.status_code == 200, response.text
    assert response.json()["hop"] == 0
    assert len(lookups.hops) == 1
    assert lookups.hops[0] > 0


# ---------------------------------------------------------------- the application


def _nested_principal_dependencies(dependant: Dependant) -> Iterator[str]:
    for sub in dependant.dependencies:
        for nested in sub.dependencies:
            if is_principal_dependency(nested.call) or any(_nested_principal_dependencies(nested)):
                yield str(sub.call)


def test_every_route_of_the_app_looks_its_principal_up_in_its_own_hop(app: FastAPI) -> None:
    routes = list(api_routes(app.routes))
    assert len(routes) > 100, "the walk must reach the included routers"
    assert [r.path for r in routes if not isinstance(r, PrincipalRoute)] == []
    # A dependency that needed the principal would cost its route the hop again (and is allowed).
    assert [r.path for r in routes if any(_nested_principal_dependencies(r.dependant))] == []
    sync_with_principal = [
        r
        for r in routes
        if not inspect.iscoroutinefunction(inspect.unwrap(r.endpoint))
        and any(is_principal_dependency(sub.call) for sub in r.dependant.dependencies)
    ]
    assert len(sync_with_principal) > 100
    assert all(isinstance(r, PrincipalRoute) and r.settles_principal for r in sync_with_principal)


def _api_token(db: Session, as_user: Callable[[str], Principal], scopes: list[str]) -> str:
    client_user = user_service.find_user_by_username(db, "callcenter")
    assert client_user is not None
    issued = tokens.issue_token(
        db, as_user("admin"), data=ApiTokenCreate(name="warehouse", user_id=client_user.id, scopes=scopes)
    )
    db.flush()
    return issued.token


def test_an_unauthenticated_request_with_a_bad_query_parameter_gets_401_not_422(client: TestClient) -> None:
    response = client.get("/api/v1/users", params={"page": "abc"})
    assert response.status_code == 401, response.text
    unknown = client.get(
        "/api/v1/users", params={"page": "abc"}, headers={"Authorization": "Bearer not-a-token"}
    )
    assert unknown.status_code == 401, unknown.text
    assert unknown.json()["type"] == "/problems/authentication-required"


def test_a_token_without_the_right_and_a_bad_parameter_gets_an_audited_403_not_422(
    client: TestClient, db: Session, as_user: Callable[[str], Principal]
) -> None:
    token = _api_token(db, as_user, ["api.access"])  # the API, but not the org units
    response = client.get(
        "/api/v1/org-units", params={"size": "100000"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 403, response.text
    denial = db.execute(select(AuditEvent).where(AuditEvent.action == "permission_denied")).scalar_one()
    assert denial.actor_name == "callcenter"
    assert "/api/v1/org-units" in denial.changes


def test_a_token_with_the_right_and_a_bad_parameter_gets_422(
    client: TestClient, db: Session, as_user: Callable[[str], Principal]
) -> None:
    token = _api_token(db, as_user, ["api.access", "org.read"])
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/org-units", params={"size": "100000"}, headers=headers).status_code == 422
    assert client.get("/api/v1/org-units", params={"size": "5"}, headers=headers).status_code == 200
