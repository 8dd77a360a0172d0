"""Roles and the permission matrix, editable by the administrator."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from bankcrm.core.errors import ValidationFailed
from bankcrm.core.i18n import N_
from bankcrm.core.permissions import PERMISSION_LABELS, Permission
from bankcrm.core.principal import Principal
from bankcrm.identity.schemas import RolePermissionsUpdate
from bankcrm.identity.service import roles
from bankcrm.web.auth import PrincipalRoute, require
from bankcrm.web.forms import field_errors, form_fields, parse_form
from bankcrm.web.params import PathId
from bankcrm.web.render import page as render
from bankcrm.web.render import redirect, translator
from bankcrm.web.transaction import db_session

router = APIRouter(prefix="/admin/roles", route_class=PrincipalRoute)


@router.get("")
def list_roles(
    request: Request,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.ROLE_READ)),
) -> Response:
    return render(
        request,
        "identity/roles.html",
        {
            "roles": roles.list_roles(db, principal),
            "permissions": list(Permission),
            "permission_labels": PERMISSION_LABELS,
        },
        principal=principal,
    )


@router.get("/{role_id}")
def show_role(
    request: Request,
    role_id: PathId,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.ROLE_READ)),
) -> Response:
    role = roles.get_role(db, principal, role_id=role_id)
    return render(
        request,
        "identity/role_detail.html",
        {
            "role": role,
            "permissions": list(Permission),
            "permission_labels": PERMISSION_LABELS,
            "errors": {},
            "selected": set(role.permissions),
        },
        principal=principal,
    )


@router.post("/{role_id}")
async def update_role(
    request: Request,
    role_id: PathId,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.ROLE_WRITE)),
) -> Response:
    fields = await form_fields(request)
    chosen = fields.get("permissions", [])
    fields["permissions"] = chosen if isinstance(chosen, list) else [chosen]
    try:
        roles.update_role_permissions(
            db, principal, role_id=role_id, data=parse_form(RolePermissionsUpdate, fields)
        )
    except ValidationFailed as exc:
        role = roles.get_role(db, principal, role_id=role_id)
        return render(
            request,
            "identity/role_detail.html",
            {
                "role": role,
                "permissions": list(Permission),
                "permission_labels": PERMISSION_LABELS,
                "errors": field_errors(exc, translator(request)),
                "selected": set(fields["permissions"]),
                "reason": fields.get("reason", ""),
            },
            principal=principal,
            status_code=422,
        )
    return redirect(request, f"/admin/roles/{role_id}", flash=("success", N_("Permissions saved.")))
