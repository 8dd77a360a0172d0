"""The operational store: engine, declarative base, column types and transaction scopes.

One session and one transaction per request or job is owned here; services only ``flush()``.
The same models and migrations run on SQLite (embedded default) and PostgreSQL (bank scale).
"""

from __future__ import annotations

import collections
import functools
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ColumnElement,
    Connection,
    Date,
    DateTime,
    Engine,
    Executable,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    create_engine,
    event,
    insert,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, ORMExecuteState, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from bankcrm.core.config import Settings

# Stable constraint names make migrations reproducible on both engines.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every engine.

    SQLite has no time-zone type, so values are normalised to UTC before they are stored and
    marked UTC again when read; PostgreSQL stores them as ``timestamptz``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use datetime.now(UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Money = Numeric(20, 2, asdecimal=True)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        datetime: UTCDateTime(),
        date: Date(),
        Decimal: Money,
        dict[str, Any]: JSON(),
        # SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
        int: BigInteger().with_variant(Integer(), "sqlite"),
        str: String(),
    }


def utcnow() -> datetime:
    return datetime.now(UTC)


def _enable_sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # The driver's own transaction handling is switched off so that SQLAlchemy's "begin" event
    # decides between BEGIN and BEGIN IMMEDIATE (writers take the lock up front, avoiding
    # SQLITE_BUSY half-way through a request).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


_CHANGES_AT_BEGIN = "bankcrm.changes_at_begin"


def _begin_sqlite_transaction(conn: Any) -> None:
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    driver = conn.connection.dbapi_connection
    # Straight to the driver: through ``exec_driver_sql`` SQLAlchemy set up events and a result for
    # a statement that returns nothing, which cost a tenth of resolving a bearer token.
    driver.execute(f"BEGIN {mode}")
    conn.info[_CHANGES_AT_BEGIN] = driver.total_changes


def ends_locally(session: Session) -> bool:
    """Whether ending the session's transaction (commit or rollback, then close) is a local call
    that cannot wait, so it may run on the event loop instead of costing a thread-pool hop.

    True when nothing is pending and, on SQLite, the transaction changed no row: in WAL mode ending
    a reader only releases its lock in shared memory. A transaction that wrote appends to the WAL
    and may checkpoint, and on PostgreSQL every commit is a round trip, so those are not local.
    """
    if session.new or session.dirty or session.deleted:
        return False
    if not session.in_transaction():
        return True
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return False
    at_begin = connection.info.get(_CHANGES_AT_BEGIN)
    changes = getattr(connection.connection.dbapi_connection, "total_changes", None)
    return at_begin is not None and changes == at_begin


def end_unchanged(session: Session, *, succeeded: bool) -> None:
    """End a transaction that ``ends_locally`` says changed nothing.

    Committing a transaction that wrote nothing and rolling it back leave the database the same
    (on SQLite either releases the WAL read snapshot), so the session is only closed, which rolls
    back: ``Session.commit`` added its bookkeeping (state changes, flush check, events) and then the
    pool's own reset rollback on check-in, about a third of the 28 us ending a read cost here. If
    anything listens for the session's commits (besides the read memo here) and the work succeeded,
    it is committed as before, so an after-commit hook never misses a request that succeeded.
    """
    if succeeded and any(listener is not _forget_reads for listener in session.dispatch.after_commit):
        session.commit()
    session.close()


def create_db_engine(database_url: str, *, echo: bool = False) -> Engine:
    if database_url.startswith("sqlite"):
        path = database_url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            database_url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": 10},
            pool_size=8,
            max_overflow=8,
        )
        event.listen(engine, "connect", _enable_sqlite_pragmas)
        event.listen(engine, "begin", _begin_sqlite_transaction)
        return engine
    return create_engine(database_url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=10)


@dataclass(frozen=True)
class Database:
    """The engine plus the two kinds of session the application hands out."""

    engine: Engine
    read_sessions: sessionmaker[Session]
    write_sessions: sessionmaker[Session]

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Session]:
        """One unit of work: commits when the block ends normally, rolls back otherwise."""
        factory = self.write_sessions if write else self.read_sessions
        session = factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def build_database(engine: Engine) -> Database:
    writer = engine.execution_options(sqlite_begin="IMMEDIATE") if engine.dialect.name == "sqlite" else engine
    return Database(
        engine=engine,
        read_sessions=sessionmaker(bind=engine, expire_on_commit=False),
        write_sessions=sessionmaker(bind=writer, expire_on_commit=False),
    )


