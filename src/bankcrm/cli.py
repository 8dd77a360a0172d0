"""The ``bankcrm`` command: serve, migrate, createuser, audit, demo, org, ingest, match, dedupe, link."""

from __future__ import annotations

import getpass
import os
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated

import typer
from alembic import command as alembic_command
from alembic.config import Config as AlembicConfig
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bankcrm.audit import service as audit_service
from bankcrm.core.config import ConfigurationError, get_settings
from bankcrm.core.context import Actor
from bankcrm.core.db import Database, create_database
from bankcrm.core.errors import ValidationFailed
from bankcrm.core.formatting import business_today
from bankcrm.core.i18n import translate
from bankcrm.core.lake import Lake
from bankcrm.demo import seed
from bankcrm.demo.bank import generate_bank
from bankcrm.demo.extracts import write_extracts
from bankcrm.identity.service import orgs, roles, users
from bankcrm.integration.service.dedupe import (
    DEFAULT_CLUSTER_THRESHOLD,
    DEFAULT_THRESHOLD,
    ROLES,
    DedupeInputError,
    DedupeSummary,
    InputFile,
    columns_for_second_file,
    dedupe_file,
    default_output_folder,
    link_files,
    parse_role_columns,
)
from bankcrm.integration.service.ingest import IngestResult, UnknownSource, land_file, resolve_landed
from bankcrm.integration.service.matching import run_matching
from bankcrm.segmentation import cluster_command, clv_command
from bankcrm.segmentation.jobs import run_scoring
from bankcrm.segmentation.studio import command as model_command

