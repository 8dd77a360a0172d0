"""Route dependencies that resolve the principal and enforce a route's permission.

Identity registers the resolver at start-up (``app.state.principal_resolver``); the web layer only
knows the resulting ``Principal``, so it never imports identity.

Looking a credential up reads the database, so it never runs on the event loop. In a route served
by ``PrincipalRoute`` (every route of the app) whose code is a plain ``def``, the dependencies below
only note what they will check, and the lookup and the checks run in the thread-pool hop that runs
the route's code, just before it: one hop per request instead of two. Anywhere else the lookup has
a hop of its own, before the route. Either way a request without a token or session cookie is
anonymous without a lookup, the credential is looked up at most once per request, and a route's 401
or 403 outranks a 422 for a bad parameter.
"""

from __future__ import annotations

import functools
import inspect
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from contextvars import ContextVar
from typing import Any, Protocol, cast

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from bankcrm.core.errors import AuthenticationRequired, PermissionDenied
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.web.params import query_names, reject_unknown_query
from bankcrm.web.security import API_PREFIX, carries_credential


class PrincipalResolver(Protocol):
    def __call__(self, request: Request) -> Principal | None: ...


Check = Callable[[Principal | None], Principal | None]


class PendingPrincipal:
    """A principal dependency's answer while the lookup waits for the route's own hop: the check
    to apply to whoever the credential turns out to be.

    ``PrincipalRoute`` puts the checked principal in its place before the route's code runs. It has
    none of a principal's attributes, so anything that got hold of one unsettled fails loudly rather
    than passing for someone.
    """

    __slots__ = ("check", "value")

    def __init__(self, check: Check) -> None:
        self.check = check
        self.value: Principal | None = None


class Deferral:
    """The principal checks a request put off until its route's thread-pool hop."""

    __slots__ = ("pending", "request", "settled")

    def __init__(self, request: Request) -> None:
        self.request = request
        self.pending: list[PendingPrincipal] = []
        self.settled = False

    def defer(self, check: Check) -> PendingPrincipal:
        pending = PendingPrincipal(check)
        self.pending.append(pending)
        return pending

    def settle(self) -> None:
        """Look the credential up (it reads the database: in a worker thread, never on the event
        loop) and apply every deferred check in the order the dependencies asked; the first to fail
        raises its 401 or 403."""
        if self.settled:
            return
        self.settled = True
        principal = _looked_up(self.request)
        for pending in self.pending:
            pending.value = pending.check(principal)


_DEFERRAL: ContextVar[Deferral | None] = ContextVar("bankcrm_principal_deferral", default=None)
_PRINCIPAL_DEPENDENCIES: weakref.WeakSet[Callable[..., Any]] = weakref.WeakSet()


def _looked_up(request: Request) -> Principal | None:
    """The request's principal, resolved at most once (sync: reads the database)."""
    state = request.state
    if not hasattr(state, "principal"):
        resolver: PrincipalResolver = request.app.state.principal_resolver
        state.principal = resolver(request)
    found: Principal | None = state.principal
    return found


async def _principal(request: Request, check: Check) -> Principal | None:
    state = request.state
    if hasattr(state, "principal"):
        return check(state.principal)
    if not carries_credential(request):
        state.principal = None
        return check(None)
    deferral = _DEFERRAL.get()
    if deferral is not None and deferral.request.scope is request.scope:
        # Settled by PrincipalRoute before the route's code; typed as what it will be by then.
        return cast(Principal, deferral.defer(check))
    return check(await run_in_threadpool(_looked_up, request))


def _optional(principal: Principal | None) -> Principal | None:
    return principal


def _authenticated(principal: Principal | None) -> Principal:
    if principal is None:
        raise AuthenticationRequired()
    if principal.auth_method == "token" and not principal.can(Permission.API_ACCESS):
        # The token's scopes and its role must both still allow calling the API at all.
        raise PermissionDenied(permission=Permission.API_ACCESS.value)
    return principal


def _principal_dependency(dependency: Callable[..., Any]) -> None:
    _PRINCIPAL_DEPENDENCIES.add(dependency)


# The dependencies below are async and call ``_principal`` directly rather than each other through
# ``Depends``: FastAPI runs a sync dependency in the thread pool (a hop that cost about as much as a
# small query, docs/benchmarks.md), and every level of nested dependencies is solved with its own
# pass over path, query, header and cookie parameters.


async def optional_principal(request: Request) -> Principal | None:
    """The signed-in principal or None."""
    return await _principal(request, _optional)


async def current_principal(request: Request) -> Principal:
    principal = await _principal(request, _authenticated)
    return cast(Principal, principal)  # _authenticated never lets None through


def require(permission: Permission) -> Callable[..., Awaitable[Principal]]:
    """``principal = Depends(require(Permission.USER_READ))`` - declares and enforces the right."""

    def check(principal: Principal | None) -> Principal:
        checked = _authenticated(principal)
        checked.require(permission)
        return checked

    async def dependency(request: Request) -> Principal:
        return cast(Principal, await _principal(request, check))

    dependency.__name__ = f"require_{permission.name.lower()}"
    _principal_dependency(dependency)
    return dependency


