"""Killing an ingestion at any moment and running it again gives exactly the state of one clean run."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from bankcrm.core.db import create_db_engine
from bankcrm.core.lake import Lake
from tests.conftest import ScratchDatabase, new_scratch_database
from tests.integration.files import core_row, resident_id, txn, write_core, write_transactions

pytestmark = pytest.mark.slow
CUSTOMERS = 800


def deliveries(folder: Path) -> list[tuple[str, Path]]:
    rows = [
        core_row(
            f"K{i:05d}",
            f"客户{i}",
            resident_id(date(1960, 1, 1) + timedelta(days=i * 7), i % 900 + 10),
            mobile=f"139{i:08d}",
        )
        for i in range(CUSTOMERS)
    ]
    txns = [
        txn(
            f"T{i:06d}",
            f"K{i % CUSTOMERS:05d}",
            f"2026-{i % 12 + 1:02d}-10 09:00:00",
            "C" if i % 4 else "D",
            f"{(i % 500) + 1}.25",
        )
        for i in range(CUSTOMERS * 4)
    ]
    return [
        ("core", write_core(folder, "core_customers_20261129.csv", rows)),
        ("core_txn", write_transactions(folder, "core_txn_20261129.csv", txns)),
    ]


def run(
    database: ScratchDatabase, var: Path, source: str, path: Path, *, kill_after: float | None = None
) -> int:
    env = {
        **os.environ,
        "BANKCRM_DATABASE_URL": database.url,
        "BANKCRM_VAR_DIR": str(var),
        "BANKCRM_LAKE_DIR": str(var / "lake"),
        # The journal loads in several batches, so a kill can fall between two of them.
        "BANKCRM_JOURNAL_BATCH_RECORDS": "700",
    }
    command = [sys.executable, "-m", "bankcrm.cli", "ingest", source, str(path)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if kill_after is None:
        return process.wait(timeout=300)
    time.sleep(kill_after)
    process.send_signal(signal.SIGKILL)
    return process.wait(timeout=60)


def state(database: ScratchDatabase, var: Path) -> dict[str, object]:
    engine = create_db_engine(database.url)
    with engine.connect() as connection:
        counts = {
            table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("customer", "source_record", "customer_source_xref", "customer_search_key")
        }
        # Sorted by their content: the demo's sample deliveries carry the same file names as these,
        # so no column orders a source's batches the same way on every engine.
        counts["batches"] = sorted(
            tuple(row)
            for row in connection.execute(
                text("SELECT source_code, status, loaded_count, rejected_count FROM ingest_batch")
            )
        )
    engine.dispose()
    lake = Lake(var / "lake")
    if lake.has_dataset("transactions"):
        rows = lake.query(
            f"SELECT count(*) AS n, count(DISTINCT txn_id) AS d FROM {lake.scan_expression('transactions')}"
        )
        counts["lake"] = (rows["n"][0].as_py(), rows["d"][0].as_py())
    return counts


def migrated(label: str, var: Path) -> ScratchDatabase:
    database = new_scratch_database(label)
    env = {**os.environ, "BANKCRM_DATABASE_URL": database.url, "BANKCRM_VAR_DIR": str(var)}
    for args in (["migrate"], ["demo", "load", "--customers", "0"]):
        subprocess.run(
            [sys.executable, "-m", "bankcrm.cli", *args],
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )
    return database


def test_killed_at_random_points_then_rerun_equals_one_clean_run(tmp_path: Path) -> None:
    files = deliveries(tmp_path)
    clean_var, crash_var = tmp_path / "clean", tmp_path / "crash"
    clean, crashed = migrated("clean", clean_var), migrated("crash", crash_var)
    try:
        started = time.monotonic()
        for source, path in files:
            assert run(clean, clean_var, source, path) == 0
        duration = (time.monotonic() - started) / len(files)
        rng = random.Random(20261129)
        for source, path in files:
            for _ in range(3):  # kill it three times at random moments, then let it finish
                run(crashed, crash_var, source, path, kill_after=rng.uniform(0.2, max(duration, 0.5)))
            assert run(crashed, crash_var, source, path) == 0
            assert run(crashed, crash_var, source, path) == 0  # and once more: a finished delivery is a no-op
        assert state(crashed, crash_var) == state(clean, clean_var)
    finally:
        clean.close()
        crashed.close()