def create_database(settings: Settings) -> Database:
    return build_database(create_db_engine(settings.database_url, echo=settings.sql_echo))


class _Likely(ColumnElement[bool]):
    """A condition with a planner hint that it is usually true (see ``likely``)."""

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a predicate in its own right: no "= 1" appended on SQLite

    def __init__(self, condition: ColumnElement[bool], probability: float) -> None:
        self.condition = condition
        self.probability = probability


@compiles(_Likely)
def _compile_likely(element: _Likely, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.condition, **kw))


@compiles(_Likely, "sqlite")
def _compile_likely_sqlite(element: _Likely, compiler: Any, **kw: Any) -> str:
    return f"likelihood({compiler.process(element.condition, **kw)}, {element.probability})"


def likely(condition: ColumnElement[bool], probability: float = 0.95) -> ColumnElement[bool]:
    """Tell the planner a condition matches most rows (e.g. ``status = 'active'``).

    Without statistics SQLite guesses that any equality is selective and may walk a whole index
    for it instead of fetching a handful of rows by key; PostgreSQL keeps statistics and needs
    no hint, so the condition is left as it is there.
    """
    return _Likely(condition, probability)


class PlainRow(Protocol):
    """A row of ``read_rows``: a named tuple, read by position, by column name or whole."""

    _fields: tuple[str, ...]

    def __getitem__(self, index: int) -> Any: ...
    def __iter__(self) -> Iterator[Any]: ...
    def __len__(self) -> int: ...
    def __getattr__(self, name: str) -> Any: ...


def read_rows(
    session: Session, statement: Executable, params: Mapping[str, Any] | None = None
) -> Sequence[PlainRow]:
    """The rows of a select of plain columns (no ORM entities), run on the session's connection.

    For statements built once and run many times (``StatementCache``, module constants): on SQLite
    the statement is compiled once and run on the driver's cursor (``_DriverRead``). Elsewhere it
    goes through ``Connection.execute``; ``Session.execute`` is skipped either way, as it prepares
    every ORM-enabled statement for loading objects (40-60 us a statement here, as much as SQLite
    took to run it). Rows are named tuples (``row.username``, ``row._fields``) on every engine.
    Pending changes are flushed first, as the session's autoflush would.
    """
    if session.autoflush:
        session.flush()
    connection = session.connection()
    read = _driver_read(connection, statement)
    if read is not None:
        return read.run(connection, params or {})
    result = connection.execute(statement, params or {})
    make = _row_class(tuple(result.keys()))._make
    return [make(row) for row in result]


def read_column(session: Session, statement: Executable) -> list[Any]:
    """The first column of every row of a select, fetched on the driver's cursor.

    For one long column (a branch's hundreds of thousands of customer ids): the result machinery
    handles each row, which took twice what the database took to answer. The statement is compiled
    for this call (IN lists expanded), its parameters pass SQLAlchemy's bind processors as they would
    on ``Connection.execute``; the column must need no result processing (ids, numbers, text).
    """
    if session.autoflush:
        session.flush()
    connection = session.connection()
    compiled = cast(Any, statement).compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    binds = compiled._bind_processors
    values = {name: binds[name](value) if name in binds else value for name, value in compiled.params.items()}
    arguments: Any = [values[name] for name in compiled.positiontup] if compiled.positional else values
    return [row[0] for row in _fetch_on_driver(connection, compiled.string, arguments)]


def _fetch_on_driver(connection: Connection, sql: str, arguments: Any) -> list[Any]:
    """Every row of ``sql`` from a cursor of the connection's DBAPI connection; driver errors
    wrapped as SQLAlchemy's (``sqlalchemy.exc.OperationalError``...), as ``Connection.execute`` does."""
    driver = connection.connection.dbapi_connection
    assert driver is not None
    cursor = driver.cursor()
    try:
        cursor.execute(sql, arguments)
        return list(cursor.fetchall())
    except connection.dialect.loaded_dbapi.Error as error:
        raise DBAPIError.instance(
            sql, arguments, error, connection.dialect.loaded_dbapi.Error, dialect=connection.dialect
        ) from error
    finally:
        cursor.close()


@functools.lru_cache(maxsize=512)
def _row_class(fields: tuple[str, ...]) -> Any:
    return collections.namedtuple("PlainRow", fields, rename=True)


