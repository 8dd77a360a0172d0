"""One place that turns errors into answers: RFC 9457 problem details for the API, friendly pages
(or HTMX fragments) for the browser, in the user's language."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response

from bankcrm.core.errors import DomainError, FieldProblem, ValidationFailed
from bankcrm.core.i18n import N_, Translator
from bankcrm.core.logging import get_logger
from bankcrm.web.render import Renderer, is_htmx, translator
from bankcrm.web.security import is_api_request

log = get_logger(__name__)

STATUS_BY_KIND = {
    "not_found": 404,
    "conflict": 409,
    "forbidden": 403,
    "unauthenticated": 401,
    "invalid": 422,
    "rate_limited": 429,
    "locked": 423,
}
TITLES = {
    400: N_("Bad request"),
    401: N_("Sign-in required"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    405: N_("Method not allowed"),
    409: N_("Conflict"),
    413: N_("Request too large"),
    422: N_("Invalid input"),
    423: N_("Locked"),
    429: N_("Too many requests"),
    500: N_("Something went wrong"),
}
HTTP_DETAILS = {
    404: N_("The page or record does not exist, or it is outside your data scope."),
    405: N_("This address does not accept that kind of request."),
    500: N_(
        "The error has been logged. Try again; if it keeps happening, contact support with the request id."
    ),
}

DeniedHook = Callable[[Request, DomainError], None]
PROBLEM_RESPONSE: dict[str, Any] = {
    "description": "Problem details (RFC 9457)",
    "content": {"application/problem+json": {}},
}


def wants_json(request: Request) -> bool:
    return is_api_request(request)


def problem_response(
    request: Request,
    *,
    status: int,
    code: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    translate: Translator,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"/problems/{code}",
        "title": translate.gettext(TITLES.get(status, TITLES[500])),
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "request_id": getattr(request.state, "request_id", None),
    }
    if errors:
        body["errors"] = errors
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=headers)


def field_problem_json(problem: FieldProblem, translate: Translator) -> dict[str, Any]:
    value = problem.value
    if value is not None and not isinstance(value, str | int | float | bool):
        value = str(value)
    return {
        "field": problem.field,
        "rule": problem.rule,
        "message": translate.gettext(problem.message, **problem.params),
        "value": value,
    }


def install_error_handlers(app: FastAPI, renderer: Renderer, *, on_denied: DeniedHook | None = None) -> None:
    def html_error(
        request: Request, status: int, detail: str, problems: list[dict[str, Any]] | None = None
    ) -> Response:
        principal = getattr(request.state, "principal", None)
        template = "errors/fragment.html" if is_htmx(request) else "errors/page.html"
        return renderer.render(
            request,
            template,
            {
                "status": status,
                "title": TITLES.get(status, TITLES[500]),
                "detail": detail,
                "problems": problems or [],
            },
            principal=principal,
            status_code=status,
        )

    async def domain_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        status = STATUS_BY_KIND.get(exc.kind, 400)
        translate = translator(request)
        if status == 403 and on_denied is not None:
            on_denied(request, exc)
        detail = translate.gettext(exc.message, **exc.params)
        problems = (
            [field_problem_json(p, translate) for p in exc.problems]
            if isinstance(exc, ValidationFailed)
            else None
        )
        if wants_json(request):
            return problem_response(
                request, status=status, code=exc.code, detail=detail, errors=problems, translate=translate
            )
        if status == 401:
            target = "/login?next=" + quote(request.url.path)
            if is_htmx(request):
                return Response(status_code=204, headers={"HX-Redirect": target})
            return RedirectResponse(target, status_code=303)
        return html_error(request, status, detail, problems)

    async def request_validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        translate = translator(request)
        errors = []
        for error in exc.errors():
            location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")]
            value = error.get("input")
            errors.append(
                {
                    "field": ".".join(location) or "body",
                    "rule": str(error.get("type", "invalid")),
                    "message": str(error.get("msg", "")),
                    "value": value
                    if isinstance(value, str | int | float | bool) or value is None
                    else str(value),
                }
            )
        detail = translate.gettext(ValidationFailed.default_message)
        if wants_json(request):
            return problem_response(
                request,
                status=422,
                code="validation-failed",
                detail=detail,
                errors=errors,
                translate=translate,
            )
        return html_error(request, 422, detail, errors)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        translate = translator(request)
        detail = translate.gettext(
            HTTP_DETAILS.get(exc.status_code, TITLES.get(exc.status_code, TITLES[500]))
        )
        if wants_json(request):
            return problem_response(
                request,
                status=exc.status_code,
                code=f"http-{exc.status_code}",
                detail=detail,
                translate=translate,
            )
        return html_error(request, exc.status_code, detail)

    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception(
            "request.failed", path=request.url.path, request_id=getattr(request.state, "request_id", None)
        )
        translate = translator(request)
        detail = translate.gettext(HTTP_DETAILS[500])
        if wants_json(request):
            return problem_response(
                request, status=500, code="internal-error", detail=detail, translate=translate
            )
        try:
            return html_error(request, 500, detail)
        except Exception:  # the error page itself must not fail
            return Response(detail, status_code=500, media_type="text/plain; charset=utf-8")

    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(RequestValidationError, request_validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, server_error)


def document_unreadable_bodies(app: FastAPI) -> None:
    """Say in the OpenAPI schema that an operation with a body answers 400 when the body cannot be
    read at all (not UTF-8, wrong encoding); a body that reads but breaks a rule is a 422.

    Done once for the whole app, so every module's routes are covered without repeating it.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                if isinstance(operation, dict) and "requestBody" in operation:
                    responses = operation.setdefault("responses", {})
                    responses.setdefault(
                        "400", {**PROBLEM_RESPONSE, "description": "Unreadable request body"}
                    )
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
