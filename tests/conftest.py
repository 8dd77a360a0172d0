"""Test harness: a migrated database per worker, a rolled-back transaction per test.

``BANKCRM_TEST_BACKEND=postgres`` (with ``BANKCRM_TEST_POSTGRES_URL``) runs the same suite on
PostgreSQL; each xdist worker then gets its own database, built by the migrations.
"""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# Cheap password hashing and a fixed key keep tests fast and repeatable; set before bankcrm loads.
_TEST_VAR = Path(tempfile.mkdtemp(prefix="bankcrm-test-"))
os.environ.update(
    {
        "BANKCRM_ARGON2_TIME_COST": "1",
        "BANKCRM_ARGON2_MEMORY_KIB": "1024",
        "BANKCRM_ARGON2_PARALLELISM": "1",
        "BANKCRM_SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "BANKCRM_VAR_DIR": str(_TEST_VAR),
        "BANKCRM_LOG_LEVEL": "WARNING",
        "BANKCRM_SCHEDULER_ENABLED": "false",  # tests call jobs directly
    }
)

import pytest  # noqa: E402
from _pytest.nodeid import NodeId  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import Connection, Engine, create_engine, make_url, text  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from bankcrm.cli import run_migrations  # noqa: E402
from bankcrm.core.config import Settings, get_settings  # noqa: E402
from bankcrm.core.context import Actor, Origin  # noqa: E402
from bankcrm.core.db import Database, create_db_engine  # noqa: E402
from bankcrm.core.security import csrf_token_for, token_digest  # noqa: E402
from bankcrm.demo import seed  # noqa: E402
from bankcrm.identity.service import auth, roles  # noqa: E402
from bankcrm.identity.service import users as user_service  # noqa: E402
from bankcrm.main import create_app  # noqa: E402
from bankcrm.web.security import SESSION_COOKIE  # noqa: E402

BACKEND = os.environ.get("BANKCRM_TEST_BACKEND", "sqlite")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    keep_xdist_groups(config, items)


def keep_xdist_groups(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give each test marked ``xdist_group`` the ``@group`` suffix ``--dist loadgroup`` sends a
    group's tests to one worker by.

    xdist 3.8 writes the suffix to ``item._nodeid``; pytest 9.2 derives ``nodeid`` from a
    structured id instead, so the suffix was lost and no group was kept (a browser module's live
    servers and the Spark JVM started on both workers). The suffix is put on the structured id
    here, after every hook that adds the markers (``trylast``), unless xdist managed already.
    """
    if not config.getoption("loadgroup", False):
        return
    for item in items:
        names = sorted(
            {
                str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
                for mark in item.iter_markers("xdist_group")
            }
        )
        if names and "@" not in item.nodeid:
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(names)}")  # type: ignore[attr-defined]


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _postgres_admin_url() -> str:
    url = os.environ.get("BANKCRM_TEST_POSTGRES_URL")
    if not url:
        pytest.exit("BANKCRM_TEST_BACKEND=postgres needs BANKCRM_TEST_POSTGRES_URL", returncode=2)
    return (
        url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url
    )


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


@dataclass
class ScratchDatabase:
    """A brand-new database for a worker or a test, removed afterwards."""

    url: str
    drop: object

    def close(self) -> None:
        if callable(self.drop):
            self.drop()


def new_scratch_database(label: str) -> ScratchDatabase:
    name = f"bankcrm_t_{label}_{uuid.uuid4().hex[:8]}"
    if BACKEND == "postgres":
        admin_url = _postgres_admin_url()
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = _with_database(admin_url, name)

        def drop() -> None:
            engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
            with engine.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            engine.dispose()

        return ScratchDatabase(url=url, drop=drop)
    path = _TEST_VAR / f"{name}.sqlite3"
    return ScratchDatabase(url=f"sqlite:///{path}", drop=lambda: path.unlink(missing_ok=True))


@pytest.fixture(scope="session")
def settings() -> Settings:
    return get_settings()


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    """The worker's database, created by running every migration, with the built-in roles."""
    scratch = new_scratch_database(_worker())
    run_migrations(scratch.url)
    engine = create_db_engine(scratch.url)
    with engine.begin() as connection, Session(bind=connection) as session:
        roles.sync_roles(session, Actor.system("tests"))
        session.commit()
    yield engine
    engine.dispose()
    scratch.close()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            yield connection
        finally:
            transaction.rollback()


def _sessions(connection: Connection) -> sessionmaker[Session]:
    # Every "commit" inside the code under test releases a savepoint; the test's outer
    # transaction is rolled back at the end, so tests never see each other's data.
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)


@pytest.fixture
def database(connection: Connection) -> Database:
    sessions = _sessions(connection)
    return Database(engine=connection.engine, read_sessions=sessions, write_sessions=sessions)


@pytest.fixture
def db(database: Database) -> Iterator[Session]:
    session = database.write_sessions()
    try:
        yield session
    finally:
        session.close()


@pytest.fixture
def demo(db: Session) -> None:
    """The demo bank's organisation and one user per role, created through the services."""
    seed.load_demo(db, only_if_empty=False)
    db.flush()


@pytest.fixture
def app(settings: Settings, database: Database) -> FastAPI:
    return create_app(settings, database)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as test_client:
        yield test_client


@dataclass
class SignedIn:
    """A browser-like client signed in as a user: cookie plus the matching CSRF header."""

    client: TestClient
    username: str
    csrf: str


def sign_in(client: TestClient, db: Session, settings: Settings, username: str) -> SignedIn:
    result = auth.login(
        db, username=username, password=seed.DEMO_PASSWORD, origin=Origin(ip="testclient"), settings=settings
    )
    assert result.ok, f"demo user {username} could not sign in"
    assert result.token is not None
    user = user_service.find_user_by_username(db, username)
    assert user is not None
    if user.must_change_password:
        user.must_change_password = False
    db.flush()
    client.cookies.set(SESSION_COOKIE, result.token)
    csrf = csrf_token_for(settings.secret_key, "session:" + token_digest(result.token))
    client.headers["X-CSRF-Token"] = csrf
    return SignedIn(client=client, username=username, csrf=csrf)


@pytest.fixture
def signed_in(client: TestClient, db: Session, settings: Settings, demo: None):  # type: ignore[no-untyped-def]
    def _sign_in(username: str) -> SignedIn:
        return sign_in(client, db, settings, username)

    return _sign_in


CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "page has no CSRF field"
    return match.group(1)


def principal_for(db: Session, settings: Settings, username: str):  # type: ignore[no-untyped-def]
    """The principal a signed-in user would have, for calling services directly."""
    result = auth.login(
        db, username=username, password=seed.DEMO_PASSWORD, origin=Origin(ip="test"), settings=settings
    )
    assert result.ok
    assert result.token is not None
    resolved = auth.resolve_session(db, token=result.token, origin=Origin(ip="test"), settings=settings)
    assert resolved is not None
    return resolved.principal


@pytest.fixture
def as_user(db: Session, settings: Settings, demo: None):  # type: ignore[no-untyped-def]
    """Principal of a demo user, signed in once per test (so later audit counts are not disturbed)."""
    known: dict[str, object] = {}

    def _principal(username: str):  # type: ignore[no-untyped-def]
        if username not in known:
            known[username] = principal_for(db, settings, username)
        return known[username]

    return _principal
