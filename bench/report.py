"""The results as Markdown: printed, and written into the stable section of docs/benchmarks.md."""

from __future__ import annotations

import os
import platform
import re
import sqlite3
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path

from bench.harness import Row, Verdict
from bench.stats import Summary

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN = "<!-- bench:results:begin - rewritten by `make bench`; edit outside these markers -->"
END = "<!-- bench:results:end -->"
CUSTOMERS_BEGIN = (
    "<!-- bench:customers:begin - rewritten by `make bench-customers`; edit outside these markers -->"
)
CUSTOMERS_END = "<!-- bench:customers:end -->"
COLUMNS = ["budget", "request", "n", "server p50", "server p95", "server p99", "headers p95"]
COLUMNS += ["CPU p50", "CPU p95", "client p50", "client p95", "overlapped"]
PACKAGES = ("fastapi", "starlette", "uvicorn", "SQLAlchemy", "Jinja2", "pydantic", "argon2-cffi", "httpx")


@dataclass(frozen=True)
class RunFacts:
    started: datetime
    seconds: float
    users: int
    org_units: int
    audit_rows: int
    database_bytes: int
    argon2_parameters: str
    rounds: int
    warmup: int
    login_samples: int
    load_before: float
    load_after: float


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return platform.processor() or "unknown CPU"
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else "unknown CPU"


def _memory_gib() -> str:
    try:
        text = Path("/proc/meminfo").read_text(encoding="utf-8")
    except OSError:
        return "?"
    match = re.search(r"^MemTotal:\s*(\d+) kB", text, re.MULTILINE)
    return f"{int(match.group(1)) / 1024**2:.1f}" if match else "?"


def commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src", "bench"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head} + uncommitted changes" if dirty else head


def _ms(value: float) -> str:
    return f"{value:.1f}" if value >= 100 else f"{value:.2f}"


def _cells(summary: Summary | None, *percentiles: int) -> list[str]:
    if summary is None:
        return ["—"] * len(percentiles)
    return [_ms(summary.percentile(p)) for p in percentiles]


