"""`make bench`: prove the performance budgets of docs/benchmarks.md on this machine.

Web budgets (a-c): builds a fresh database in a temporary var dir (the developer's var/ is
untouched), starts the app in a real Uvicorn process and drives it with httpx from this process.
Data-integration budgets (d-g): generates, extracts, ingests and matches in new temporary var dirs,
each step in its own process (bench.integration). Prints the results and rewrites the results
sections of docs/benchmarks.md. Exits 1 when a budget is missed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bankcrm.core.config import Settings, get_settings
from bench import api, customer_data, customers, dataset, integration, login, pages, report, segmentation
from bench.harness import Row, Verdict
from bench.server import Server

WEB_BUDGETS = {"a": "HTML pages", "b": "JSON API against a bare endpoint", "c": "sign-in at production cost"}
CUSTOMER_BUDGETS = {
    "h": "the customer 360° page, page and sections",
    "i": "the JSON 360 document",
    "j": "customer search, each kind of query",
    "k": "the filtered customer list, page 1 and page 1000",
}
BUDGETS = {**WEB_BUDGETS, **integration.BUDGETS, **CUSTOMER_BUDGETS, **segmentation.BUDGETS}
GROUPS = {
    "web": "".join(WEB_BUDGETS),
    "integration": "".join(integration.BUDGETS),
    "customers": "".join(CUSTOMER_BUDGETS),
    "segmentation": "".join(segmentation.BUDGETS),
}
# The customer and segmentation budgets need minutes of generation: measured when asked for
# (--only customers, --only segmentation).
DEFAULT = "".join(WEB_BUDGETS) + "".join(integration.BUDGETS)
QUIET_LOAD_PER_CORE = 0.5
ARGON2_SETTINGS = ("argon2_time_cost", "argon2_memory_kib", "argon2_parallelism")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--staff", type=int, default=2000, help="generated users besides the demo ones")
    parser.add_argument("--rounds", type=int, default=500, help="measured rounds for budgets a and b")
    parser.add_argument("--warmup", type=int, default=50, help="warm-up rounds for budgets a and b")
    parser.add_argument("--gap-ms", type=float, default=5.0, help="idle time after each response")
    parser.add_argument("--logins", type=int, default=40, help="measured sign-ins for budget c")
    parser.add_argument(
        "--only",
        default=DEFAULT,
        help="budgets to measure: letters (--only b, --only de) or a group (--only web, --only integration)",
    )
    parser.add_argument(
        "--customers",
        type=int,
        default=100_000,
        help="customers generated for budgets d, h-k and l-o (1000000 to prove them)",
    )
    parser.add_argument(
        "--people",
        type=int,
        default=20_000,
        help="people behind the source extracts for budgets e-g",
    )
    parser.add_argument(
        "--deliveries",
        default=",".join(integration.DELIVERIES),
        help="for budget e: the deliveries to ingest, comma-separated, in this order of "
        f"{', '.join(integration.DELIVERIES)} (cards and online link to the customers core creates)",
    )
    parser.add_argument(
        "--reuse",
        type=Path,
        default=None,
        help="for budgets h-k or l-o: a var dir with a generated bank (kept by --keep) instead of a new one",
    )
    parser.add_argument(
        "--settle", type=float, default=180, help="seconds to wait at most for a quiet machine first"
    )
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/ alone")
    parser.add_argument("--keep", action="store_true", help="keep the temporary var dir")
    return parser.parse_args(argv)


def _isolate(var_dir: Path) -> None:
    """Only our BANKCRM_* variables, and no .env: the app must run on its production defaults."""
    for name in [name for name in os.environ if name.startswith("BANKCRM_")]:
        del os.environ[name]
    os.environ["BANKCRM_VAR_DIR"] = str(var_dir)
    os.chdir(var_dir)
    get_settings.cache_clear()


def _check_production_hashing(settings: Settings) -> None:
    for name in ARGON2_SETTINGS:
        if getattr(settings, name) != Settings.model_fields[name].default:
            raise SystemExit(f"{name} is not the production default; the login budget would be meaningless")


def _wait_for_quiet(limit_s: float) -> None:
    """Other work on the machine inflates wall times: give it a little while to finish first."""
    quiet = QUIET_LOAD_PER_CORE * (os.cpu_count() or 1)
    deadline = time.monotonic() + limit_s
    load = os.getloadavg()[0]
    if load > quiet and limit_s > 0:
        print(f"Load average {load:.2f}; waiting up to {limit_s:.0f} s for it to fall below {quiet:.1f}")
    while os.getloadavg()[0] > quiet and time.monotonic() < deadline:
        time.sleep(5)


def _selected(only: str) -> str:
    letters = GROUPS.get(only, only)
    if not letters or set(letters) - set(BUDGETS):
        raise SystemExit(f"--only takes letters of {''.join(BUDGETS)} or one of {', '.join(GROUPS)}")
    return "".join(budget for budget in BUDGETS if budget in letters)


def _web(args: argparse.Namespace, budgets: str) -> tuple[str, list[Verdict]]:
    started, clock = datetime.now(UTC), time.monotonic()
    var_dir = Path(tempfile.mkdtemp(prefix="bankcrm-bench-"))
    _isolate(var_dir)
    try:
        settings = get_settings()
        _check_production_hashing(settings)
        print(f"Building the database in {var_dir} ({args.staff:,} generated users) ...", flush=True)
        data = dataset.build(settings, staff=args.staff)
        _wait_for_quiet(args.settle)
        load_before = os.getloadavg()[0]
        rows: list[Row] = []
        verdicts: list[Verdict] = []
        with Server(dict(os.environ), var_dir) as server:
            print(f"Server pid {server.pid} on {server.base_url}", flush=True)
            for budget in budgets:
                print(f"({budget}) {BUDGETS[budget]} ...", flush=True)
                if budget == "a":
                    measured = pages.run(server, rounds=args.rounds, warmup=args.warmup, gap_ms=args.gap_ms)
                elif budget == "b":
                    measured = api.run(
                        server,
                        token=data.api_token,
                        rounds=args.rounds,
                        warmup=args.warmup,
                        gap_ms=args.gap_ms,
                    )
                else:
                    measured = login.run(server, settings, samples=args.logins, warmup=3)
                rows += measured[0]
                verdicts += measured[1]
        facts = report.RunFacts(
            started=started,
            seconds=time.monotonic() - clock,
            users=data.users,
            org_units=data.org_units,
            audit_rows=data.audit_rows,
            database_bytes=sum(path.stat().st_size for path in var_dir.glob("bankcrm.sqlite3*")),
            argon2_parameters=login.hash_parameters(settings),
            rounds=args.rounds,
            warmup=args.warmup,
            login_samples=args.logins,
            load_before=load_before,
            load_after=os.getloadavg()[0],
        )
        section = report.render(facts, rows, verdicts)
    finally:
        os.chdir(report.ROOT)
        if args.keep:
            print(f"Kept {var_dir}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)
    return section, verdicts


def _integration(args: argparse.Namespace, budgets: str) -> tuple[str, list[Verdict]]:
    started, clock, measured = datetime.now(UTC), time.monotonic(), report.commit()
    _wait_for_quiet(args.settle)
    outcome = integration.run(
        budgets=budgets,
        customers=args.customers,
        people=args.people,
        keep=args.keep,
        deliveries=integration.deliveries_from(args.deliveries),
    )
    section = integration.render(outcome, started=started, seconds=time.monotonic() - clock, commit=measured)
    return section, outcome.verdicts


def _customers(args: argparse.Namespace, budgets: str) -> tuple[str, list[Verdict]]:
    """Budgets h-k on a generated bank, in a new var dir or the one given by --reuse."""
    started, clock, measured_commit = datetime.now(UTC), time.monotonic(), report.commit()
    reuse = args.reuse is not None
    var_dir = args.reuse.resolve() if reuse else Path(tempfile.mkdtemp(prefix="bankcrm-bench-customers-"))
    if reuse and not (var_dir / "bankcrm.sqlite3").exists():
        raise SystemExit(f"{var_dir} has no bankcrm.sqlite3: generate a bank first (run once with --keep)")
    _isolate(var_dir)
    try:
        settings = get_settings()
        print(
            f"{'Reusing' if reuse else 'Generating'} the bank in {var_dir}"
            + ("" if reuse else f" ({args.customers:,} customers; minutes)"),
            flush=True,
        )
        data = customer_data.prepare(settings, customers=args.customers, reuse=reuse)
        print(f"{data.customers:,} customers, {data.transactions:,} transactions", flush=True)
        _wait_for_quiet(args.settle)
        load_before = os.getloadavg()[0]
        with Server(dict(os.environ), var_dir) as server:
            print(f"Server pid {server.pid} on {server.base_url}", flush=True)
            for budget in budgets:
                print(f"({budget}) {CUSTOMER_BUDGETS[budget]} ...", flush=True)
            rows, verdicts = customers.run(
                server,
                settings,
                data,
                budgets=budgets,
                rounds=args.rounds,
                warmup=args.warmup,
                gap_ms=args.gap_ms,
            )
        facts = report.CustomerRunFacts(
            commit=measured_commit,
            started=started,
            seconds=time.monotonic() - clock,
            customers=data.customers,
            accounts=data.accounts,
            transactions=data.transactions,
            search_keys=data.search_keys,
            generated_s=data.generated_s,
            database_bytes=data.database_bytes,
            lake_bytes=data.lake_bytes,
            samples=[f"{s.shape} (id {s.customer_id})" for s in data.samples],
            rounds=args.rounds,
            warmup=args.warmup,
            load_before=load_before,
            load_after=os.getloadavg()[0],
        )
        section = report.render_customers(facts, rows, verdicts)
    finally:
        os.chdir(report.ROOT)
        if args.keep or reuse:
            print(f"Kept {var_dir}" + ("" if reuse else f"; next time: --reuse {var_dir}"))
        else:
            shutil.rmtree(var_dir, ignore_errors=True)
    return section, verdicts


def _segmentation(args: argparse.Namespace, budgets: str) -> tuple[str, list[Verdict]]:
    """Budgets l-o, all four from one nightly run, one CLV fit and one round of previews
    (``budgets`` selects nothing less)."""
    del budgets
    started, clock, measured_commit = datetime.now(UTC), time.monotonic(), report.commit()
    _wait_for_quiet(args.settle)
    outcome = segmentation.run(customers=args.customers, reuse=args.reuse, keep=args.keep)
    section = segmentation.render(
        outcome, started=started, seconds=time.monotonic() - clock, commit=measured_commit
    )
    return section, outcome.verdicts


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    budgets = _selected(args.only)
    verdicts: list[Verdict] = []
    parts = (
        (_web, WEB_BUDGETS, report.BEGIN, report.END),
        (_integration, integration.BUDGETS, integration.BEGIN, integration.END),
        (_customers, CUSTOMER_BUDGETS, report.CUSTOMERS_BEGIN, report.CUSTOMERS_END),
        (_segmentation, segmentation.BUDGETS, segmentation.BEGIN, segmentation.END),
    )
    for measure, group, begin, end in parts:
        chosen = "".join(budget for budget in budgets if budget in group)
        if not chosen:
            continue
        section, measured = measure(args, chosen)
        verdicts += measured
        print()
        print(section)
        if not args.no_write:
            report.write(section, begin=begin, end=end)
            print(f"Wrote the results into {report.DOC.relative_to(report.ROOT)}")
    for verdict in verdicts:
        if verdict.met is None:
            print(f"NOT PROVEN ({verdict.budget}): {verdict.rule} - {verdict.measured}")
        elif not verdict.met:
            print(f"MISSED ({verdict.budget}): {verdict.rule} - {verdict.measured}")
    return 1 if any(verdict.met is False for verdict in verdicts) else 0


if __name__ == "__main__":
    raise SystemExit(main())
