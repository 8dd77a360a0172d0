"""Connects the web layer to identity: who is asking (cookie or bearer token), and auditing denials."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session

from bankcrm.audit import service as audit
from bankcrm.core.context import Actor
from bankcrm.core.errors import DomainError
from bankcrm.core.principal import Principal
from bankcrm.identity.service import auth, tokens
from bankcrm.web.security import SESSION_COOKIE, bearer_token, is_api_request, origin_of, settings_of
from bankcrm.web.transaction import after_request, request_transaction


def resolve_principal(request: Request) -> Principal | None:
    origin = origin_of(request)
    transaction = request_transaction(request)  # its session opens only if there is something to check
    token = bearer_token(request)
    if token:
        # A bearer request is judged by its token alone; a stray cookie must not widen it.
        # Tokens are for other systems calling the JSON API: they open no HTML page.
        if not is_api_request(request):
            return None
        resolved_token = auth.resolve_bearer(transaction.session, token=token, origin=origin)
        if resolved_token is None:
            return None
        if resolved_token.needs_touch:
            after_request(request, lambda s: tokens.mark_used(s, token))
        return resolved_token.principal
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    resolved = auth.resolve_session(
        transaction.session, token=cookie, origin=origin, settings=settings_of(request)
    )
    if resolved is None:
        return None
    if resolved.needs_touch and resolved.principal.session_id is not None:
        session_id = resolved.principal.session_id
        after_request(request, lambda s: auth.touch_session(s, session_id))
    return resolved.principal


def audit_denial(request: Request, error: DomainError) -> None:
    """Permission denials are audited even though the request itself is rolled back."""
    principal: Principal | None = getattr(request.state, "principal", None)
    actor = principal.actor if principal else Actor.anonymous(origin_of(request))
    details = {
        "path": request.url.path,
        "method": request.method,
        "code": error.code,
        **{key: str(value) for key, value in error.params.items()},
    }

    def write(session: Session) -> None:
        audit.record_event(session, actor, action="permission_denied", entity_type="route", details=details)

    after_request(request, write)