class _DriverRead:
    """A select of plain columns compiled once for one dialect and run on the DBAPI cursor.

    ``Connection.execute`` looks the compiled form up by cache key, then sets up an execution
    context, a cursor result and its row processors on every call: for the credential lookup that
    cost three times what SQLite took to answer (about 22 us of 33 per call here), and as much again
    for a list's page. The compiled SQL, the order of its parameters and SQLAlchemy's own bind and
    result processors (UTC time stamps, booleans, dates) are taken once here and applied the same
    way, so the rows are those ``Connection.execute`` returns. Driver errors are wrapped as
    SQLAlchemy's (``sqlalchemy.exc.OperationalError``...), as they are there.
    """

    __slots__ = ("_binds", "_make", "_positions", "_results", "_sql", "_statement", "compiled")

    def __init__(self, statement: Executable, dialect: Dialect) -> None:
        compiled = cast(Any, statement).compile(dialect=dialect)
        self._statement = statement  # held, so the id that keys the cache is not reused
        self.compiled = compiled
        self._sql: str = compiled.string
        self._positions: tuple[str, ...] = tuple(compiled.positiontup or ())
        self._binds: Mapping[str, Callable[[Any], Any]] = compiled._bind_processors
        columns = compiled._result_columns
        self._results = tuple(
            (index, processor)
            for index, column in enumerate(columns)
            if (processor := column[3]._cached_result_processor(dialect, None)) is not None
        )
        self._make = _row_class(tuple(column[0] for column in columns))._make

    @staticmethod
    def supports(compiled: Any) -> bool:
        """Positional parameters, each bound once per call: no IN-list expansion, no literals
        rendered at execution, and result columns that line up with the cursor's."""
        return bool(
            compiled.positional
            and not compiled.literal_execute_params
            and not compiled.post_compile_params
            and compiled._result_columns
            and compiled._ordered_columns
            and len(compiled._result_columns) == len(getattr(compiled.statement, "selected_columns", ()))
        )

    def run(self, connection: Connection, params: Mapping[str, Any]) -> list[PlainRow]:
        values = self.compiled.construct_params(params)
        binds = self._binds
        arguments = [binds[name](values[name]) if name in binds else values[name] for name in self._positions]
        fetched = _fetch_on_driver(connection, self._sql, arguments)
        make, results = self._make, self._results
        if not results:
            return [make(row) for row in fetched]
        rows = []
        for row in fetched:
            values_of_row = list(row)
            for index, processor in results:
                values_of_row[index] = processor(values_of_row[index])
            rows.append(make(values_of_row))
        return rows


_DRIVER_READS: dict[tuple[int, int], _DriverRead | None] = {}
_DRIVER_READS_KEPT = 512


def _driver_read(connection: Connection, statement: Executable) -> _DriverRead | None:
    """The statement prepared for the driver, or None when it must go through ``Connection.execute``:
    on engines other than SQLite (PostgreSQL's result processors depend on the column types the
    server reports), with SQL echo on, with cursor event listeners, for statements that carry
    execution options, or for statements that are not plain positional selects."""
    dialect = connection.dialect
    if (
        dialect.name != "sqlite"
        or connection._echo
        or statement.get_execution_options()
        or connection.dispatch.before_cursor_execute
        or connection.dispatch.after_cursor_execute
        or connection.dispatch.before_execute
        or connection.dispatch.after_execute
    ):
        return None
    key = (id(statement), id(dialect))
    try:
        return _DRIVER_READS[key]
    except KeyError:
        pass
    if len(_DRIVER_READS) >= _DRIVER_READS_KEPT:
        _DRIVER_READS.clear()  # ad hoc statements; the prebuilt ones are simply prepared again
    read: _DriverRead | None = _DriverRead(statement, dialect)
    if read is not None and not _DriverRead.supports(read.compiled):
        read = None
    _DRIVER_READS[key] = read
    return read


# ---------------------------------------------------------------- prebuilt statements

K = TypeVar("K", bound=Hashable)
S = TypeVar("S")


class StatementCache(Generic[K, S]):
    """Statements built once per shape and run again with new bound values.

    Building a select in SQLAlchemy (coercing every column and condition, then deriving its cache
    key) costs about as much as running a small query on SQLite, and a list builds the same few
    shapes over and over. The key must name everything the builder reads (which filters are
    present, the sort, the principal's ``scope_key``); the values that change per request go in
    as bound parameters. Per process and bounded: statements hold no data, so a forgotten one is
    only built again.
    """

    def __init__(self, *, kept: int = 256) -> None:
        self._kept = kept
        self._built: dict[K, S] = {}

    def get(self, key: K, build: Callable[[], S]) -> S:
        found = self._built.get(key)
        if found is None:
            if len(self._built) >= self._kept:
                self._built.clear()  # shapes of principals long gone; cheaper to forget all than to age
            found = self._built[key] = build()
        return found


