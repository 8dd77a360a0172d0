"""API tokens for other bank systems: issue (shown once), list, revoke."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from bankcrm.core.errors import ValidationFailed
from bankcrm.core.i18n import N_
from bankcrm.core.pagination import PageRequest
from bankcrm.core.permissions import PERMISSION_LABELS, Permission
from bankcrm.core.principal import Principal
from bankcrm.identity.schemas import ApiTokenCreate, DisableIn
from bankcrm.identity.service import tokens, users
from bankcrm.web.auth import PrincipalRoute, require
from bankcrm.web.forms import field_errors, form_fields, parse_form, parse_page
from bankcrm.web.params import PathId
from bankcrm.web.render import page as render
from bankcrm.web.render import redirect, translator
from bankcrm.web.transaction import db_session

router = APIRouter(prefix="/admin/api-tokens", route_class=PrincipalRoute)


def _context(db: Session, principal: Principal, request: Request, **extra: Any) -> dict[str, Any]:
    clients = users.list_users(db, principal, page=PageRequest(1, 200), role="api_client", active=True)
    return {
        "page": tokens.list_tokens(
            db, principal, page=PageRequest(parse_page(request.query_params.get("page")), 25)
        ),
        "clients": clients.items,
        "permissions": list(Permission),
        "permission_labels": PERMISSION_LABELS,
        "errors": {},
        "values": {"scopes": [Permission.API_ACCESS.value]},
        "issued": None,
        **extra,
    }


@router.get("")
def list_tokens(
    request: Request,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.API_TOKEN_MANAGE)),
) -> Response:
    return render(request, "identity/api_tokens.html", _context(db, principal, request), principal=principal)


@router.post("")
async def issue_token(
    request: Request,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.API_TOKEN_MANAGE)),
) -> Response:
    fields = await form_fields(request)
    scopes = fields.get("scopes", [])
    fields["scopes"] = scopes if isinstance(scopes, list) else [scopes]
    try:
        issued = tokens.issue_token(db, principal, data=parse_form(ApiTokenCreate, fields))
    except ValidationFailed as exc:
        return render(
            request,
            "identity/api_tokens.html",
            _context(db, principal, request, values=fields, errors=field_errors(exc, translator(request))),
            principal=principal,
            status_code=422,
        )
    # The token is shown in this response only; it is not stored anywhere it could be shown again.
    return render(
        request,
        "identity/api_tokens.html",
        _context(db, principal, request, issued=issued),
        principal=principal,
        status_code=201,
    )


@router.post("/{token_id}/revoke")
async def revoke_token(
    request: Request,
    token_id: PathId,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.API_TOKEN_MANAGE)),
) -> Response:
    try:
        data = parse_form(DisableIn, await form_fields(request))
        tokens.revoke_token(db, principal, token_id=token_id, reason=data.reason)
    except ValidationFailed as exc:
        return render(
            request,
            "identity/api_tokens.html",
            _context(db, principal, request, errors=field_errors(exc, translator(request))),
            principal=principal,
            status_code=422,
        )
    return redirect(request, "/admin/api-tokens", flash=("success", N_("Token revoked.")))