app = typer.Typer(
    help="BankCRM: customer relationship management for banks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
audit_app = typer.Typer(help="Work with the audit trail.", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data for trying BankCRM out.", no_args_is_help=True)
org_app = typer.Typer(help="Organisation maintenance jobs.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
app.add_typer(demo_app, name="demo")
app.add_typer(org_app, name="org")
app.add_typer(clv_command.app, name="clv")
app.command("cluster")(cluster_command.cluster)
app.add_typer(model_command.app, name="model")
console = Console()
# Errors go to stderr unwrapped, so a long list of column names stays one line to grep.
error_console = Console(stderr=True, soft_wrap=True)
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _fail(message: str, code: int = 1) -> typer.Exit:
    console.print(f"[red]{message}[/red]")
    return typer.Exit(code)


def _explain(error: ValidationFailed) -> str:
    return "; ".join(f"{p.field}: {translate('en', p.message, p.params)} ({p.rule})" for p in error.problems)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (use 1 with SQLite).")] = 1,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
) -> None:
    """Serve the web pages and the JSON API."""
    import uvicorn

    settings = get_settings()
    console.print(
        f"BankCRM on [bold]http://{host}:{port}[/bold]  (database: {settings.database_url.split('@')[-1]})"
    )
    uvicorn.run(
        "bankcrm.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        proxy_headers=False,
        log_level=settings.log_level.lower(),
    )


def run_migrations(database_url: str | None = None) -> None:
    config = AlembicConfig(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", database_url or get_settings().database_url)
    alembic_command.upgrade(config, "head")


@app.command()
def migrate() -> None:
    """Bring the database schema to the newest version, then sync built-in roles and due org moves."""
    settings = get_settings()
    run_migrations(settings.database_url)
    database = create_database(settings)
    with database.transaction() as session:
        new = roles.sync_roles(session, Actor.system("migrate"))
        moved = orgs.apply_due_moves(session, Actor.system("migrate"))
    database.dispose()
    console.print(
        f"Schema is current. New permissions granted by default: {len(new)}. Org moves applied: {moved}."
    )


@app.command()
def createuser(
    username: Annotated[str, typer.Argument(help="Login name, lower-case.")],
    name: Annotated[str, typer.Option(help="Display name.")],
    org_unit: Annotated[str, typer.Option(help="Code of the organisation unit.")],
    role: Annotated[str, typer.Option(help="Role code, e.g. admin or relationship_manager.")] = "admin",
) -> None:
    """Create a user (for example the first administrator). The password is read from
    BANKCRM_NEW_PASSWORD or asked for, never taken as an argument (it would land in shell history)."""
    password = os.environ.get("BANKCRM_NEW_PASSWORD") or getpass.getpass("Password for the new user: ")
    database = create_database(get_settings())
    try:
        with database.transaction() as session:
            roles.sync_roles(session, Actor.system("createuser"))
            unit = seed.find_unit_by_code(session, org_unit)
            if unit is None:
                raise _fail(f"No organisation unit with code {org_unit!r}.")
            users.bootstrap_user(
                session,
                Actor.system("createuser"),
                username=username,
                display_name=name,
                password=password,
                unit=unit,
                role_code=role,
            )
    except ValidationFailed as exc:
        raise _fail(_explain(exc)) from exc
    finally:
        database.dispose()
    console.print(f"User {username} created.")


@app.command()
def ingest(
    source: Annotated[
        str, typer.Argument(help="Source code, as in its mapping file (e.g. core, cards, online).")
    ],
    files: Annotated[
        list[Path], typer.Argument(help="One or more delivered files.", exists=True, dir_okay=False)
    ],
) -> None:
    """Load source-system files: validate every record, load the good ones exactly once, report rejects."""
    database = create_database(get_settings())
    failed = False
    for path in files:
        try:
            result = _ingest_in_two_steps(database, source, path)
        except UnknownSource:
            raise _fail(f"No source {source!r}: add a mapping file for it.", code=2) from None
        failed |= result.status == "refused"
        console.print(
            f"{path.name}: {result.status}; read {result.read}, loaded {result.loaded}, "
            f"rejected {result.rejected}, unchanged {result.duplicates}, linked {result.linked}, "
            f"new customers {result.created}"
            + (f" (batch {result.batch_id})" if result.batch_id else "")
            + (f" - {translate('en', result.message, {'id': result.batch_id})}" if result.message else "")
        )
    database.dispose()
    if failed:
        raise typer.Exit(1)


def _ingest_in_two_steps(database: Database, source: str, path: Path) -> IngestResult:
    """Land the file and commit, then resolve it and commit: its validated records and rejects are
    in the store before the golden-record work starts, and a run that dies in between is resolved
    by running it again."""
    actor = Actor.system(f"ingest:{source}")
    with database.transaction() as session:
        landed = land_file(session, actor, source=source, path=path)
    with database.transaction() as session:
        return resolve_landed(session, actor, landed)


@app.command()
def score(
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Business date the features are as of (YYYY-MM-DD); default yesterday, Beijing time.",
        ),
    ] = None,
) -> None:
    """Compute every customer's features as of a date: kept in the lake by date, key scores written back."""
    day = business_today() - timedelta(days=1)
    if as_of is not None:
        try:
            day = date.fromisoformat(as_of)
        except ValueError:
            raise _fail(f"--as-of {as_of!r} is not a date of the form YYYY-MM-DD.", code=2) from None
        if day >= business_today():
            raise _fail(f"--as-of {as_of} is not over yet: give a business date before today.", code=2)
    settings = get_settings()
    database = create_database(settings)
    run = run_scoring(database, Lake(settings.lake_root), as_of=day)
    database.dispose()
    console.print(f"Scored {run.customers:,} customers as of {run.as_of.isoformat()} in {run.seconds:.1f} s.")


@app.command()
def match() -> None:
    """Match source records probabilistically: merge pairs above the auto threshold, queue the rest."""
    database = create_database(get_settings())
    with database.transaction() as session:
        summary = run_matching(session, Actor.system("match"))
    database.dispose()
    console.print(
        f"Match run {summary.run_id}: {summary.records} records, {summary.pairs} pairs above the review "
        f"threshold, {summary.auto_merged} merged automatically, {summary.queued} waiting for review."
    )


ROLE_HELP = "ROLE=COLUMN, once per compared column; roles: " + ", ".join(ROLES) + "."
Encoding = Annotated[
    str | None, typer.Option(help="Encoding of CSV input (utf-8 or gb18030); detected when not given.")
]
Threshold = Annotated[
    float, typer.Option(min=0.0, max=1.0, help="Write pairs at or above this match probability.")
]
ClusterThreshold = Annotated[
    float,
    typer.Option(
        min=0.0,
        max=1.0,
        help="Join records into one cluster at or above this probability (auto-merge level).",
    ),
]
Out = Annotated[
    Path | None, typer.Option(help="Folder for pairs.csv and clusters.csv; default: beside the input.")
]


def _bad_input(error: DedupeInputError) -> typer.Exit:
    error_console.print(escape(str(error)), style="red", highlight=False)
    return typer.Exit(2)


def _report(summary: DedupeSummary, threshold: float, cluster_threshold: float) -> None:
    console.print(
        f"Records: {summary.records}; pairs at or above {threshold:g}: {summary.pairs}; clusters at "
        f"{cluster_threshold:g}: {summary.clusters} (largest: {summary.largest_cluster}); compared on "
        f"{', '.join(summary.fields)}; {summary.seconds:.1f} s.",
        highlight=False,
    )
    for role, count in sorted(summary.unreadable.items()):
        console.print(f"{count} {role} values could not be read and were compared as blank.", highlight=False)
    if summary.skipped_training:
        console.print(
            "Too few examples in the file to train on: "
            + "; ".join(summary.skipped_training)
            + " (Splink's defaults used there).",
            highlight=False,
        )
    console.print(f"Wrote {summary.pairs_file} and {summary.clusters_file}.", highlight=False)


@app.command()
def dedupe(
    file: Annotated[Path, typer.Argument(help="CSV (UTF-8 or GB18030) or Parquet file.")],
    id_column: Annotated[str, typer.Option(help="The column that identifies each record.")],
    column: Annotated[list[str], typer.Option(metavar="ROLE=COLUMN", help=ROLE_HELP)],
    encoding: Encoding = None,
    threshold: Threshold = DEFAULT_THRESHOLD,
    cluster_threshold: ClusterThreshold = DEFAULT_CLUSTER_THRESHOLD,
    out: Out = None,
) -> None:
    """Find the records of one file that are the same person: pairs with their match probability,
    and clusters (every record in exactly one)."""
    try:
        source = InputFile(
            path=file, id_column=id_column, columns=parse_role_columns(column), encoding=encoding
        )
        summary = dedupe_file(
            source,
            out=out or default_output_folder(file),
            threshold=threshold,
            cluster_threshold=cluster_threshold,
        )
    except DedupeInputError as exc:
        raise _bad_input(exc) from None
    _report(summary, threshold, cluster_threshold)


@app.command()
def link(
    file_a: Annotated[Path, typer.Argument(help="The first file (CSV or Parquet).")],
    file_b: Annotated[Path, typer.Argument(help="The second file (CSV or Parquet).")],
    id_column: Annotated[str, typer.Option(help="The column that identifies each record.")],
    column: Annotated[
        list[str], typer.Option(metavar="ROLE=COLUMN", help=ROLE_HELP + " Used for both files.")
    ],
    id_column_b: Annotated[
        str | None, typer.Option(help="The second file's id column, if it is named differently.")
    ] = None,
    column_b: Annotated[
        list[str] | None,
        typer.Option(metavar="ROLE=COLUMN", help="Where the second file names a column differently."),
    ] = None,
    encoding: Encoding = None,
    threshold: Threshold = DEFAULT_THRESHOLD,
    cluster_threshold: ClusterThreshold = DEFAULT_CLUSTER_THRESHOLD,
    out: Out = None,
) -> None:
    """Find the records of two files that are the same person: pairs (one record from each file)
    and clusters spanning both files."""
    try:
        columns = parse_role_columns(column)
        first = InputFile(path=file_a, id_column=id_column, columns=columns, encoding=encoding)
        second = InputFile(
            path=file_b,
            id_column=id_column_b or id_column,
            columns=columns_for_second_file(columns, parse_role_columns(column_b or [], option="--column-b")),
            encoding=encoding,
        )
        summary = link_files(
            first,
            second,
            out=out or default_output_folder(file_a, file_b),
            threshold=threshold,
            cluster_threshold=cluster_threshold,
        )
    except DedupeInputError as exc:
        raise _bad_input(exc) from None
    _report(summary, threshold, cluster_threshold)


@audit_app.command("verify")
def audit_verify() -> None:
    """Walk the hash chain; exit 1 naming the first row that was changed, removed or reordered."""
    database = create_database(get_settings())
    with database.transaction(write=False) as session:
        report = audit_service.verify_chain(session)
    database.dispose()
    if not report.ok:
        raise _fail(
            f"Audit chain BROKEN at seq {report.first_bad_seq}: {report.problem} "
            f"({report.checked} rows before it are intact)."
        )
    console.print(f"Audit chain intact: {report.checked} rows verified.")


@demo_app.command("load")
def demo_load(
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing when users already exist.")
    ] = False,
    customers: Annotated[int, typer.Option(help="How many synthetic customers to generate.")] = 10_000,
    seed_value: Annotated[
        int, typer.Option("--seed", help="The same seed always gives the same bank.")
    ] = 20261129,
    source_people: Annotated[
        int,
        typer.Option(help="People behind the sample source-system deliveries loaded and matched (0: none)."),
    ] = 400,
) -> None:
    """Load the demo organisation, one user per role and a synthetic book of customers; print the logins."""
    settings = get_settings()
    database = create_database(settings)
    with database.transaction() as session:
        roles.sync_roles(session, Actor.system("demo"))
        loaded = seed.load_demo(session, only_if_empty=if_empty)
    if loaded and customers:
        _generate(database, Lake(settings.lake_root), customers, seed_value)
    if loaded and source_people:
        _load_sample_deliveries(database, settings.var_dir / "extracts", source_people, seed_value)
    if loaded and customers:
        # Yesterday's features, so the 360 view and the lists have figures from the first page on.
        run = run_scoring(database, Lake(settings.lake_root), as_of=business_today() - timedelta(days=1))
        console.print(f"Scored {run.customers:,} customers as of {run.as_of.isoformat()}.")
    database.dispose()
    table = Table(title="Demo logins (demo database only)")
    for column in ("username", "role", "unit", "password"):
        table.add_column(column)
    for login in seed.DEMO_USERS:
        secret = (
            "(API token, issue under Administration)" if login.role == "api_client" else seed.DEMO_PASSWORD
        )
        table.add_row(login.username, login.role, login.unit_code, secret)
    console.print("Demo data loaded." if loaded else "Demo data already present; nothing loaded.")
    console.print(table)


