"""JSON routes of identity under /api/v1. Thin: parse, call the service, return its schema."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from bankcrm.core.pagination import MAX_PAGE_SIZE, Page, PageRequest
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.core.validation import TEXT_PATTERN
from bankcrm.identity.schemas import (
    ApiTokenCreate,
    ApiTokenIssued,
    ApiTokenOut,
    DisableIn,
    MeOut,
    OrgUnitCreate,
    OrgUnitMoveIn,
    OrgUnitMoveOut,
    OrgUnitOut,
    OrgUnitUpdate,
    PasswordReset,
    RevealIn,
    RevealOut,
    RoleOut,
    RolePermissionsUpdate,
    UserCreate,
    UserOut,
    UserUpdate,
)
from bankcrm.identity.service import orgs, roles, tokens, users
from bankcrm.web.auth import PrincipalRoute, current_principal, require
from bankcrm.web.params import PathId, QueryId
from bankcrm.web.transaction import db_session

T = TypeVar("T")
router = APIRouter(prefix="/api/v1", tags=["identity"], route_class=PrincipalRoute)
DB = Annotated[Session, Depends(db_session)]
PageNo = Annotated[int, Query(ge=1, le=1_000_000, description="Page number, from 1.")]
PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Rows per page.")]
Search = Annotated[str | None, Query(max_length=100, pattern=TEXT_PATTERN)]

PROBLEM = {"description": "Problem details (RFC 9457)", "content": {"application/problem+json": {}}}
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {401: PROBLEM, 403: PROBLEM, 404: PROBLEM, 422: PROBLEM}


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(ge=0)
    page: int = Field(ge=1)
    size: int = Field(ge=1)


def _page(page: Page[T]) -> dict[str, Any]:
    return {"items": list(page.items), "total": page.total, "page": page.page, "size": page.size}


@router.get("/me", response_model=MeOut, responses=COMMON_RESPONSES)
def me(principal: Principal = Depends(current_principal)) -> MeOut:
    return MeOut(
        user_id=principal.user_id,
        username=principal.username,
        display_name=principal.display_name,
        role=principal.role,
        org_unit_id=principal.org_unit_id,
        data_scope=principal.scope.value,
        permissions=sorted(principal.permissions),
        auth_method=principal.auth_method,
    )


# ---------------------------------------------------------------- org units


@router.get("/org-units", response_model=PageOut[OrgUnitOut], responses=COMMON_RESPONSES)
def list_org_units(
    db: DB,
    principal: Principal = Depends(require(Permission.ORG_READ)),
    page: PageNo = 1,
    size: PageSize = 25,
    q: Search = None,
    kind: Annotated[str | None, Query(pattern="^(head_office|branch|sub_branch|team)$")] = None,
    active: bool | None = None,
) -> dict[str, Any]:
    result = orgs.list_org_units(
        db, principal, page=PageRequest(page, size), search=q, kind=kind, active=active
    )
    return _page(result)


@router.post("/org-units", response_model=OrgUnitOut, status_code=201, responses=COMMON_RESPONSES)
def create_org_unit(
    db: DB, payload: OrgUnitCreate, principal: Principal = Depends(require(Permission.ORG_WRITE))
) -> OrgUnitOut:
    return orgs.create_org_unit(db, principal, data=payload)


@router.get("/org-units/{unit_id}", response_model=OrgUnitOut, responses=COMMON_RESPONSES)
def get_org_unit(
    db: DB, unit_id: PathId, principal: Principal = Depends(require(Permission.ORG_READ))
) -> OrgUnitOut:
    return orgs.get_org_unit(db, principal, unit_id=unit_id)


@router.patch("/org-units/{unit_id}", response_model=OrgUnitOut, responses={**COMMON_RESPONSES, 409: PROBLEM})
def update_org_unit(
    db: DB,
    unit_id: PathId,
    payload: OrgUnitUpdate,
    principal: Principal = Depends(require(Permission.ORG_WRITE)),
) -> OrgUnitOut:
    return orgs.update_org_unit(db, principal, unit_id=unit_id, data=payload)


@router.post(
    "/org-units/{unit_id}/moves", response_model=OrgUnitMoveOut, status_code=201, responses=COMMON_RESPONSES
)
def move_org_unit(
    db: DB,
    unit_id: PathId,
    payload: OrgUnitMoveIn,
    principal: Principal = Depends(require(Permission.ORG_WRITE)),
) -> OrgUnitMoveOut:
    return orgs.move_org_unit(db, principal, unit_id=unit_id, data=payload)


@router.get("/org-units/{unit_id}/moves", response_model=list[OrgUnitMoveOut], responses=COMMON_RESPONSES)
def list_moves(
    db: DB, unit_id: PathId, principal: Principal = Depends(require(Permission.ORG_READ))
) -> list[OrgUnitMoveOut]:
    return orgs.moves_of(db, principal, unit_id=unit_id)


@router.post("/org-units/{unit_id}/close", response_model=OrgUnitOut, responses=COMMON_RESPONSES)
def close_org_unit(
    db: DB, unit_id: PathId, payload: DisableIn, principal: Principal = Depends(require(Permission.ORG_WRITE))
) -> OrgUnitOut:
    return orgs.set_org_unit_active(db, principal, unit_id=unit_id, active=False, reason=payload.reason)


@router.post("/org-units/{unit_id}/reopen", response_model=OrgUnitOut, responses=COMMON_RESPONSES)
def reopen_org_unit(
    db: DB, unit_id: PathId, payload: DisableIn, principal: Principal = Depends(require(Permission.ORG_WRITE))
) -> OrgUnitOut:
    return orgs.set_org_unit_active(db, principal, unit_id=unit_id, active=True, reason=payload.reason)


# ---------------------------------------------------------------- users


@router.get("/users", response_model=PageOut[UserOut], responses=COMMON_RESPONSES)
def list_users(
    db: DB,
    principal: Principal = Depends(require(Permission.USER_READ)),
    page: PageNo = 1,
    size: PageSize = 25,
    q: Search = None,
    role: Annotated[str | None, Query(max_length=40, pattern=TEXT_PATTERN)] = None,
    org_unit_id: QueryId = None,
    active: bool | None = None,
    sort: Annotated[str, Query(pattern="^-?(username|display_name|last_login_at|created_at)$")] = "username",
) -> dict[str, Any]:
    result = users.list_users(
        db,
        principal,
        page=PageRequest(page, size),
        search=q,
        role=role,
        org_unit_id=org_unit_id,
        active=active,
        sort=sort.lstrip("-"),
        descending=sort.startswith("-"),
    )
    return _page(result)


@router.post("/users", response_model=UserOut, status_code=201, responses=COMMON_RESPONSES)
def create_user(
    db: DB, payload: UserCreate, principal: Principal = Depends(require(Permission.USER_WRITE))
) -> UserOut:
    return users.create_user(db, principal, data=payload)


@router.get("/users/{user_id}", response_model=UserOut, responses=COMMON_RESPONSES)
def get_user(
    db: DB, user_id: PathId, principal: Principal = Depends(require(Permission.USER_READ))
) -> UserOut:
    return users.get_user(db, principal, user_id=user_id)


@router.patch("/users/{user_id}", response_model=UserOut, responses={**COMMON_RESPONSES, 409: PROBLEM})
def update_user(
    db: DB,
    user_id: PathId,
    payload: UserUpdate,
    principal: Principal = Depends(require(Permission.USER_WRITE)),
) -> UserOut:
    return users.update_user(db, principal, user_id=user_id, data=payload)


@router.post("/users/{user_id}/disable", response_model=UserOut, responses=COMMON_RESPONSES)
def disable_user(
    db: DB,
    user_id: PathId,
    payload: DisableIn,
    principal: Principal = Depends(require(Permission.USER_WRITE)),
) -> UserOut:
    return users.set_user_active(db, principal, user_id=user_id, active=False, reason=payload.reason)


@router.post("/users/{user_id}/enable", response_model=UserOut, responses=COMMON_RESPONSES)
def enable_user(
    db: DB,
    user_id: PathId,
    payload: DisableIn,
    principal: Principal = Depends(require(Permission.USER_WRITE)),
) -> UserOut:
    return users.set_user_active(db, principal, user_id=user_id, active=True, reason=payload.reason)


@router.post("/users/{user_id}/password-reset", response_model=UserOut, responses=COMMON_RESPONSES)
def reset_password(
    db: DB,
    user_id: PathId,
    payload: PasswordReset,
    principal: Principal = Depends(require(Permission.USER_WRITE)),
) -> UserOut:
    return users.reset_password(db, principal, user_id=user_id, data=payload)


@router.post("/users/{user_id}/reveal", response_model=RevealOut, responses=COMMON_RESPONSES)
def reveal_user_field(
    db: DB, user_id: PathId, payload: RevealIn, principal: Principal = Depends(require(Permission.PII_UNMASK))
) -> RevealOut:
    return users.reveal(db, principal, user_id=user_id, data=payload)


# ---------------------------------------------------------------- roles


@router.get("/roles", response_model=list[RoleOut], responses=COMMON_RESPONSES)
def list_roles(db: DB, principal: Principal = Depends(require(Permission.ROLE_READ))) -> list[RoleOut]:
    return roles.list_roles(db, principal)


@router.get("/roles/{role_id}", response_model=RoleOut, responses=COMMON_RESPONSES)
def get_role(
    db: DB, role_id: PathId, principal: Principal = Depends(require(Permission.ROLE_READ))
) -> RoleOut:
    return roles.get_role(db, principal, role_id=role_id)


@router.put("/roles/{role_id}/permissions", response_model=RoleOut, responses=COMMON_RESPONSES)
def update_role_permissions(
    db: DB,
    role_id: PathId,
    payload: RolePermissionsUpdate,
    principal: Principal = Depends(require(Permission.ROLE_WRITE)),
) -> RoleOut:
    return roles.update_role_permissions(db, principal, role_id=role_id, data=payload)


# ---------------------------------------------------------------- API tokens


@router.get("/api-tokens", response_model=PageOut[ApiTokenOut], responses=COMMON_RESPONSES)
def list_api_tokens(
    db: DB,
    principal: Principal = Depends(require(Permission.API_TOKEN_MANAGE)),
    page: PageNo = 1,
    size: PageSize = 25,
) -> dict[str, Any]:
    return _page(tokens.list_tokens(db, principal, page=PageRequest(page, size)))


@router.post("/api-tokens", response_model=ApiTokenIssued, status_code=201, responses=COMMON_RESPONSES)
def issue_api_token(
    db: DB, payload: ApiTokenCreate, principal: Principal = Depends(require(Permission.API_TOKEN_MANAGE))
) -> ApiTokenIssued:
    return tokens.issue_token(db, principal, data=payload)


@router.post("/api-tokens/{token_id}/revoke", response_model=ApiTokenOut, responses=COMMON_RESPONSES)
def revoke_api_token(
    db: DB,
    token_id: PathId,
    payload: DisableIn,
    principal: Principal = Depends(require(Permission.API_TOKEN_MANAGE)),
) -> ApiTokenOut:
    return tokens.revoke_token(db, principal, token_id=token_id, reason=payload.reason)
