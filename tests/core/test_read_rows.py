"""``read_rows`` gives what ``Connection.execute`` gives, whichever way it runs the statement.

On SQLite a prebuilt statement is compiled once and run on the driver's cursor; these tests hold
that the rows (values, their Python types, the column names) are SQLAlchemy's, that statements it
cannot run that way still answer, and that driver errors surface as SQLAlchemy's.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Date, bindparam, event, literal, literal_column, select
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from bankcrm.core import db as core_db
from bankcrm.core.db import Money, read_rows
from bankcrm.identity.models import OrgUnit, User

LISTED = (
    select(
        User.id,
        User.username,
        User.is_active,
        User.must_change_password,
        User.created_at,
        User.last_login_at,
        OrgUnit.name.label("unit"),
        literal(date(2026, 11, 30), Date).label("on_day"),
        literal(Decimal("12.50"), Money).label("amount"),
    )
    .join(OrgUnit, OrgUnit.id == User.org_unit_id)
    .where(User.username.like(bindparam("pattern")))
    .order_by(User.username)
)


def _executed(db: Session, params: dict[str, object]) -> list[tuple[object, ...]]:
    return [tuple(row) for row in db.connection().execute(LISTED, params)]


def test_rows_are_those_connection_execute_returns(db: Session, demo: None) -> None:
    rows = read_rows(db, LISTED, {"pattern": "rm.%"})
    expected = _executed(db, {"pattern": "rm.%"})
    assert len(rows) >= 2
    assert [tuple(row) for row in rows] == expected
    assert [[type(value) for value in row] for row in rows] == [
        [type(value) for value in row] for row in expected
    ]
    first = rows[0]
    assert first._fields == tuple(LISTED.selected_columns.keys())
    assert first.is_active is True
    assert first.must_change_password in (True, False)
    assert first.created_at.tzinfo is UTC
    assert isinstance(first.created_at, datetime)
    assert (first.on_day, first.amount) == (date(2026, 11, 30), Decimal("12.50"))
    assert first.username == first[1]
    assert first.unit


def test_the_same_statement_runs_again_with_new_values(db: Session, demo: None) -> None:
    assert [row.username for row in read_rows(db, LISTED, {"pattern": "rm.%"})] == [
        row[1] for row in _executed(db, {"pattern": "rm.%"})
    ]
    assert list(read_rows(db, LISTED, {"pattern": "nobody%"})) == []


def test_sqlite_runs_prebuilt_selects_on_the_driver(db: Session, demo: None) -> None:
    connection = db.connection()
    prepared = core_db._driver_read(connection, LISTED)
    if connection.dialect.name == "sqlite":
        assert prepared is not None
    else:
        assert prepared is None  # PostgreSQL goes through Connection.execute


def test_statements_with_execution_options_go_through_sqlalchemy(db: Session, demo: None) -> None:
    optioned = LISTED.execution_options(yield_per=10)
    assert core_db._driver_read(db.connection(), optioned) is None
    assert [tuple(row) for row in read_rows(db, optioned, {"pattern": "rm.%"})] == _executed(
        db, {"pattern": "rm.%"}
    )


def test_statement_listeners_still_see_every_read(db: Session, demo: None) -> None:
    """With a cursor listener (tracing, statement counting) the read goes through SQLAlchemy."""
    engine = db.connection().engine
    seen: list[str] = []

    def listen(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", listen)
    try:
        rows = read_rows(db, LISTED, {"pattern": "rm.%"})
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert rows
    assert any("app_user" in statement for statement in seen)


def test_in_lists_are_expanded(db: Session, demo: None) -> None:
    names = ["rm.zhang", "rm.liu"]
    statement = select(User.username).where(User.username.in_(bindparam("names", expanding=True)))
    assert sorted(row.username for row in read_rows(db, statement, {"names": names})) == sorted(names)


def test_driver_errors_are_sqlalchemy_errors(db: Session) -> None:
    with pytest.raises((OperationalError, ProgrammingError)):
        read_rows(db, select(literal_column("no_such_column")).select_from(User.__table__))