_principal_dependency(optional_principal)
_principal_dependency(current_principal)


def is_principal_dependency(call: Callable[..., Any] | None) -> bool:
    return call is not None and call in _PRINCIPAL_DEPENDENCIES


# ---------------------------------------------------------------- the route class


def _settles_first(endpoint: Callable[..., Any], route: PrincipalRoute) -> Callable[..., Any]:
    """The route's code, preceded in its own worker thread by the principal lookup and checks the
    request deferred (if any), then by the JSON API's check for unknown query parameters (after
    the principal's, so a 401 or 403 still comes first)."""

    @functools.wraps(endpoint)
    def settled_first(**values: Any) -> Any:
        deferral = _DEFERRAL.get()
        if deferral is not None and deferral.pending:
            deferral.settle()
            values = {
                name: value.value if isinstance(value, PendingPrincipal) else value
                for name, value in values.items()
            }
        if deferral is not None and route.known_query is not None:
            reject_unknown_query(deferral.request, route.known_query)
        return endpoint(**values)

    return settled_first


def _in_worker_thread(endpoint: Callable[..., Any], route: PrincipalRoute) -> Callable[..., Any]:
    """The route's code as a coroutine that runs it in the thread pool and, in the same hop, checks
    its result against the route's response model.

    FastAPI checks a ``def`` route's result in a thread-pool hop of its own (a result may read lazy
    attributes, so it keeps that off the loop): two hops for every JSON route, each a handover of
    the interpreter lock between the loop's thread and a worker, which cost a quarter of a
    millisecond of waiting on this machine. Checked here, the result reaches FastAPI as the model
    it already is; FastAPI's own check, now on the loop since the route is a coroutine, accepts it
    as it stands and serialises it exactly as before.
    """

    @functools.wraps(endpoint)
    async def in_worker_thread(**values: Any) -> Any:
        return await run_in_threadpool(_checked_result, route, endpoint, values)

    return in_worker_thread


def _checked_result(route: PrincipalRoute, endpoint: Callable[..., Any], values: dict[str, Any]) -> Any:
    result = endpoint(**values)
    field = route.response_field
    if field is None or isinstance(result, Response):
        return result
    checked, errors = field.validate(result, {}, loc=("response",))
    # A result that fails the model goes back as it came: FastAPI's check reports it as before.
    return result if errors else checked


def _is_plain_function(endpoint: Callable[..., Any]) -> bool:
    """A ``def`` that FastAPI runs in the thread pool and whose result it takes as it is."""
    return (
        inspect.isfunction(endpoint)
        and not inspect.iscoroutinefunction(endpoint)
        and not inspect.isgeneratorfunction(endpoint)
        and not inspect.isasyncgenfunction(endpoint)
    )


def _defers(dependant: Dependant) -> bool:
    """Whether the route asks for a principal, and only directly: a dependency that itself needs
    the principal must get a real one, so such a route looks it up in a hop of its own."""
    direct = any(is_principal_dependency(sub.call) for sub in dependant.dependencies)
    return direct and not any(_needs_principal(sub) for sub in dependant.dependencies)


def _needs_principal(dependant: Dependant) -> bool:
    return any(is_principal_dependency(sub.call) or _needs_principal(sub) for sub in dependant.dependencies)


RouteHandler = Callable[[Request], Coroutine[Any, Any, Response]]


class PrincipalRoute(APIRoute):
    """A route that looks its credential up in the thread-pool hop that runs its code.

    FastAPI solves the dependencies on the event loop, then runs a ``def`` route in the thread
    pool. A credential lookup reads the database, so it cannot run on the loop (on a busy pool a
    checkout there can wait for connections that only the loop can give back); on its own it costs a
    hop of its own. Here the principal dependencies defer it, and the route's code, wrapped, settles
    the deferral first in its own worker thread. When something fails before the route's code runs
    (a bad parameter answers 422), the lookup and checks run then, so 401 and 403 still come first.
    The same hop checks the route's result against its response model (``_in_worker_thread``), so
    a JSON route costs one hop, not two.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        self.settles_principal = _is_plain_function(endpoint)
        if self.settles_principal:
            endpoint = _in_worker_thread(_settles_first(endpoint, self), self)
        super().__init__(path, endpoint, **kwargs)
        # FastAPI ignores query parameters a route does not take, so a misspelt filter would answer
        # as if applied; the JSON API rejects them (422 naming each), as it rejects unknown fields.
        self.known_query = query_names(self.dependant) if path.startswith(API_PREFIX) else None

    def get_route_handler(self) -> RouteHandler:
        handler = super().get_route_handler()
        if not (self.settles_principal and _defers(self.dependant)):
            return handler

        async def deferring_handler(request: Request) -> Response:
            deferral = Deferral(request)
            token = _DEFERRAL.set(deferral)
            try:
                return await handler(request)
            except Exception:
                if deferral.pending and not deferral.settled:
                    # The route's code never ran: who is asking, and may they, outranks the error.
                    await run_in_threadpool(deferral.settle)
                raise
            finally:
                _DEFERRAL.reset(token)

        return deferring_handler