# The order a bank receives its nightly files in: customers before the transactions that name them.
SAMPLE_DELIVERIES = (
    ("core", "core_customers_*.csv"),
    ("cards", "cards_customers_*.txt"),
    ("online", "online_users_*.csv"),
    ("core_txn", "core_txn_*.csv"),
)


def _load_sample_deliveries(database: Database, folder: Path, people: int, seed_value: int) -> None:
    """Deliveries from the source systems, loaded and matched, so the integration pages have batches,
    rejects and a review queue to show."""
    write_extracts(folder, people=people, seed=seed_value, transactions_per_customer=5)
    for source, pattern in SAMPLE_DELIVERIES:
        for path in sorted(folder.glob(pattern)):
            _ingest_in_two_steps(database, source, path)
    with database.transaction() as session:
        summary = run_matching(session, Actor.system("match"))
    console.print(
        f"Sample deliveries from {people} people loaded; matching merged {summary.auto_merged} pairs "
        f"and queued {summary.queued} for review."
    )


@demo_app.command("generate")
def demo_generate(
    customers: Annotated[
        int, typer.Option(help="Customers: 10000 (demo), 100000 or 1000000 (benchmarks).")
    ] = 10_000,
    seed_value: Annotated[
        int, typer.Option("--seed", help="The same seed always gives the same bank.")
    ] = 20261129,
) -> None:
    """Generate a synthetic bank of the given size (customers, accounts, holdings, 24 months of history)."""
    settings = get_settings()
    database = create_database(settings)
    _generate(database, Lake(settings.lake_root), customers, seed_value)
    database.dispose()


