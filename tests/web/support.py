"""What several web tests share: a caller to resolve to, and a walk over every route of the app."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from bankcrm.core.permissions import Permission
from bankcrm.core.principal import DataScope, Principal

# An API client of head office that may read users: what a test resolver hands out for a credential.
CALLER = Principal(
    user_id=7,
    username="callcenter",
    display_name="Call centre",
    role="api_client",
    org_unit_id=1,
    org_path="/1/",
    org_unit_name="Head office",
    scope=DataScope.ALL,
    permissions=frozenset({Permission.API_ACCESS.value, Permission.USER_READ.value}),
    auth_method="token",
)


def api_routes(routes: Iterable[BaseRoute]) -> Iterator[APIRoute]:
    """Every route of the app, including those of included routers (kept apart since FastAPI 0.16x)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from api_routes(included.routes)
