"""What the audit module hands to other layers: read models and filters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bankcrm.core.validation import IsoDate, StrictInput


class AuditEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    occurred_at: datetime
    actor_id: int | None
    actor_name: str
    actor_role: str
    action: str
    entity_type: str
    entity_id: str | None
    changes: dict[str, Any]
    reason: str | None
    ip: str | None
    user_agent: str | None
    request_id: str | None


class AuditFilter(StrictInput):
    actor: str | None = Field(default=None, max_length=150, description="Username (exact) or user id.")
    entity_type: str | None = Field(default=None, max_length=64)
    entity_id: str | None = Field(default=None, max_length=64)
    action: str | None = Field(default=None, max_length=64)
    date_from: IsoDate | None = None
    date_to: IsoDate | None = None


class VerifyReport(BaseModel):
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str | None = None