@demo_app.command("extracts")
def demo_extracts(
    out: Annotated[Path, typer.Option(help="Folder to write the source files into.")] = Path("var/extracts"),
    people: Annotated[
        int, typer.Option(help="How many real people and companies behind the records.")
    ] = 10_000,
    seed_value: Annotated[
        int, typer.Option("--seed", help="The same seed always gives the same files.")
    ] = 20261129,
) -> None:
    """Write source-system extracts (core, cards, online banking, core journal) and their ground truth."""
    summary = write_extracts(out, people=people, seed=seed_value)
    console.print(
        f"{summary.people} people: core {summary.core}, cards {summary.cards}, "
        f"online {summary.online} records, "
        f"{summary.transactions} transactions in {summary.folder}. Load them with: bankcrm ingest core "
        f"{summary.folder}/core_customers_*.csv (then cards, online, core_txn)."
    )


def _generate(database: Database, lake: Lake, customers: int, seed_value: int) -> None:
    started = time.monotonic()
    summary = generate_bank(
        database,
        lake,
        customers=customers,
        seed_value=seed_value,
        progress=lambda message: console.print(f"  {message}"),
    )
    console.print(
        f"Synthetic bank: {summary.customers} customers ({summary.rejected} rejected by validation), "
        f"{summary.relationship_managers} relationship managers, {summary.accounts} accounts, "
        f"{summary.transactions} transactions in {time.monotonic() - started:.0f} s."
    )


@org_app.command("apply-moves")
def org_apply_moves() -> None:
    """Apply the organisation moves whose effective date has come (run daily)."""
    database = create_database(get_settings())
    with database.transaction() as session:
        moved = orgs.apply_due_moves(session, Actor.system("org.apply-moves"))
    database.dispose()
    console.print(f"Moves applied: {moved}.")


def main() -> None:
    try:
        app()
    except ConfigurationError as exc:
        console.print(f"[red]{exc}[/red]")
        raise SystemExit(2) from exc


if __name__ == "__main__":
    main()
