"""Helpers shared by identity's page modules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request
from starlette.responses import HTMLResponse

from bankcrm.core.principal import Principal
from bankcrm.web.render import Renderer


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    principal: Principal | None,
    status_code: int = 200,
) -> HTMLResponse:
    renderer: Renderer = request.app.state.renderer
    return renderer.render(request, template, context, principal=principal, status_code=status_code)


def parse_bool(value: str | None) -> bool | None:
    return {"1": True, "true": True, "0": False, "false": False}.get((value or "").lower())


def parse_page(value: str | None) -> int:
    try:
        return max(1, min(int(value or "1"), 1_000_000))
    except ValueError:
        return 1
