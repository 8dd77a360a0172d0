"""The `bankcrm` command as an operator uses it, against a real database file or server."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import text

from bankcrm.core.db import create_db_engine
from tests.conftest import BACKEND, ScratchDatabase, new_scratch_database

pytestmark = pytest.mark.slow


@pytest.fixture
def scratch() -> Iterator[ScratchDatabase]:
    database = new_scratch_database("cli")
    yield database
    database.close()


def bankcrm(
    database_url: str, *args: str, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "BANKCRM_DATABASE_URL": database_url, **env}
    return subprocess.run(
        [sys.executable, "-m", "bankcrm.cli", *args],
        env=environment,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_help_explains_every_command() -> None:
    result = bankcrm("sqlite://", "--help")
    assert result.returncode == 0
    for command in ("serve", "migrate", "createuser", "audit", "demo", "org", "score"):
        assert command in result.stdout


def test_migrate_demo_and_verify_then_tampering_is_caught(scratch: ScratchDatabase) -> None:
    assert bankcrm(scratch.url, "migrate").returncode == 0
    loaded = bankcrm(scratch.url, "demo", "load", "--if-empty", "--customers", "60")
    assert loaded.returncode == 0, loaded.stderr
    assert "rm.zhang" in loaded.stdout
    again = bankcrm(scratch.url, "demo", "load", "--if-empty", "--customers", "60")
    assert "already present" in again.stdout

    intact = bankcrm(scratch.url, "audit", "verify")
    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert "intact" in intact.stdout

    engine = create_db_engine(scratch.url)
    with engine.begin() as connection:
        if BACKEND == "postgres":
            connection.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        else:
            connection.execute(text("DROP TRIGGER audit_event_no_update"))
        connection.execute(text("UPDATE audit_event SET actor_name = 'someone else' WHERE seq = 5"))
    engine.dispose()
    broken = bankcrm(scratch.url, "audit", "verify")
    assert broken.returncode == 1
    assert "seq 5" in broken.stdout


def test_createuser_reads_the_password_from_the_environment_and_enforces_policy(
    scratch: ScratchDatabase,
) -> None:
    assert bankcrm(scratch.url, "migrate").returncode == 0
    assert bankcrm(scratch.url, "demo", "load", "--customers", "0").returncode == 0
    weak = bankcrm(
        scratch.url,
        "createuser",
        "ops.admin",
        "--name",
        "运维管理员",
        "--org-unit",
        "HO",
        BANKCRM_NEW_PASSWORD="password1234",
    )
    assert weak.returncode == 1
    assert "password.common" in weak.stdout
    created = bankcrm(
        scratch.url,
        "createuser",
        "ops.admin",
        "--name",
        "运维管理员",
        "--org-unit",
        "HO",
        BANKCRM_NEW_PASSWORD="Long-and-unusual-27",
    )
    assert created.returncode == 0, created.stdout
    unknown_unit = bankcrm(
        scratch.url,
        "createuser",
        "x.user",
        "--name",
        "X",
        "--org-unit",
        "NOPE",
        BANKCRM_NEW_PASSWORD="Long-and-unusual-27",
    )
    assert unknown_unit.returncode == 1
    assert "NOPE" in unknown_unit.stdout


def test_bad_configuration_exits_with_a_clear_message() -> None:
    result = bankcrm("mysql://nope", "migrate")
    assert result.returncode == 2
    assert "BANKCRM_DATABASE_URL" in result.stdout + result.stderr


def _lake_rows(root: Path, dataset: str) -> list[tuple[str, list[dict[str, object]]]]:
    """Every file of a lake dataset (by its path under the dataset) with its rows, in order."""
    folder = root / dataset
    return [
        (path.relative_to(folder).as_posix(), pq.read_table(path).to_pylist())
        for path in sorted(folder.rglob("*.parquet"))
    ]


def test_generate_a_small_bank_is_deterministic_and_searchable(scratch: ScratchDatabase, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert bankcrm(scratch.url, "migrate").returncode == 0
    lake = str(tmp_path / "lake")
    made = bankcrm(
        scratch.url, "demo", "generate", "--customers", "300", "--seed", "7", BANKCRM_LAKE_DIR=lake
    )
    assert made.returncode == 0, made.stdout + made.stderr
    assert "300 customers" in made.stdout
    engine = create_db_engine(scratch.url)
    with engine.connect() as connection:
        first = connection.execute(text("SELECT name, id_number FROM customer ORDER BY id LIMIT 3")).all()
        accounts = connection.execute(text("SELECT count(*) FROM account")).scalar_one()
    engine.dispose()
    assert accounts >= 300
    scratch2 = new_scratch_database("cli2")
    try:
        assert bankcrm(scratch2.url, "migrate").returncode == 0
        again = bankcrm(
            scratch2.url,
            "demo",
            "generate",
            "--customers",
            "300",
            "--seed",
            "7",
            BANKCRM_LAKE_DIR=str(tmp_path / "lake2"),
        )
        assert again.returncode == 0
        engine = create_db_engine(scratch2.url)
        with engine.connect() as connection:
            assert (
                connection.execute(text("SELECT name, id_number FROM customer ORDER BY id LIMIT 3")).all()
                == first
            )
        engine.dispose()
        for dataset in ("transactions", "balances"):
            assert _lake_rows(tmp_path / "lake", dataset) == _lake_rows(tmp_path / "lake2", dataset)
    finally:
        scratch2.close()


def test_score_computes_features_as_of_a_date_and_refuses_a_bad_one(
    scratch: ScratchDatabase, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    assert bankcrm(scratch.url, "migrate").returncode == 0
    lake = str(tmp_path / "lake")
    made = bankcrm(
        scratch.url, "demo", "generate", "--customers", "120", "--seed", "3", BANKCRM_LAKE_DIR=lake
    )
    assert made.returncode == 0, made.stdout + made.stderr

    scored = bankcrm(scratch.url, "score", "--as-of", "2026-10-31", BANKCRM_LAKE_DIR=lake)
    assert scored.returncode == 0, scored.stdout + scored.stderr
    assert "Scored 120 customers as of 2026-10-31" in scored.stdout
    features = pq.read_table(tmp_path / "lake" / "features" / "as_of=2026-10-31")
    assert features.num_rows == 120
    engine = create_db_engine(scratch.url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM customer_score")).scalar_one() == 120
    engine.dispose()

    bad = bankcrm(scratch.url, "score", "--as-of", "31/10/2026", BANKCRM_LAKE_DIR=lake)
    assert bad.returncode == 2
    assert "'31/10/2026' is not a date of the form YYYY-MM-DD" in bad.stdout + bad.stderr
