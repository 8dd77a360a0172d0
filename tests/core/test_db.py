"""The operational store's engine settings and column types."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from bankcrm.audit.models import AuditEvent
from bankcrm.core.db import UTCDateTime, read_memo
from tests.conftest import BACKEND


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite pragmas")
def test_sqlite_runs_in_wal_mode_with_foreign_keys(engine: Engine) -> None:
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_datetimes_come_back_aware_and_in_utc(db: Session) -> None:
    beijing = timezone(timedelta(hours=8))
    moment = datetime(2026, 11, 29, 9, 30, tzinfo=beijing)
    event = AuditEvent(
        seq=10_000_001,
        occurred_at=moment,
        actor_name="t",
        actor_role="t",
        action="t",
        entity_type="t",
        changes="{}",
        prev_hash="0" * 64,
        row_hash="0" * 64,
    )
    db.add(event)
    db.flush()
    db.expire(event)
    assert event.occurred_at == moment
    assert event.occurred_at.tzinfo is not None
    assert event.occurred_at.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(datetime(2026, 1, 1), None)  # type: ignore[arg-type]  # noqa: DTZ001


def test_aware_values_are_converted_to_utc_on_the_way_in() -> None:
    class Dialect:
        name = "postgresql"

    value = datetime(2026, 1, 1, 8, tzinfo=timezone(timedelta(hours=8)))
    assert UTCDateTime().process_bind_param(value, Dialect()) == datetime(2026, 1, 1, 0, tzinfo=UTC)  # type: ignore[arg-type]


def test_a_read_memo_lasts_until_the_transaction_writes(db: Session) -> None:
    read_memo(db, "test")["answer"] = 42
    db.execute(select(AuditEvent.id).limit(1))
    assert read_memo(db, "test") == {"answer": 42}
    db.execute(text("UPDATE app_user SET display_name = display_name WHERE id = -1"))
    assert read_memo(db, "test") == {}, "text() may write: it is never taken for a read"
    read_memo(db, "test")["answer"] = 42
    db.rollback()
    assert read_memo(db, "test") == {}
