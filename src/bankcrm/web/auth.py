"""Route dependencies that resolve the principal and enforce a route's permission.

Identity registers the resolver at start-up (``app.state.principal_resolver``); the web layer only
knows the resulting ``Principal``, so it never imports identity.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from bankcrm.core.errors import AuthenticationRequired, PermissionDenied
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.web.security import carries_credential


class PrincipalResolver(Protocol):
    def __call__(self, request: Request) -> Principal | None: ...


# The dependencies below are async and call each other as plain functions rather than through
# ``Depends``: FastAPI runs a sync dependency in the thread pool (a hop that cost about as much as a
# small query, docs/benchmarks.md), and every level of nested dependencies is solved with its own
# pass over path, query, header and cookie parameters.


async def optional_principal(request: Request) -> Principal | None:
    """The signed-in principal or None; resolved once and cached on the request.

    Looking a credential up reads the database, so that runs in the thread pool; a request that
    carries none is anonymous without a hop.
    """
    if not hasattr(request.state, "principal"):
        resolver: PrincipalResolver = request.app.state.principal_resolver
        principal = await run_in_threadpool(resolver, request) if carries_credential(request) else None
        request.state.principal = principal
    resolved: Principal | None = request.state.principal
    return resolved


async def current_principal(request: Request) -> Principal:
    principal = await optional_principal(request)
    if principal is None:
        raise AuthenticationRequired()
    if principal.auth_method == "token" and not principal.can(Permission.API_ACCESS):
        # The token's scopes and its role must both still allow calling the API at all.
        raise PermissionDenied(permission=Permission.API_ACCESS.value)
    return principal


def require(permission: Permission) -> Callable[..., Awaitable[Principal]]:
    """``principal = Depends(require(Permission.USER_READ))`` - declares and enforces the right."""

    async def dependency(request: Request) -> Principal:
        principal = await current_principal(request)
        principal.require(permission)
        return principal

    dependency.__name__ = f"require_{permission.name.lower()}"
    return dependency
