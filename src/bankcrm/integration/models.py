"""Tables of the integration module: batches and their rejects, source records, idempotent requests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bankcrm.core.db import Base, utcnow


class Batch(Base):
    """One delivery from a source system (a file, or a batch of API records), loaded exactly once.

    The checksum identifies the delivery: the same content again is recognised and skipped.
    """

    __tablename__ = "ingest_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_code: Mapped[str] = mapped_column(String(40), index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    checksum: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20))  # customers | transactions
    status: Mapped[str] = mapped_column(String(12))  # landed | loaded | refused
    read_count: Mapped[int] = mapped_column(default=0)
    loaded_count: Mapped[int] = mapped_column(default=0)
    rejected_count: Mapped[int] = mapped_column(default=0)
    duplicate_count: Mapped[int] = mapped_column(default=0)
    linked_count: Mapped[int] = mapped_column(default=0)  # records matched to an existing customer
    created_count: Mapped[int] = mapped_column(default=0)  # new customers created from records
    message: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    started_by: Mapped[str] = mapped_column(String(150))

    __table_args__ = (UniqueConstraint("source_code", "checksum", name="uq_ingest_batch_source_checksum"),)


class BatchReject(Base):
    """A record that broke a rule: which record, which field, which value (masked if personal), which rule."""

    __tablename__ = "ingest_reject"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("ingest_batch.id"), index=True)
    record_no: Mapped[int]
    source_customer_no: Mapped[str | None] = mapped_column(String(64))
    field: Mapped[str] = mapped_column(String(64))
    value: Mapped[str | None] = mapped_column(String(300))
    rule: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(String(300))


class LandedRecord(Base):
    """A validated record of a customer delivery that is in the store but not yet resolved to a golden
    record: landing commits these, resolving turns them into source records and deletes them.

    The fields are the canonical JSON the source record will hold; the content hash and the keyed ID
    digest are taken while landing, so resolving only reads, decides and writes.
    """

    __tablename__ = "ingest_landed_record"

    id: Mapped[int] = mapped_column(primary_key=True)  # in delivery order
    batch_id: Mapped[int] = mapped_column(ForeignKey("ingest_batch.id"), index=True)
    record_no: Mapped[int]
    source_customer_no: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))
    fields: Mapped[str] = mapped_column(Text)
    id_digest: Mapped[str] = mapped_column(String(64))


class SourceRecord(Base):
    """The latest standardised record of a customer as one source system knows it, and its golden record."""

    __tablename__ = "source_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_code: Mapped[str] = mapped_column(String(40))
    source_customer_no: Mapped[str] = mapped_column(String(64))
    batch_id: Mapped[int] = mapped_column(ForeignKey("ingest_batch.id"))
    content_hash: Mapped[str] = mapped_column(String(64))
    fields: Mapped[str] = mapped_column(Text)  # canonical JSON of the standardised fields
    id_digest: Mapped[str | None] = mapped_column(String(64), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), index=True)
    match_rule: Mapped[str | None] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("source_code", "source_customer_no", name="uq_source_record_number"),
        Index("ix_source_record_batch", "batch_id"),
    )


class IdempotentRequest(Base):
    """An API call made with an Idempotency-Key: the same key and body replay the first answer."""

    __tablename__ = "idempotent_request"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    scope: Mapped[str] = mapped_column(String(100), primary_key=True)  # caller + route
    body_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    response: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MatchRun(Base):
    """One run of probabilistic matching over the source records."""

    __tablename__ = "match_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    records: Mapped[int] = mapped_column(default=0)
    pairs: Mapped[int] = mapped_column(default=0)
    auto_merged: Mapped[int] = mapped_column(default=0)
    queued: Mapped[int] = mapped_column(default=0)
    auto_threshold: Mapped[float]
    review_threshold: Mapped[float]
    started_by: Mapped[str] = mapped_column(String(150))


class MatchCandidate(Base):
    """A pair of source records the model thinks are one person, with why, and what became of it.

    A reviewer's decision is kept and the pair is never proposed again against it.
    """

    __tablename__ = "match_candidate"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("match_run.id"))
    left_record_id: Mapped[int] = mapped_column(ForeignKey("source_record.id"))
    right_record_id: Mapped[int] = mapped_column(ForeignKey("source_record.id"))
    match_weight: Mapped[float]
    match_probability: Mapped[float]
    explanation: Mapped[str] = mapped_column(Text)  # JSON: comparison -> {"level", "weight"}
    status: Mapped[str] = mapped_column(String(12))  # pending | accepted | rejected | auto_merged
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    decided_at: Mapped[datetime | None]
    merge_request_id: Mapped[int | None] = mapped_column(ForeignKey("merge_request.id"))

    __table_args__ = (
        UniqueConstraint("left_record_id", "right_record_id", name="uq_match_candidate_pair"),
        Index("ix_match_candidate_status", "status", "match_probability"),
    )


class FieldQuality(Base):
    """Data-quality figures of one field in one batch, kept per batch so each source has a trend.

    completeness = filled / records; validity = valid / filled; uniqueness = distinct / filled.
    ``newest`` is the latest value of a date or time field (how fresh the delivery's data is).
    """

    __tablename__ = "field_quality"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("ingest_batch.id"))
    source_code: Mapped[str] = mapped_column(String(40))
    field: Mapped[str] = mapped_column(String(64))
    records: Mapped[int]
    filled: Mapped[int]
    valid: Mapped[int]
    distinct_values: Mapped[int]
    newest: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (
        UniqueConstraint("batch_id", "field", name="uq_field_quality_batch_field"),
        Index("ix_field_quality_source_field", "source_code", "field", "batch_id"),
    )


class GoldenFieldChange(Base):
    """The golden record's history, field by field: which source's value it took, under which rule.

    A row is written whenever survivorship picks a different winner (another value or another source)
    for a field, including the first value of a new golden record, so every field can say where it
    came from. Values are kept masked for people to read and as a keyed digest for comparison.
    """

    __tablename__ = "golden_field_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    field: Mapped[str] = mapped_column(String(40))
    source_code: Mapped[str] = mapped_column(String(40))  # a source, or "crm" for an employee's edit
    source_customer_no: Mapped[str | None] = mapped_column(String(64))
    rule: Mapped[str] = mapped_column(String(20))
    value_digest: Mapped[str] = mapped_column(String(64))
    value_masked: Mapped[str] = mapped_column(String(200))
    previous_masked: Mapped[str | None] = mapped_column(String(200))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_batch.id"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_golden_field_change_customer", "customer_id", "field", "id"),)
