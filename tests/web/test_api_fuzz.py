"""Property-based fuzzing of the whole JSON API with schemathesis, in process.

Every operation of ``/api/openapi.json`` gets generated requests, valid and invalid, sent by an
API-client token whose role holds every permission (so the requests reach the services instead of
stopping at 403), against a scratch database built by the migrations and loaded with the demo
bank. Each request runs in a savepoint that is rolled back: the fuzzer may revoke its own token or
strip its role, and the next request still starts from the same bank.

Schemathesis runs its coverage phase (boundary values: the largest integer, the empty string, a
missing field...) and then random examples. The checks: no 5xx; every status is one the schema
documents; content type and body match the schema; and invalid input is rejected with a 4xx.

``BANKCRM_FUZZ_EXAMPLES`` raises the number of examples per operation for a deeper local run;
CI keeps the default small and derandomised, so a run is repeatable.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from bankcrm.cli import run_migrations
from bankcrm.core.config import Settings, get_settings
from bankcrm.core.context import Actor
from bankcrm.core.db import Database, build_database, create_db_engine
from bankcrm.demo import seed
from bankcrm.identity.schemas import ApiTokenCreate
from bankcrm.identity.service import roles, tokens, users
from bankcrm.main import create_app
from tests.conftest import new_scratch_database
from tests.support import EVERY_PERMISSION, grant_every_permission, signed_in_principal

EXAMPLES = int(os.environ.get("BANKCRM_FUZZ_EXAMPLES", "20"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]

# The schema is read at import from an app that never opens its database (serving the schema needs
# none), so that pytest can collect one test per operation; the requests go to the fuzz bank's app.
_UNUSED_DB = f"sqlite:///{(get_settings().var_dir / 'schema-source-never-opened.sqlite3').as_posix()}"
_SCHEMA = schemathesis.openapi.from_asgi(
    "/api/openapi.json", create_app(get_settings(), build_database(create_db_engine(_UNUSED_DB)))
)


@dataclass
class FuzzBank:
    app: FastAPI
    connection: Connection
    headers: dict[str, str]

    @contextmanager
    def rolled_back(self) -> Iterator[None]:
        savepoint = self.connection.begin_nested()
        try:
            yield
        finally:
            if savepoint.is_active:
                savepoint.rollback()


def _load_bank(db: Session, settings: Settings) -> str:
    """The demo bank, the API-client role with every permission, and a token asking for all of it."""
    roles.sync_roles(db, Actor.system("fuzz"))
    seed.load_demo(db, only_if_empty=False)
    admin = signed_in_principal(db, settings, "admin")
    grant_every_permission(db, admin, "api_client")
    callcenter = users.find_user_by_username(db, "callcenter")
    assert callcenter is not None
    issued = tokens.issue_token(
        db, admin, data=ApiTokenCreate(name="fuzzer", user_id=callcenter.id, scopes=EVERY_PERMISSION)
    )
    return issued.token


@pytest.fixture(scope="module")
def fuzz_bank(settings: Settings) -> Iterator[FuzzBank]:
    scratch = new_scratch_database("fuzz")
    engine = None
    try:
        run_migrations(scratch.url)
        engine = create_db_engine(scratch.url)
        with engine.begin() as connection, Session(bind=connection) as db:
            token = _load_bank(db, settings)
            db.commit()
        with engine.connect() as connection:
            transaction = connection.begin()
            sessions = sessionmaker(
                bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
            )
            database = Database(engine=engine, read_sessions=sessions, write_sessions=sessions)
            try:
                yield FuzzBank(
                    app=create_app(settings, database),
                    connection=connection,
                    headers={"Authorization": f"Bearer {token}"},
                )
            finally:
                transaction.rollback()
    finally:
        if engine is not None:
            engine.dispose()
        scratch.close()


def _fuzz_test() -> Callable[[schemathesis.Case, FuzzBank], None]:
    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize="BANKCRM_FUZZ_EXAMPLES" not in os.environ,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def test(case: schemathesis.Case, fuzz_bank: FuzzBank) -> None:
        with fuzz_bank.rolled_back():
            case.call_and_validate(app=fuzz_bank.app, headers=fuzz_bank.headers, checks=CHECKS)

    return test


# One test function per operation, named after its operationId. (schemathesis' single
# parametrized function would give every operation the same node id under pytest 9, and xdist
# would then run one operation and silently drop the others.)
OPERATION_IDS = sorted(
    str(result.ok().definition.raw["operationId"]) for result in _SCHEMA.get_all_operations()
)
for _operation_id in OPERATION_IDS:
    globals()[f"test_fuzz_{_operation_id}"] = _SCHEMA.include(operation_id=_operation_id).parametrize()(
        _fuzz_test()
    )


def test_fuzzing_covers_every_operation_of_the_schema() -> None:
    assert len(OPERATION_IDS) == len(set(OPERATION_IDS)) > 20
