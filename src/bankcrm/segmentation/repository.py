"""SQL of the segmentation module: segment definitions, their runs, and the rules of rule tags."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bankcrm.segmentation.models import Segment, SegmentRun, TagRule


def add(session: Session, row: object) -> None:
    session.add(row)


def get_segment(session: Session, segment_id: int) -> Segment | None:
    return session.get(Segment, segment_id)


def find_segment_by_name(session: Session, name: str) -> Segment | None:
    return session.execute(select(Segment).where(Segment.name == name)).scalar_one_or_none()


def segments(session: Session, *, include_archived: bool = False) -> Sequence[Segment]:
    stmt = select(Segment).order_by(Segment.name)
    if not include_archived:
        stmt = stmt.where(Segment.status == "active")
    return session.execute(stmt).scalars().all()


def dynamic_segments(session: Session) -> Sequence[Segment]:
    stmt = select(Segment).where(Segment.status == "active", Segment.kind == "dynamic").order_by(Segment.id)
    return session.execute(stmt).scalars().all()


def runs_of(session: Session, segment_id: int, *, limit: int = 30) -> Sequence[SegmentRun]:
    stmt = (
        select(SegmentRun)
        .where(SegmentRun.segment_id == segment_id)
        .order_by(SegmentRun.as_of.desc())
        .limit(limit)
    )
    return session.execute(stmt).scalars().all()


def latest_run(session: Session, segment_id: int) -> SegmentRun | None:
    runs = runs_of(session, segment_id, limit=1)
    return runs[0] if runs else None


def replace_run(session: Session, run: SegmentRun) -> None:
    """A segment has one run per date: computing it again for that date replaces the row."""
    session.execute(
        delete(SegmentRun).where(SegmentRun.segment_id == run.segment_id, SegmentRun.as_of == run.as_of)
    )
    session.add(run)


def previous_run_date(session: Session, segment_id: int, as_of: date) -> date | None:
    stmt = (
        select(SegmentRun.as_of)
        .where(SegmentRun.segment_id == segment_id, SegmentRun.as_of < as_of)
        .order_by(SegmentRun.as_of.desc())
        .limit(1)
    )
    return session.execute(stmt).scalar_one_or_none()


def tag_rules(session: Session) -> Sequence[TagRule]:
    return session.execute(select(TagRule).order_by(TagRule.tag_id)).scalars().all()


def tag_rule(session: Session, tag_id: int) -> TagRule | None:
    return session.get(TagRule, tag_id)
