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


class FieldRejectOut(RejectOut):
    batch_id: int


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


class FieldFiguresOut(BaseModel):
    """A field's data quality in one batch; shares from 0 to 1, null when there is nothing to divide."""

    model_config = ConfigDict(from_attributes=True)

    field: str
    batch_id: int
    records: int
    completeness: float | None
    validity: float | None
    invalid: int = Field(description="Records whose value is present but breaks a rule")
    uniqueness: float | None = Field(description="Only for fields the mapping expects to be unique")
    duplicates: int | None
    newest: str | None = Field(description="Latest value of a date or time field")


class SourceQualityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    kind: str
    last_batch: BatchOut | None
    expected_every_hours: int
    hours_since_delivery: float | None
    late: bool
    completeness: float | None
    validity: float | None
    fields: list[FieldFiguresOut]


class TrendOut(BaseModel):
    batch_ids: list[int]
    completeness: dict[str, list[float | None]]
    validity: dict[str, list[float | None]]


class SourceQualityDetailOut(SourceQualityOut):
    trend: TrendOut


class SourceValueOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    source: str = Field(description="A source code, or crm for a value entered in the CRM")
    source_customer_no: str | None
    value: str | None = Field(description="Masked")
    trust: int
    as_of: datetime
    dated: bool = Field(description="as_of is the source's own update time, not only when the record arrived")
    chosen: bool


class GoldenFieldOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    field: str
    rule: str = Field(description="most_trusted, most_recent or most_complete")
    value: str | None = Field(description="The golden record's value, masked")
    source: str | None = Field(description="The source it came from; null when no source holds it")
    sources: list[SourceValueOut]


class GoldenHistoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    field: str
    source: str
    source_customer_no: str | None
    rule: str
    value: str
    previous: str | None
    batch_id: int | None
    changed_at: datetime


class GoldenRecordOut(BaseModel):
    """A customer's golden record: where each field's value came from, and the history of choices."""

    model_config = ConfigDict(from_attributes=True)

    customer_id: int
    customer_no: str
    name: str
    status: str
    fields: list[GoldenFieldOut]
    history: list[GoldenHistoryOut]
