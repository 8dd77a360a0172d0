"""Running the segmentation expressions on local Spark beside DuckDB, for the scale-out tests.

Three reusable parts (the fixtures are registered in ``tests/segmentation/conftest.py``):

- ``spark``: one local SparkSession for the whole test run, as an Ibis pyspark backend. Every test
  that asks for it is put in the ``spark`` xdist group, so only one worker ever starts a JVM.
- ``small_bank``: a few hundred customers generated through the services (the demo generator plus
  customers without any history), their lake on disk and their operational profile.
  ``small_bank.tables(backend)`` gives its ``transactions``, ``balances`` and ``customers`` as Ibis
  tables of either backend: DuckDB reads the lake as the scoring run does, Spark reads the same
  Parquet files.
- ``assert_same_rows``: two Arrow results equal row by row, sorted by a key (Decimal exactly,
  floats within a tight relative tolerance).
"""

from __future__ import annotations

import math
import os
import random
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pytest
from ibis.backends import BaseBackend
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bankcrm.core.context import Actor
from bankcrm.core.db import Database
from bankcrm.core.formatting import BUSINESS_TZ, business_today
from bankcrm.core.lake import Lake, money_from_cents
from bankcrm.customers import lake_repository
from bankcrm.customers.service import bulk
from bankcrm.customers.service import scoring as customer_scoring
from bankcrm.demo.bank import generate_bank
from bankcrm.identity.service import users as user_service
from bankcrm.segmentation.features import BALANCE_CATEGORIES, Month, customer_features
from bankcrm.segmentation.rfm import with_rfm
from tests.customers.conftest import resident_id, uscc

SPARK_GROUP = "spark"
# Floats (shares and changes) are computed in double precision by both engines, in possibly a
# different order: equal to well within this relative difference.
FLOAT_TOLERANCE = 1e-9
CUSTOMERS = 300
SEED = 20_505

# ---------------------------------------------------------------- the Spark session


def _java_home() -> str | None:
    """JAVA_HOME as the machine's ``java`` implies it (…/bin/java -> …), unless already set."""
    if os.environ.get("JAVA_HOME"):
        return os.environ["JAVA_HOME"]
    java = shutil.which("java")
    return str(Path(java).resolve().parent.parent) if java else None


def _quiet_logging(folder: Path) -> Path:
    """A log4j2 configuration that lets only errors through: Spark's start-up chatter (native
    libraries, the default log level, loopback addresses) is noise in a test run."""
    path = folder / "log4j2.properties"
    path.write_text(
        "rootLogger.level = error\n"
        "rootLogger.appenderRef.stderr.ref = console\n"
        "appender.console.type = Console\n"
        "appender.console.name = console\n"
        "appender.console.target = SYSTEM_ERR\n"
        "appender.console.layout.type = PatternLayout\n"
        "appender.console.layout.pattern = %d{HH:mm:ss} %p %c: %m%n\n"
        # PySpark counts as Spark's shell, whose logger sets the level it starts at.
        "logger.repl.name = org.apache.spark.repl.Main\n"
        "logger.repl.level = error\n",
        encoding="utf-8",
    )
    return path


def start_spark(folder: Path) -> Any:
    """A local SparkSession on loopback only: no UI, two cores, few shuffle partitions (the test
    bank is tiny, and the default 200 partitions would make every aggregate slow)."""
    from pyspark.sql import SparkSession

    logging = _quiet_logging(folder)
    builder = (
        SparkSession.builder.master("local[2]")
        .appName("bankcrm-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.memory", "1g")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(folder / "warehouse"))
        .config("spark.local.dir", str(folder / "scratch"))
        .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{logging}")
        .config("spark.sql.sources.parallelPartitionDiscovery.threshold", "100000")
        .config("spark.sql.files.openCostInBytes", "1")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BaseBackend]:
    """One local Spark for the run, as an Ibis backend (skipped, saying why, without Java)."""
    pytest.importorskip("pyspark")
    java_home = _java_home()
    if java_home is None:
        pytest.skip("no java on PATH: Spark needs Java 17")
    os.environ["JAVA_HOME"] = java_home
    # Spark would otherwise pick the machine's network address for its own services; the tests
    # keep every socket on loopback.
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    session = start_spark(tmp_path_factory.mktemp("spark"))
    try:
        yield ibis.pyspark.connect(session)
    finally:
        session.stop()


def mark_spark_tests(items: Sequence[pytest.Item]) -> None:
    """Put every test that uses the ``spark`` fixture in one xdist group (``--dist loadgroup``), so
    one worker starts the JVM; the root conftest gives the group its node-id suffix."""
    for item in items:
        if SPARK_GROUP in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group(SPARK_GROUP))


