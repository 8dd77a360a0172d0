"""Pydantic models in and out of the integration module."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


class BatchOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    source_code: str
    file_name: str
    kind: str
    status: str
    read_count: int
    loaded_count: int
    rejected_count: int
    duplicate_count: int
    linked_count: int
    created_count: int
    message: str | None
    started_at: datetime
    finished_at: datetime | None
    started_by: str


class RejectOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    record_no: int
    source_customer_no: str | None
    field: str
    value: str | None
    rule: str
    message: str


class SourceOut(BaseModel):
    code: str
    name: str
    kind: str
    file_pattern: str
    format: str
    encoding: str
    trust: int
    columns: dict[str, str]
    last_batch: BatchOut | None


SourceValue = Annotated[str, StringConstraints(max_length=500)]


class RecordsIn(BaseModel):
    """A small batch or a real-time event: records keyed by the source's own column names."""

    model_config = ConfigDict(extra="forbid")

    records: list[dict[Annotated[str, StringConstraints(max_length=64)], SourceValue]] = Field(
        min_length=1, max_length=1000
    )


class IngestOut(BaseModel):
    batch_id: int | None
    source: str
    status: str
    read: int
    loaded: int
    rejected: int
    duplicates: int
    linked: int
    created: int
    message: str | None
    rejects: list[RejectOut]
