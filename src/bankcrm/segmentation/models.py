"""Tables of the segmentation module: segment definitions, their runs, and the rules of rule tags.

Who is in a segment on a date lives in the lake (``segment_members`` by segment and date), as do
the joins and leaves between runs (``segment_changes``): a segment of half the bank is half a
million rows a night, which the operational store need not carry. Here are the definitions people
edit and one row per segment per run with its counts.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bankcrm.core.db import Base, utcnow


class Segment(Base):
    __tablename__ = "segment"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str | None] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(10))  # dynamic (recomputed each run) | static (a snapshot)
    rule: Mapped[str] = mapped_column(Text)  # JSON, as segmentation.rules parses it
    status: Mapped[str] = mapped_column(String(10), default="active")  # active | archived
    source_segment_id: Mapped[int | None] = mapped_column(ForeignKey("segment.id"))  # a snapshot's origin
    owner_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)


class SegmentRun(Base):
    """A segment computed as of a business date: how many members, how many joined and left."""

    __tablename__ = "segment_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("segment.id", ondelete="CASCADE"), index=True)
    as_of: Mapped[date]
    members: Mapped[int]
    joined: Mapped[int]
    left: Mapped[int]
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("segment_id", "as_of", name="uq_segment_run_segment_date"),)


class TagRule(Base):
    """The condition of a rule tag (customers' catalogue, kind "rule"), recomputed by each run."""

    __tablename__ = "tag_rule"

    tag_id: Mapped[int] = mapped_column(ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True)
    rule: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
