"""Pydantic models in and out of identity. Inputs forbid unknown fields: a typo is an error, not a no-op."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from bankcrm.core.validation import IsoDate, RowId, StrictInput, raw_length_at_most

OrgKind = Literal["head_office", "branch", "sub_branch", "team"]
RoleCode = Annotated[str, StringConstraints(pattern=r"^[a-z_]{2,40}$")]
Username = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9._-]{2,63}$")]
# Free text is stripped of surrounding blanks; its length limit holds for the text as sent.
Name = Annotated[
    str, raw_length_at_most(100), StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
]
OrgName = Annotated[
    str, raw_length_at_most(200), StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
]
OrgCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9_-]{1,31}$")]
Reason = Annotated[
    str, raw_length_at_most(500), StringConstraints(strip_whitespace=True, min_length=4, max_length=500)
]
Password = Annotated[str, StringConstraints(min_length=1, max_length=128)]


StrictIn = StrictInput


class OrgUnitCreate(StrictIn):
    code: OrgCode
    name: OrgName
    name_en: OrgName | None = None
    kind: OrgKind
    parent_id: RowId | None = None


class OrgUnitUpdate(StrictIn):
    name: OrgName
    name_en: OrgName | None = None
    version: int = Field(ge=1, description="The version you edited; a newer one on the server is a conflict.")


class OrgUnitMoveIn(StrictIn):
    to_parent_id: RowId
    effective_date: IsoDate | None = Field(
        default=None, description="Defaults to today; future dates are scheduled."
    )
    reason: Reason


class OrgUnitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    name_en: str | None
    kind: str
    parent_id: int | None
    path: str
    depth: int
    is_active: bool
    version: int


class OrgUnitMoveOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    org_unit_id: int
    from_parent_id: int | None
    to_parent_id: int
    effective_date: date
    status: str
    reason: str | None


class UserCreate(StrictIn):
    username: Username
    display_name: Name
    email: Annotated[str, StringConstraints(max_length=254)] | None = None
    mobile: Annotated[str, StringConstraints(max_length=20)] | None = None
    employee_no: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{1,32}$")] | None = None
    org_unit_id: RowId
    role: RoleCode
    password: Password | None = Field(
        default=None,
        description="Initial password, required for staff (changed at first sign-in); API clients have none.",
    )


class UserUpdate(StrictIn):
    display_name: Name
    email: Annotated[str, StringConstraints(max_length=254)] | None = None
    mobile: Annotated[str, StringConstraints(max_length=20)] | None = None
    employee_no: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{1,32}$")] | None = None
    org_unit_id: RowId
    role: RoleCode
    version: int = Field(ge=1)


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    email: str | None
    mobile: str | None = Field(description="Masked (138****5678) unless revealed through the audited flow.")
    employee_no: str | None
    org_unit_id: int
    org_unit_name: str
    role: str
    is_active: bool
    is_locked: bool
    must_change_password: bool
    last_login_at: datetime | None
    version: int


class PasswordChange(StrictIn):
    current_password: Password
    new_password: Password


class PasswordReset(StrictIn):
    new_password: Password
    reason: Reason


class DisableIn(StrictIn):
    reason: Reason


class RevealIn(StrictIn):
    field: Literal["mobile"]
    reason: Reason


class RevealOut(BaseModel):
    field: str
    value: str | None


class RoleOut(BaseModel):
    id: int
    code: str
    label: str
    data_scope: str
    is_api_client: bool
    permissions: list[str]
    user_count: int


class RolePermissionsUpdate(StrictIn):
    permissions: list[Annotated[str, StringConstraints(max_length=64)]] = Field(max_length=200)
    reason: Reason


class ApiTokenCreate(StrictIn):
    name: Name
    user_id: RowId = Field(description="An active user with the API client role.")
    scopes: list[Annotated[str, StringConstraints(max_length=64)]] = Field(min_length=1, max_length=100)
    expires_in_days: int | None = Field(default=365, ge=1, le=3650)


class ApiTokenOut(BaseModel):
    id: int
    name: str
    user_id: int
    username: str
    token_prefix: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class ApiTokenIssued(ApiTokenOut):
    token: str = Field(description="Shown once. Store it in the calling system's secret store.")


class MeOut(BaseModel):
    user_id: int
    username: str
    display_name: str
    role: str
    org_unit_id: int
    data_scope: str
    permissions: list[str]
    auth_method: str