# ---------------------------------------------------------------- the small bank


@dataclass(frozen=True)
class BankTables:
    """The pipeline's inputs on one backend."""

    backend: BaseBackend
    transactions: ir.Table
    balances: ir.Table
    customers: ir.Table

    def features(self, as_of: date) -> ir.Table:
        """``customer_features`` with RFM, as the scoring run computes them."""
        return with_rfm(customer_features(self.transactions, self.balances, self.customers, as_of=as_of))


@dataclass(frozen=True)
class SmallBank:
    lake: Lake
    profile: pa.Table  # customers' scoring profile, as the scoring run reads it
    tiers: pa.Table  # customer_id, tier: the tiers now
    today: date
    read_by: dict[int, BankTables] = field(default_factory=dict)  # inputs read by other backends

    @property
    def month_end(self) -> date:
        """The last day of last month: a run whose balance month is its own month."""
        return Month.of(self.today).minus(1).last_day

    @property
    def mid_month(self) -> date:
        """The 15th of last month: a run on the month before's balances, windows mid-month."""
        return Month.of(self.today).minus(1).first_day + timedelta(days=14)

    def tables(self, backend: BaseBackend) -> BankTables:
        """Its inputs on ``backend``: the lake's own DuckDB reads them as ``jobs`` does; any other
        backend reads the same Parquet files (hive partitions) with its own reader, once."""
        if backend.name == "duckdb":
            transactions = backend.table(lake_repository.TRANSACTIONS)
            balances = backend.table(lake_repository.BALANCES)
            return BankTables(backend, transactions, balances, ibis.memtable(self.profile))
        if id(backend) not in self.read_by:
            # Cached: the features scan each input several times, and listing and opening the
            # lake's many small files again for each scan is most of the work on a tiny bank.
            transactions = backend.read_parquet(self.lake.dataset_dir(lake_repository.TRANSACTIONS)).cache()
            balances = backend.read_parquet(self.lake.dataset_dir(lake_repository.BALANCES)).cache()
            customers = backend.create_table(f"small_bank_profile_{id(self)}", self.profile, overwrite=True)
            self.read_by[id(backend)] = BankTables(backend, transactions, balances, customers)
        return self.read_by[id(backend)]

    def duckdb(self) -> BaseBackend:
        return self.lake.ibis_backend(threads=1)


def _sessions(engine: Engine) -> tuple[Any, Database]:
    """A connection in a transaction that is rolled back at the end, as the per-test ``database``
    fixture makes it, but held for the whole bank's build."""
    connection = engine.connect()
    transaction = connection.begin()
    sessions = sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    database = Database(engine=engine, read_sessions=sessions, write_sessions=sessions)
    return (connection, transaction), database


def _without_history(session: Session) -> list[int]:
    """An individual and a company with no product, balance or transaction: every feature that
    can be unknown (age, tenure, recency, shares and changes) is null for them."""
    rm = user_service.find_user_by_username(session, "rm.chen")
    assert rm is not None
    records = [
        bulk.CustomerRecord(
            fields={
                "kind": "individual",
                "name": "钱无史",
                "id_type": "resident_id",
                "id_number": resident_id(date(1990, 2, 28)),
                "mobile": "13900009901",
            },
            org_unit_id=rm.org_unit_id,
            primary_rm_id=rm.id,
        ),
        bulk.CustomerRecord(
            fields={
                "kind": "corporate",
                "name": "北京无史科技有限公司",
                "id_type": "uscc",
                "id_number": uscc("91110108MA01PRKX1"),
                "mobile": "13900009902",
            },
            org_unit_id=rm.org_unit_id,
            primary_rm_id=rm.id,
        ),
    ]
    result = bulk.load_customers(session, Actor.system("tests"), records, batch_label="spark-no-history")
    assert not result.rejected, result.rejected
    return result.loaded_ids


def _other_balances(lake: Lake, ids: np.ndarray, today: date, rng: np.random.Generator) -> None:
    """Wealth, fund, insurance, time deposits, other assets and loans for some customers over the
    twelve months (the generator holds deposits only), so every balance column is exercised."""
    holders = ids[rng.random(len(ids)) < 0.6]
    categories = [*BALANCE_CATEGORIES[1:], "other_asset", "loan"]
    for back in range(12):
        month = Month.of(today).minus(back)
        chosen = rng.integers(0, len(categories), size=len(holders))
        cents = np.round(rng.lognormal(11, 1.5, size=len(holders)) * 100).astype(np.int64)
        table = pa.table(
            {
                "customer_id": pa.array(holders, pa.int64()),
                "category": pa.array([categories[i] for i in chosen], pa.string()),
                "balance": money_from_cents(cents),
            }
        )
        lake_repository.write_balances(lake, month.label, table, batch_key="spark-extra")


