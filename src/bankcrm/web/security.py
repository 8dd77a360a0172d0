"""Browser-facing security: CSRF tokens, signed flash messages, request origin, security headers."""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bankcrm.core.config import Settings
from bankcrm.core.context import Origin
from bankcrm.core.errors import DomainError
from bankcrm.core.i18n import N_
from bankcrm.core.security import constant_time_equals, csrf_token_for, keyed_digest, token_digest

SESSION_COOKIE = "bankcrm_session"
PRESESSION_COOKIE = "bankcrm_presession"
LOCALE_COOKIE = "bankcrm_lang"
FLASH_COOKIE = "bankcrm_flash"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
API_PREFIX = "/api/"


class CsrfFailed(DomainError):
    kind = "forbidden"
    code = "csrf-failed"
    default_message = N_("This form has expired or did not come from BankCRM. Reload the page and try again.")


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def origin_of(request: Request) -> Origin:
    return Origin(
        ip=request.client.host if request.client else None,
        user_agent=(request.headers.get("user-agent") or "")[:512] or None,
        request_id=request.state.request_id,
    )


def is_api_request(request: Request) -> bool:
    """The JSON API (for other systems) as opposed to the HTML pages (for browsers)."""
    # The scope's path: ``request.url`` would build and parse a whole URL for it on every request.
    return str(request.scope["path"]).startswith(API_PREFIX)


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def carries_credential(request: Request) -> bool:
    """Whether the request brings anything a principal could be resolved from (token or session)."""
    return bearer_token(request) is not None or bool(request.cookies.get(SESSION_COOKIE))


def csrf_binding(request: Request) -> str | None:
    """What the CSRF token is bound to: the signed-in session, else the pre-session cookie."""
    session_token = request.cookies.get(SESSION_COOKIE)
    if session_token:
        return "session:" + token_digest(session_token)
    presession = request.cookies.get(PRESESSION_COOKIE) or getattr(request.state, "new_presession", None)
    return "anon:" + presession if presession else None


def ensure_presession(request: Request) -> None:
    """Give an anonymous visitor a random cookie to bind the login form's CSRF token to."""
    if not request.cookies.get(PRESESSION_COOKIE) and not getattr(request.state, "new_presession", None):
        request.state.new_presession = secrets.token_urlsafe(24)


def csrf_token(request: Request) -> str:
    binding = csrf_binding(request)
    if binding is None:
        ensure_presession(request)
        binding = csrf_binding(request)
    assert binding is not None
    return csrf_token_for(settings_of(request).secret_key, binding)


async def csrf_protect(request: Request) -> None:
    """App-wide dependency: unsafe requests carried by cookies must prove they come from our pages.

    Requests authenticated by a bearer token carry no ambient credentials, so they are exempt;
    so are API calls without a session cookie, which the route then answers with 401. The HTML
    forms stay protected even before sign-in (the login form is bound to the pre-session cookie).
    """
    if request.method not in UNSAFE_METHODS or bearer_token(request):
        return
    if is_api_request(request) and not request.cookies.get(SESSION_COOKIE):
        return
    binding = csrf_binding(request)
    supplied = request.headers.get(CSRF_HEADER)
    if supplied is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        supplied = value if isinstance(value, str) else None
    if binding is None or not supplied:
        raise CsrfFailed()
    expected = csrf_token_for(settings_of(request).secret_key, binding)
    if not constant_time_equals(expected, supplied):
        raise CsrfFailed()


@dataclass(frozen=True)
class FlashMessage:
    level: str  # success | info | warning | danger
    message: str  # msgid, translated when shown
    params: dict[str, Any]


def _sign(secret: str, payload: str) -> str:
    return keyed_digest(secret, "flash", payload)[:32]


def set_flash(request: Request, response: Response, level: str, message: str, **params: Any) -> None:
    payload = base64.urlsafe_b64encode(json.dumps([level, message, params], default=str).encode()).decode()
    response.set_cookie(
        FLASH_COOKIE,
        f"{payload}.{_sign(settings_of(request).secret_key, payload)}",
        max_age=60,
        httponly=True,
        samesite="lax",
        secure=settings_of(request).cookie_secure,
    )


def pop_flash(request: Request) -> FlashMessage | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw or "." not in raw:
        return None
    payload, signature = raw.rsplit(".", 1)
    if not constant_time_equals(signature, _sign(settings_of(request).secret_key, payload)):
        return None
    request.state.clear_flash = True
    try:
        level, message, params = json.loads(base64.urlsafe_b64decode(payload.encode()))
    except (ValueError, TypeError):
        return None
    return FlashMessage(level=str(level), message=str(message), params=dict(params))


SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        b"script-src 'self'; font-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
    ),
]


class RequestContextMiddleware:
    """Request id, security headers, and the cookies other layers asked for on ``request.state``."""

    def __init__(self, app: ASGIApp, *, cookie_secure: bool) -> None:
        self.app = app
        self.cookie_secure = cookie_secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        state["request_id"] = request_id

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                headers.extend(SECURITY_HEADERS)
                headers.extend(self._cookie_headers(state))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _cookie_headers(self, state: dict[str, Any]) -> list[tuple[bytes, bytes]]:
        helper = Response()
        if state.get("new_presession"):
            helper.set_cookie(
                PRESESSION_COOKIE,
                state["new_presession"],
                httponly=True,
                samesite="lax",
                secure=self.cookie_secure,
            )
        if state.get("clear_flash"):
            helper.delete_cookie(FLASH_COOKIE)
        return [(k, v) for k, v in helper.raw_headers if k == b"set-cookie"]
