"""The synthetic bank the customer budgets are measured on, and what the bench asks of it.

The bank is made by ``bankcrm.demo.bank.generate_bank`` (what ``bankcrm demo generate`` runs): a
SQLite file and a Parquet lake in one var dir. Generating it takes minutes at 100,000 customers,
so a var dir can be kept (``--keep``) and used again (``--reuse DIR``); a dir made by
``bankcrm demo generate`` alone works as well. The first run on a dir links source-system numbers
to a few sampled customers (through the customers service, as the matching job would) and writes
``bench-customers.json``: the sampled customers and the search queries, all taken from the
generated rows, so every run on that dir asks the same questions.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from pypinyin import Style, pinyin

from bankcrm.cli import run_migrations
from bankcrm.core.config import Settings
from bankcrm.core.context import Actor
from bankcrm.core.db import create_database
from bankcrm.core.lake import Lake
from bankcrm.customers import lake_repository
from bankcrm.customers.service import holdings
from bankcrm.demo.bank import generate_bank
from bench.dataset import issue_api_token

MANIFEST = "bench-customers.json"
SEED = 20261129
PER_KIND = 5  # different queries of each search kind, taken in turn
SPREAD = 997  # rows are taken where id % SPREAD is fixed: spread over the whole book, not at random
SOURCE_SYSTEMS = ("core", "cards")


@dataclass(frozen=True)
class Sample:
    """A customer the 360° page is opened for, and why it was chosen."""

    shape: str
    customer_id: int


@dataclass(frozen=True)
class CustomerData:
    customers: int
    transactions: int
    accounts: int
    search_keys: int
    generated_s: float | None  # None when the dir was reused
    database_bytes: int
    lake_bytes: int
    samples: list[Sample]
    searches: dict[str, list[str]]  # search kind -> queries typed into the search box
    api_token: str


def _bytes(paths: list[Path]) -> int:
    return sum(path.stat().st_size for path in paths if path.is_file())


def _count(connection, table: str) -> int:  # type: ignore[no-untyped-def]
    return int(connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())  # noqa: S608


def _initials(name: str) -> str:
    return "".join(item[0][0] for item in pinyin(name, style=Style.NORMAL, errors="ignore") if item).lower()


def _full_pinyin(name: str) -> str:
    return "".join(item[0] for item in pinyin(name, style=Style.NORMAL, errors="ignore") if item).lower()


def _pick(settings: Settings, customers: int) -> tuple[list[Sample], dict[str, list[str]]]:
    """Customers of each shape and the queries of each search kind, from the generated rows.

    Deterministic: rows are chosen by id stride and ordered, never at random.
    """
    database = create_database(settings)
    lake = Lake(settings.lake_root)
    with database.engine.connect() as db:
        sql = db.exec_driver_sql
        # Two-character names too (张三, initials "zs"): the shortest queries match the most keys.
        individuals = [
            row
            for length, remainder, count in ((3, 7, PER_KIND - 2), (2, 11, 2))
            for row in sql(
                "SELECT id, name, mobile, id_number, customer_no FROM customer WHERE kind = 'individual' "
                "AND mobile IS NOT NULL AND length(name) = ? AND id % ? = ? ORDER BY id LIMIT ?",
                (length, SPREAD, remainder, count),
            ).all()
        ]
        corporate = sql(
            "SELECT id FROM customer WHERE kind = 'corporate' AND id > ? ORDER BY id LIMIT 1",
            (customers // 2,),
        ).scalar_one()
        related = sql(
            "SELECT from_customer_id FROM customer_relationship ORDER BY from_customer_id LIMIT 1 OFFSET 20"
        ).scalar_one()
        typical = sql(
            "SELECT id FROM customer WHERE kind = 'individual' AND id > ? ORDER BY id LIMIT 1",
            (customers // 3,),
        ).scalar_one()
        cards = sql(
            "SELECT account_no FROM account WHERE kind = 'credit_card' AND customer_id % ? = 3 "
            "ORDER BY customer_id LIMIT ?",
            (SPREAD, PER_KIND),
        ).scalars()
        deposits = sql(
            "SELECT account_no FROM account WHERE kind != 'credit_card' AND customer_id % ? = 5 "
            "ORDER BY customer_id LIMIT ?",
            (SPREAD, PER_KIND),
        ).scalars()
        accounts = [*cards, *deposits]
    bucket = lake_repository.bucket_of(typical)
    with lake.cursor() as duck:
        source = lake.scan_expression(lake_repository.TRANSACTIONS, partitions=f"month=*/bucket={bucket}")
        busiest = duck.execute(
            f"SELECT customer_id FROM {source} GROUP BY customer_id "  # noqa: S608
            "ORDER BY count(*) DESC, customer_id LIMIT 1"
        ).fetchone()
    database.dispose()
    assert busiest is not None, "the lake has no transactions"
    samples = [
        Sample("most transactions (of its bucket)", int(busiest[0])),
        Sample("corporate", int(corporate)),
        Sample("with relationships", int(related)),
        Sample("typical individual", int(typical)),
    ]
    names = [str(row.name) for row in individuals]
    searches = {
        "name (Chinese characters)": names,
        "full pinyin": [_full_pinyin(name) for name in names],
        "pinyin initials": [_initials(name) for name in names],
        "mobile (full)": [str(row.mobile) for row in individuals],
        "mobile last 4 + name": [f"{row.name} {str(row.mobile)[-4:]}" for row in individuals],
        "ID number": [str(row.id_number) for row in individuals],
        "customer number": [str(row.customer_no) for row in individuals],
        "source-system customer number": [
            _source_number(SOURCE_SYSTEMS[i % 2], int(row.id)) for i, row in enumerate(individuals)
        ],
        "account or card number": accounts,
    }
    return samples, searches


def _source_number(system: str, customer_id: int) -> str:
    return f"{system.upper()}{customer_id * 7919 % 10**9:09d}"


def _link_sources(settings: Settings, samples: list[Sample], searches: dict[str, list[str]]) -> None:
    """The source numbers the queries ask for, linked as the matching job would link them."""
    database = create_database(settings)
    actor = Actor.system("bench")
    with database.engine.connect() as db:
        ids = [
            int(db.exec_driver_sql("SELECT id FROM customer WHERE customer_no = ?", (number,)).scalar_one())
            for number in searches["customer number"]
        ]
    with database.transaction() as session:
        for i, customer_id in enumerate([*ids, *(s.customer_id for s in samples)]):
            system = SOURCE_SYSTEMS[i % 2]
            holdings.link_source_record(
                session,
                actor,
                customer_id=customer_id,
                source_system=system,
                source_customer_no=_source_number(system, customer_id),
                match_rule="bench",
            )
    database.dispose()


def prepare(settings: Settings, *, customers: int, reuse: bool) -> CustomerData:
    """Generate the bank (unless reusing a dir that has one), then sample it once and keep the sample."""
    var_dir = settings.var_dir
    generated_s: float | None = None
    manifest = var_dir / MANIFEST
    if not reuse:
        run_migrations(settings.database_url)
        started = time.monotonic()
        database = create_database(settings)
        generate_bank(
            database,
            Lake(settings.lake_root),
            customers=customers,
            seed_value=SEED,
            progress=lambda message: print(f"  {message}", flush=True),
        )
        database.dispose()
        generated_s = time.monotonic() - started
    else:
        run_migrations(settings.database_url)  # a dir from an older commit gets the new indexes
    if manifest.exists():
        stored = json.loads(manifest.read_text(encoding="utf-8"))
        samples = [Sample(**row) for row in stored["samples"]]
        searches = stored["searches"]
    else:
        database = create_database(settings)
        with database.engine.connect() as db:
            total = _count(db, "customer")
        database.dispose()
        samples, searches = _pick(settings, total)
        _link_sources(settings, samples, searches)
        manifest.write_text(
            json.dumps(
                {"samples": [asdict(s) for s in samples], "searches": searches}, ensure_ascii=False, indent=1
            ),
            encoding="utf-8",
        )
    database = create_database(settings)
    with database.engine.connect() as db:
        counts = {t: _count(db, t) for t in ("customer", "account", "customer_search_key")}
    database.dispose()
    lake = Lake(settings.lake_root)
    with lake.cursor() as duck:
        row = duck.execute(
            f"SELECT count(*) FROM {lake.scan_expression(lake_repository.TRANSACTIONS)}"  # noqa: S608
        ).fetchone()
    return CustomerData(
        customers=counts["customer"],
        transactions=int(row[0]) if row else 0,
        accounts=counts["account"],
        search_keys=counts["customer_search_key"],
        generated_s=generated_s,
        database_bytes=_bytes(list(var_dir.glob("bankcrm.sqlite3*"))),
        lake_bytes=_bytes(list(settings.lake_root.rglob("*.parquet"))),
        samples=samples,
        searches=searches,
        # One token per run: a reused dir holds the earlier runs' tokens.
        api_token=issue_api_token(settings, name=f"bench-customers-{time.time_ns()}"),
    )