def _unusual_transactions(lake: Lake, ids: list[int], today: date) -> None:
    """Transactions the generator never makes: no category or channel, incoming non-salary
    payments, and bookings on either side of the end of a business day (Beijing midnight)."""
    rng = random.Random(SEED)
    month_end = Month.of(today).minus(1).last_day
    midnight = datetime.combine(month_end + timedelta(days=1), time.min, BUSINESS_TZ).astimezone(UTC)
    rows = []
    for number, customer_id in enumerate(ids):
        for k in range(4):
            at = midnight + timedelta(seconds=rng.choice((-1, 0, 1, -3600, 3600)) * (k + 1))
            rows.append(
                {
                    "txn_id": f"SPX-{number}-{k}",
                    "customer_id": customer_id,
                    "account_no": "6222000000000000",
                    "booked_at": at,
                    "direction": rng.choice(("in", "out")),
                    "amount": Decimal(rng.randrange(1, 5_000_000)) / 100,
                    "currency": "CNY",
                    "category": rng.choice((None, "refund", "salary", "dining")),
                    "channel": rng.choice((None, "mobile", "branch", "online")),
                    "counterparty": None,
                    "description": None,
                }
            )
    table = pa.Table.from_pylist(rows, schema=lake_repository.TRANSACTION_SCHEMA)
    lake_repository.write_transactions(lake, table, batch_key="spark-unusual")


def build_small_bank(engine: Engine, folder: Path) -> SmallBank:
    """The demo generator's bank at ``CUSTOMERS`` customers (through the customers and holdings
    services), two customers without any history, and the lake extras above. The operational rows
    are rolled back once the profile is read; the lake stays in ``folder``."""
    lake = Lake(folder / "lake")
    today = business_today()
    (connection, transaction), database = _sessions(engine)
    try:
        generate_bank(database, lake, customers=CUSTOMERS, seed_value=SEED)
        with database.transaction() as session:
            no_history = _without_history(session)
            profile = customer_scoring.scoring_profile(session)
            tiers = customer_scoring.current_tiers(session)
    finally:
        transaction.rollback()
        connection.close()
    ids = [i for i in profile["customer_id"].to_pylist() if i not in no_history]
    _other_balances(lake, np.array(ids, dtype=np.int64), today, np.random.default_rng(SEED))
    _unusual_transactions(lake, ids[: len(ids) // 3], today)
    return SmallBank(lake=lake, profile=profile, tiers=tiers, today=today)


# ---------------------------------------------------------------- comparing results


def _sorted_rows(table: pa.Table, key: Sequence[str]) -> list[dict[str, Any]]:
    return table.sort_by([(k, "ascending") for k in key]).to_pylist()


def _same_value(expected: Any, actual: Any) -> bool:
    if isinstance(expected, float) and isinstance(actual, float):
        if math.isnan(expected) or math.isnan(actual):
            return math.isnan(expected) and math.isnan(actual)
        return math.isclose(expected, actual, rel_tol=FLOAT_TOLERANCE, abs_tol=1e-12)
    # Decimal, int, str, date and None compare exactly; a Decimal against a float would not.
    return type(expected) is type(actual) and expected == actual


def assert_same_rows(expected: pa.Table, actual: pa.Table, *, key: str | Sequence[str]) -> None:
    """``actual`` (e.g. Spark's result) has the same columns, types and rows as ``expected``
    (DuckDB's), the rows matched by ``key``. Reports the first few differing cells."""
    keys = [key] if isinstance(key, str) else list(key)
    assert actual.schema.names == expected.schema.names
    assert actual.schema.types == expected.schema.types
    assert actual.num_rows == expected.num_rows
    differences = []
    for left, right in zip(_sorted_rows(expected, keys), _sorted_rows(actual, keys), strict=True):
        assert [left[k] for k in keys] == [right[k] for k in keys]
        differences.extend(
            f"{[left[k] for k in keys]} {name}: {left[name]!r} != {right[name]!r}"
            for name in expected.schema.names
            if not _same_value(left[name], right[name])
        )
    assert not differences, f"{len(differences)} cells differ:\n" + "\n".join(differences[:20])


def on_both(
    bank: SmallBank, spark: BaseBackend, build: Callable[[BankTables], ir.Table]
) -> tuple[pa.Table, pa.Table]:
    """``build`` run on the bank's DuckDB and on Spark: (DuckDB's rows, Spark's rows)."""
    duckdb = bank.duckdb()
    return duckdb.to_pyarrow(build(bank.tables(duckdb))), spark.to_pyarrow(build(bank.tables(spark)))