# ---------------------------------------------------------------- read memo

_READ_MEMO = "bankcrm.read_memo"


def read_memo(session: Session, name: str) -> dict[Any, Any]:
    """A dict for remembering what a read found, for the rest of the transaction until it writes.

    Several services of one request often ask the same question (may this principal read this
    customer?). While the transaction has not written, the answer cannot have changed in it, so the
    first answer may be reused. Every flush, every INSERT/UPDATE/DELETE statement, commit and
    rollback empties all memos of the session.
    """
    memos: dict[str, dict[Any, Any]] = session.info.setdefault(_READ_MEMO, {})
    return memos.setdefault(name, {})


def _forget_reads(session: Session, *_args: Any) -> None:
    session.info.pop(_READ_MEMO, None)


def _forget_reads_on_write(state: ORMExecuteState) -> None:
    if not state.is_select:
        _forget_reads(state.session)


for _event in ("after_flush", "after_commit", "after_rollback", "after_soft_rollback"):
    event.listen(Session, _event, _forget_reads)
event.listen(Session, "do_orm_execute", _forget_reads_on_write)


# ---------------------------------------------------------------- many rows at once


@contextmanager
def loading_cache(session: Session, mib: int) -> Iterator[None]:
    """A page cache of ``mib`` MiB for the session's SQLite connection while a loading job writes.

    SQLite keeps 2 MiB of pages per connection. A delivery inserts hundreds of thousands of rows
    into indexes on scattered keys (ID digests, names, search keys), and with 2 MiB nearly every
    row evicted a page the next ones needed, read back from the WAL: the inserts took a third longer
    than with the delivery's index pages kept. The connection returns to the pool afterwards, so
    its own size is set back. PostgreSQL sizes its buffers on the server: nothing to do there.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    driver = connection.connection.dbapi_connection
    assert driver is not None
    (previous,) = driver.execute("PRAGMA cache_size").fetchone()
    driver.execute(f"PRAGMA cache_size = {-int(mib) * 1024}")
    try:
        yield
    finally:
        driver.execute(f"PRAGMA cache_size = {int(previous)}")


def table_of(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


def insert_many(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """What ``session.execute(insert(table), rows)`` does, at a fraction of its cost per row.

    For loading jobs that insert hundreds of thousands of rows: SQLAlchemy's executemany builds a
    dict of every parameter and runs each value through several layers per row, which cost as much
    as the database's own work. Here the statement is compiled once, each column's bind processor
    (the same the dialect applies: UTC for time stamps, dates as text on SQLite) runs over its
    column, and the rows go to the driver as they are. Columns missing from the rows get their
    Python-side defaults, once per row, as Core gives them. Every row must have the same keys.
    Like a Core insert, it does not flush the session first.
    """
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    given = list(rows[0])
    defaulted = [c for c in table.columns if c.key not in rows[0] and c.default is not None]
    compiled = insert(table).compile(dialect=dialect, column_keys=[*given, *(c.key for c in defaulted)])
    columns: dict[str, list[Any]] = {key: [row[key] for row in rows] for key in given}
    for column in defaulted:
        columns[column.key] = _default_values(column.default, len(rows))
    names = list(compiled.positiontup or ()) if compiled.positional else list(compiled.binds)
    if sorted(names) != sorted(columns):
        raise ValueError(f"insert_many: binds {names} do not match the columns {sorted(columns)}")
    for name in names:
        processor = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            columns[name] = _processed(processor, columns[name])
    values = list(zip(*(columns[name] for name in names), strict=True))
    parameters: list[Any] = (
        values if compiled.positional else [dict(zip(names, v, strict=True)) for v in values]
    )
    connection.exec_driver_sql(compiled.string, parameters)
    _forget_reads(session)  # a write, as every INSERT through the session counts


def _default_values(default: Any, count: int) -> list[Any]:
    if default.is_scalar:
        return [default.arg] * count
    if default.is_callable:
        make: Callable[[Any], Any] = default.arg
        return [make(None) for _ in range(count)]
    raise ValueError(f"insert_many cannot fill a default of kind {type(default).__name__}")


def _processed(processor: Callable[[Any], Any], values: list[Any]) -> list[Any]:
    """``processor`` over ``values``; a value that is the very object before it reuses its result
    (a loading job stamps thousands of rows with one time)."""
    out = []
    last: Any = object()
    result: Any = None
    for value in values:
        if value is not last:
            last, result = value, processor(value)
        out.append(result)
    return out
