"""No route pays a thread-pool hop for a dependency that does no I/O."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant

from tests.web.support import api_routes


def _dependencies(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _dependencies(sub)


def test_every_dependency_of_every_route_is_async(app: FastAPI) -> None:
    # FastAPI runs a plain ``def`` dependency in the thread pool: a hop that cost as much as a small
    # query. Database work belongs in the route (one hop) or, like the principal's lookup, is sent
    # to the pool by an async dependency only when there is something to look up.
    sync = {
        f"{route.path}: {call.__module__}.{call.__qualname__}"
        for route in api_routes(app.routes)
        for call in _dependencies(route.dependant)
        if not (inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call))
    }
    assert sum(1 for _ in api_routes(app.routes)) > 100, "the walk must reach the included routers"
    assert not sync, sorted(sync)
