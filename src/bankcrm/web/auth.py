"""Route dependencies that resolve the principal and enforce a route's permission.

Identity registers the resolver at start-up (``app.state.principal_resolver``); the web layer only
knows the resulting ``Principal``, so it never imports identity.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from fastapi import Depends, Request

from bankcrm.core.errors import AuthenticationRequired, PermissionDenied
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal


class PrincipalResolver(Protocol):
    def __call__(self, request: Request) -> Principal | None: ...


def optional_principal(request: Request) -> Principal | None:
    """The signed-in principal or None; resolved once and cached on the request."""
    if not hasattr(request.state, "principal"):
        resolver: PrincipalResolver = request.app.state.principal_resolver
        request.state.principal = resolver(request)
    principal: Principal | None = request.state.principal
    return principal


# The dependencies below do no I/O, so they are async: FastAPI runs a sync dependency in the thread
# pool, and each such hop cost about as much as a small query (docs/benchmarks.md).
async def current_principal(principal: Principal | None = Depends(optional_principal)) -> Principal:
    if principal is None:
        raise AuthenticationRequired()
    if principal.auth_method == "token" and not principal.can(Permission.API_ACCESS):
        # The token's scopes and its role must both still allow calling the API at all.
        raise PermissionDenied(permission=Permission.API_ACCESS.value)
    return principal


def require(permission: Permission) -> Callable[..., Awaitable[Principal]]:
    """``principal = Depends(require(Permission.USER_READ))`` - declares and enforces the right."""

    async def dependency(principal: Principal = Depends(current_principal)) -> Principal:
        principal.require(permission)
        return principal

    dependency.__name__ = f"require_{permission.name.lower()}"
    return dependency