def table(header: list[str], rows: Iterable[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def met_cell(met: bool | None) -> str:
    return "not proven" if met is None else "yes" if met else "**NO**"


def machine_line() -> str:
    return (
        f"- **Machine:** {_cpu_model()}, {os.cpu_count()} logical cores, {_memory_gib()} GiB memory; "
        f"{platform.system()} {platform.release()}; Python {platform.python_version()}; "
        f"SQLite {sqlite3.sqlite_version}."
    )


def header_line(started: datetime, seconds: float, measured_commit: str | None = None) -> str:
    return (
        f"Measured {started:%Y-%m-%d %H:%M} UTC by `make bench` at commit {measured_commit or commit()}; "
        f"the run took {seconds:.0f} s."
    )


def render(facts: RunFacts, rows: list[Row], verdicts: list[Verdict]) -> str:
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in PACKAGES)
    lines = [
        header_line(facts.started, facts.seconds),
        "",
        machine_line(),
        f"- **Software:** {versions}.",
        f"- **Data:** SQLite file (WAL) of {facts.database_bytes / 1024**2:.1f} MiB with "
        f"{facts.users:,} users in {facts.org_units} org units (demo bank plus generated staff) and "
        f"{facts.audit_rows:,} audit rows; passwords of signing-in users hashed with argon2id "
        f"`{facts.argon2_parameters}` (the `Settings` defaults).",
        f"- **Load:** load average {facts.load_before:.2f} before the run and {facts.load_after:.2f} "
        f"after it (1-minute; other processes on the machine share its cores); the bench ran at "
        f"niceness {os.nice(0)}.",
        f"- **Samples:** (a) and (b) {facts.warmup} warm-up rounds, then {facts.rounds} measured rounds, "
        f"endpoints taking turns; (c) {facts.login_samples} sign-ins after 3 warm-up ones.",
        "",
        *table(
            ["budget", "rule", "measured", "met"],
            ([v.budget, v.rule, v.measured, met_cell(v.met)] for v in verdicts),
        ),
        "",
        "Milliseconds. *Server* is wall time from Uvicorn handing the request to the app until the app "
        "returned (after-response writes included); *headers* is until the response headers left; "
        "*CPU* is the server process's CPU time meanwhile; *client* is the round trip seen by httpx; "
        "*overlapped* counts requests that arrived before the previous one had finished.",
        "",
        *table(
            COLUMNS,
            (
                [
                    row.budget,
                    row.label,
                    str(row.server.n),
                    *_cells(row.server, 50, 95, 99),
                    *_cells(row.ready, 95),
                    *_cells(row.cpu, 50, 95),
                    *_cells(row.client, 50, 95),
                    str(row.overlapped),
                ]
                for row in rows
            ),
        ),
    ]
    return "\n".join(lines) + "\n"


def write(section: str, doc: Path = DOC, *, begin: str = BEGIN, end: str = END) -> None:
    """Replace the text between the markers, keeping the rest of the page as it was written."""
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Performance budgets\n"
    block = f"{begin}\n{section}{end}"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        tail = rest.split(end, 1)[1]
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n## Latest results\n\n" + block + "\n"
    doc.write_text(text, encoding="utf-8")


@dataclass(frozen=True)
class CustomerRunFacts:
    commit: str  # taken when the run started: the server ran that code
    started: datetime
    seconds: float
    customers: int
    accounts: int
    transactions: int
    search_keys: int
    generated_s: float | None
    database_bytes: int
    lake_bytes: int
    samples: list[str]
    rounds: int
    warmup: int
    load_before: float
    load_after: float


def render_customers(facts: CustomerRunFacts, rows: list[Row], verdicts: list[Verdict]) -> str:
    generated = (
        f"generated in {facts.generated_s:.0f} s by this run"
        if facts.generated_s is not None
        else "generated by an earlier run (`--reuse`)"
    )
    lines = [
        f"Measured {facts.started:%Y-%m-%d %H:%M} UTC by `python -m bench --only customers` at commit "
        f"{facts.commit}; the run took {facts.seconds:.0f} s.",
        "",
        machine_line(),
        f"- **Data:** a generated bank of {facts.customers:,} customers, {facts.accounts:,} accounts, "
        f"{facts.search_keys:,} search keys (SQLite file of {facts.database_bytes / 1024**2:,.0f} MiB) "
        f"and {facts.transactions:,} transactions (Parquet lake of {facts.lake_bytes / 1024**2:,.0f} MiB), "
        f"{generated}.",
        f"- **Sampled customers:** {'; '.join(facts.samples)}.",
        f"- **Load:** load average {facts.load_before:.2f} before the run and {facts.load_after:.2f} "
        f"after it (1-minute; other processes on the machine share its cores); the bench ran at "
        f"niceness {os.nice(0)}.",
        f"- **Samples:** {facts.warmup} warm-up rounds, then {facts.rounds} measured rounds per budget, "
        "requests taking turns; the sampled customers and queries are taken in turn across rounds. "
        "Raw queries: 100 samples each in-process, after 5 discarded.",
        "",
        *table(
            ["budget", "rule", "measured", "met"],
            ([v.budget, v.rule, v.measured, met_cell(v.met)] for v in verdicts),
        ),
        "",
        "Milliseconds, columns as in the results above; *raw* rows are the repository calls alone, "
        "timed in the bench process (wall time only).",
        "",
        *table(
            COLUMNS,
            (
                [
                    row.budget,
                    row.label,
                    str(row.server.n),
                    *_cells(row.server, 50, 95, 99),
                    *_cells(row.ready, 95),
                    *_cells(row.cpu, 50, 95),
                    *_cells(row.client, 50, 95),
                    str(row.overlapped),
                ]
                for row in rows
            ),
        ),
    ]
    return "\n".join(lines) + "\n"
