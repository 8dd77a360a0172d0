"""The operational store's engine settings and column types."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    event,
    insert,
    select,
    text,
)
from sqlalchemy.orm import Session

from bankcrm.audit.models import AuditEvent
from bankcrm.core.db import (
    Money,
    UTCDateTime,
    build_database,
    end_unchanged,
    ends_locally,
    insert_many,
    loading_cache,
    read_column,
    read_memo,
    utcnow,
)
from bankcrm.identity.models import KnownPermission, OrgUnit
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


SAMPLE = Table(
    "test_insert_many",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime()),
    Column("day", Date()),
    Column("amount", Money),
    Column("flag", Boolean, default=False),
    Column("label", String(20), default="crm"),
    Column("stamped", UTCDateTime(), default=utcnow),
    Column("doc", JSON()),
    Column("note", Text, nullable=True),
)


def _sample_rows() -> list[dict[str, object]]:
    moment = datetime(2026, 11, 29, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=8)))
    return [
        {
            "at": moment,
            "day": date(2026, 2, 28),
            "amount": Decimal("12.30"),
            "doc": {"a": [1, "二"]},
            "note": "x",
        },
        {"at": moment, "day": None, "amount": None, "doc": None, "note": None},
        {
            "at": datetime(1999, 1, 1, tzinfo=UTC),
            "day": date(1900, 1, 1),
            "amount": Decimal(0),
            "doc": [],
            "note": "",
        },
    ]


def _stored(db: Session) -> list[tuple[object, ...]]:
    """The rows as the database holds them (no type processing on the way out), default time aside."""
    names = ", ".join(column.name for column in SAMPLE.columns if column.name not in ("id", "stamped"))
    return [tuple(row) for row in db.execute(text(f"SELECT {names} FROM test_insert_many ORDER BY id"))]


def test_insert_many_stores_what_a_core_insert_stores_defaults_included(db: Session) -> None:
    SAMPLE.create(db.connection())
    db.execute(insert(SAMPLE), _sample_rows())
    by_core = _stored(db)
    db.execute(SAMPLE.delete())
    before = utcnow()
    read_memo(db, "test")["answer"] = 42
    insert_many(db, SAMPLE, _sample_rows())
    assert _stored(db) == by_core
    assert read_memo(db, "test") == {}, "an insert is a write"
    stamped = db.execute(select(SAMPLE.c.stamped, SAMPLE.c.flag, SAMPLE.c.label)).all()
    assert all(at >= before and (flag, label) == (False, "crm") for at, flag, label in stamped)
    insert_many(db, SAMPLE, [])  # nothing to do


def test_insert_many_wants_the_same_keys_in_every_row(db: Session) -> None:
    SAMPLE.create(db.connection())
    with pytest.raises(KeyError):
        insert_many(db, SAMPLE, [{"note": "a"}, {"day": None}])


def test_only_a_sqlite_transaction_that_changed_nothing_ends_on_the_event_loop(engine: Engine) -> None:
    database = build_database(engine)
    with database.read_sessions() as session:
        assert ends_locally(session), "no transaction yet: nothing to end"
        session.execute(select(KnownPermission.permission).limit(1))
        assert ends_locally(session) is (BACKEND == "sqlite"), "PostgreSQL ends with a round trip"
        session.add(KnownPermission(permission="test.pending"))
        assert not ends_locally(session), "a commit would flush the pending row"
        session.flush()
        assert not ends_locally(session), "a transaction that wrote may checkpoint when it commits"
        session.rollback()
        session.execute(text("UPDATE app_user SET display_name = display_name WHERE id = -1"))
        assert ends_locally(session) is (BACKEND == "sqlite"), "a statement that changed no row wrote nothing"
        session.rollback()


def _in_transaction(driver: object) -> bool:
    if BACKEND == "sqlite":
        return bool(driver.in_transaction)  # type: ignore[attr-defined]
    return str(driver.info.transaction_status.name) != "IDLE"  # type: ignore[attr-defined]


@pytest.mark.parametrize("succeeded", [True, False])
def test_an_unchanged_transaction_ends_closed_with_its_connection_back_and_clean(
    engine: Engine, succeeded: bool
) -> None:
    database = build_database(engine)
    checked_out = engine.pool.checkedout()  # type: ignore[attr-defined]
    session = database.read_sessions()
    session.execute(select(KnownPermission.permission).limit(1))
    driver = session.connection().connection.dbapi_connection
    assert _in_transaction(driver)
    committed: list[bool] = []
    session.commit = lambda: committed.append(True)  # type: ignore[method-assign]
    end_unchanged(session, succeeded=succeeded)
    assert committed == [], "nothing listens for commits: closing is enough"
    assert not _in_transaction(driver), "the read snapshot is released"
    assert engine.pool.checkedout() == checked_out  # type: ignore[attr-defined]
    assert not session.in_transaction()


@pytest.mark.parametrize("succeeded", [True, False])
def test_an_unchanged_transaction_still_commits_for_whoever_listens_to_commits(
    engine: Engine, succeeded: bool
) -> None:
    session = build_database(engine).read_sessions()
    heard: list[str] = []
    event.listen(session, "after_commit", lambda s: heard.append("commit"))
    session.execute(select(KnownPermission.permission).limit(1))
    end_unchanged(session, succeeded=succeeded)
    assert heard == (["commit"] if succeeded else []), "a failed request is never committed"
    assert not session.in_transaction()


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's BEGIN modes")
def test_a_sqlite_writer_takes_the_write_lock_when_it_begins_and_a_reader_does_not(engine: Engine) -> None:
    database = build_database(engine)
    other = sqlite3.connect(str(engine.url.database), timeout=0, isolation_level=None)
    try:
        with database.read_sessions() as reader:
            reader.execute(select(KnownPermission.permission).limit(1))
            other.execute("BEGIN IMMEDIATE")  # a reader leaves the write lock free
            other.execute("ROLLBACK")
        with database.write_sessions() as writer:
            writer.execute(select(KnownPermission.permission).limit(1))
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            writer.rollback()
    finally:
        other.close()


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's page cache")
def test_a_loading_job_has_a_larger_sqlite_page_cache_until_it_ends(engine: Engine) -> None:
    database = build_database(engine)
    with database.write_sessions() as session:
        before = session.execute(text("PRAGMA cache_size")).scalar()
        with loading_cache(session, 64):
            assert session.execute(text("PRAGMA cache_size")).scalar() == -64 * 1024
        assert session.execute(text("PRAGMA cache_size")).scalar() == before, "set back for the pool"
        session.rollback()


def test_read_column_gives_what_the_session_gives_with_in_lists_and_converted_parameters(
    db: Session, demo: None
) -> None:
    # An IN list (expanded per call) and an aware time stamp (converted by the column's bind
    # processor): the same rows as the ORM's own query.
    query = select(OrgUnit.id).where(
        OrgUnit.code.in_(["HO", "BJ", "BJ-HD", "no-such-unit"]),
        OrgUnit.created_at <= datetime.now(UTC) + timedelta(days=1),
    )
    expected = sorted(db.execute(query).scalars())
    assert len(expected) == 3
    assert sorted(read_column(db, query)) == expected
    assert read_column(db, query.where(OrgUnit.created_at > datetime.now(UTC) + timedelta(days=1))) == []
