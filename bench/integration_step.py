"""One measured step of the data-integration budgets, run in its own Python process.

``python -m bench.integration_step STEP --json OUT [options]`` does one thing (generate the synthetic
bank, write the extracts, load one delivery, run matching) against the var dir named by
``BANKCRM_VAR_DIR`` and writes what it measured as JSON: wall time of the step itself (imports and
start-up excluded), the CPU time of the process and its finished children (generation writes the
lake in a second process) during the step, and the peak resident memory (``ru_maxrss``: the
high-water mark of the whole process, so one step per process) plus that of its largest child.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import time
from collections import defaultdict
from collections.abc import Callable
from itertools import combinations
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bankcrm.cli import run_migrations
from bankcrm.core.config import get_settings
from bankcrm.core.context import Actor
from bankcrm.core.db import create_database
from bankcrm.core.lake import Lake
from bankcrm.customers.service import sourcing
from bankcrm.demo import seed
from bankcrm.demo.bank import generate_bank
from bankcrm.demo.extracts import write_extracts
from bankcrm.identity.service import roles
from bankcrm.integration.models import SourceRecord
from bankcrm.integration.service.ingest import land_file, resolve_landed
from bankcrm.integration.service.matching import run_matching

SEED = 20261129
FILES = {
    "core": "core_customers_*.csv",
    "cards": "cards_customers_*.txt",
    "online": "online_users_*.csv",
    "core_txn": "core_txn_*.csv",
}


def _cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _measured(work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    own, children = _cpu_seconds(resource.RUSAGE_SELF), _cpu_seconds(resource.RUSAGE_CHILDREN)
    clock = time.monotonic()
    facts = work()
    facts["seconds"] = time.monotonic() - clock
    # Finished children count too: generation writes the lake in a second process.
    facts["cpu_own_seconds"] = _cpu_seconds(resource.RUSAGE_SELF) - own
    facts["cpu_children_seconds"] = _cpu_seconds(resource.RUSAGE_CHILDREN) - children
    facts["cpu_seconds"] = facts["cpu_own_seconds"] + facts["cpu_children_seconds"]
    # High-water marks in KiB on Linux. The children's is that of the largest child; adding it to
    # this process's is an upper bound of their peak together (they may peak at different times).
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    facts["peak_rss_bytes"] = own + children
    facts["peak_rss_own_bytes"] = own
    facts["peak_rss_children_bytes"] = children
    return facts


def prepare() -> dict[str, Any]:
    """A new operational store with the demo organisation: what every other step starts from."""
    settings = get_settings()
    run_migrations(settings.database_url)
    database = create_database(settings)
    with database.transaction() as session:
        roles.sync_roles(session, Actor.system("bench"))
        seed.load_demo(session, only_if_empty=False)
    database.dispose()
    return {}


def generate(customers: int) -> dict[str, Any]:
    settings = get_settings()
    run_migrations(settings.database_url)
    database = create_database(settings)

    def work() -> dict[str, Any]:
        summary = generate_bank(database, Lake(settings.lake_root), customers=customers, seed_value=SEED)
        return {
            "customers": summary.customers,
            "rejected": summary.rejected,
            "accounts": summary.accounts,
            "transactions": summary.transactions,
            "relationship_managers": summary.relationship_managers,
        }

    facts = _measured(work)
    database.dispose()
    return facts


def extracts(folder: Path, people: int) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        summary = write_extracts(folder, people=people, seed=SEED)
        return {
            "people": summary.people,
            "core": summary.core,
            "cards": summary.cards,
            "online": summary.online,
            "transactions": summary.transactions,
            "bytes": sum(path.stat().st_size for path in folder.iterdir()),
        }

    return _measured(work)


def ingest(folder: Path, source: str) -> dict[str, Any]:
    database = create_database(get_settings())
    path = next(folder.glob(FILES[source]))

    def work() -> dict[str, Any]:
        # The two steps and two commits of `bankcrm ingest`, each timed: landing (validated records
        # and rejects in the store) is what budget (e) names; resolving is reported beside it.
        actor = Actor.system(f"ingest:{source}")
        clock = time.monotonic()
        with database.transaction() as session:
            landed = land_file(session, actor, source=source, path=path)
        landing_seconds = time.monotonic() - clock
        with database.transaction() as session:
            result = resolve_landed(session, actor, landed)
        if result.status != "loaded":
            raise RuntimeError(f"{source}: {result.status} {result.message}")
        return {
            "source": source,
            "landing_seconds": landing_seconds,
            "resolving_seconds": time.monotonic() - clock - landing_seconds,
            "landed": landed.read - landed.rejected,
            "read": result.read,
            "loaded": result.loaded,
            "rejected": result.rejected,
            "linked": result.linked,
            "created": result.created,
            "bytes": path.stat().st_size,
        }

    facts = _measured(work)
    database.dispose()
    return facts


def accuracy(folder: Path, linked: dict[tuple[str, str], int | None]) -> dict[str, Any]:
    """Pairs of source records on one golden record, against the pairs the ground truth says are one
    person. True pairs with a record that never loaded (rejected at validation) are counted apart."""
    truth: dict[str, list[tuple[str, str]]] = defaultdict(list)
    with (folder / "ground_truth.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            truth[row["person"]].append((row["source"], row["source_customer_no"]))
    all_true = {frozenset(pair) for records in truth.values() for pair in combinations(records, 2)}
    loaded_true = {pair for pair in all_true if all(key in linked for key in pair)}
    groups: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for key, customer in linked.items():
        if customer is not None:
            groups[customer].append(key)
    found = {frozenset(pair) for group in groups.values() for pair in combinations(group, 2)}
    hits = len(found & loaded_true)
    return {
        "found_pairs": len(found),
        "true_pairs": len(loaded_true),
        "true_pairs_unloadable": len(all_true) - len(loaded_true),
        "correct_pairs": hits,
        "precision": hits / max(len(found), 1),
        "recall": hits / max(len(loaded_true), 1),
        "recall_all": len(found & all_true) / max(len(all_true), 1),
    }


def match(folder: Path) -> dict[str, Any]:
    database = create_database(get_settings())

    def work() -> dict[str, Any]:
        with database.transaction() as session:
            summary = run_matching(session, Actor.system("match"))
        return {
            "records": summary.records,
            "pairs": summary.pairs,
            "auto_merged": summary.auto_merged,
            "queued": summary.queued,
        }

    facts = _measured(work)
    with database.transaction(write=False) as session:
        rows = session.execute(
            select(SourceRecord.source_code, SourceRecord.source_customer_no, SourceRecord.customer_id)
        ).all()
        # A source record keeps the customer it first linked to; after a merge the survivor stands
        # for it, so two records share a golden record when their customers lead to the same one.
        current = sourcing.current_customer_ids(session, {c for _s, _n, c in rows if c is not None})
    database.dispose()
    golden_of = {(source, number): current.get(customer, customer) for source, number, customer in rows}
    facts.update(accuracy(folder, golden_of))
    return facts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.integration_step", description=__doc__)
    parser.add_argument("step", choices=("prepare", "generate", "extracts", "ingest", "match"))
    parser.add_argument("--json", type=Path, required=True, help="where to write the measurements")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--folder", type=Path, help="the extracts folder")
    parser.add_argument("--source", choices=sorted(FILES))
    args = parser.parse_args(argv)
    if args.step == "prepare":
        facts = prepare()
    elif args.step == "generate":
        facts = generate(args.customers)
    elif args.step == "extracts":
        facts = extracts(args.folder, args.customers)
    elif args.step == "ingest":
        facts = ingest(args.folder, args.source)
    else:
        facts = match(args.folder)
    args.json.write_text(json.dumps(facts, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
