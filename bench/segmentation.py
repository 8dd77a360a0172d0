"""Budgets l-o: the nightly segmentation run, the CLV fit and the segment preview on the generated bank.

The bank is generated (``bankcrm demo generate``: customers, accounts and holdings in the SQLite
store, 24 months of transactions and 12 month-ends of balances in the lake) into a dir under
``var/bench-segmentation/``, which takes minutes at a million customers; ``--keep`` keeps it and
``--reuse DIR`` measures on it again. Every measurement starts from the bank as generated: the
store is restored from a copy taken before the first run and the run's lake datasets are removed,
so a second run on a dir moves the same customers between tiers as the first did.

Each step runs in its own process (``bench.segmentation_step``) so its peak memory is its own: the
run (with the bench's dynamic segments defined first, so it recomputes them) and the CLV fit, then
the segment previews on the run's result.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.harness import Verdict
from bench.report import ROOT, machine_line, met_cell, table
from bench.stats import percentile

FULL_SIZE = 1_000_000
RUN_LIMIT_S = 15 * 60
MEMORY_LIMIT_BYTES = 8 * 1024**3
CLV_LIMIT_S = 60.0
PREVIEW_LIMIT_S = 2.0
BUDGETS = {
    "l": "the nightly scoring run (features, RFM, CLV, breakdown, write-back, tiers, segments, models)",
    "m": "peak memory of the nightly run and the CLV fit",
    "n": "the CLV fit on every customer's history (the log's reading reported beside it)",
    "o": "the segment preview's count, each kind of rule, whole-bank and branch viewers",
}
BEGIN = (
    "<!-- bench:segmentation:begin - rewritten by `make bench-segmentation`; edit outside these markers -->"
)
END = "<!-- bench:segmentation:end -->"
BANKS = ROOT / "var" / "bench-segmentation"
DATABASE = "bankcrm.sqlite3"
PRISTINE = "bankcrm.sqlite3.generated"
RUN_DATASETS = ("features", "feature_breakdown", "segment_attributes", "segment_members", "segment_changes")
KEPT_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
STAGE_NOTES = {
    "profile": "profile read from the operational store",
    "features": "features and RFM over the lake (DuckDB), CLV fitted on the whole log and predicted",
    "breakdown": "category and channel breakdown into the lake",
    "write-back": "features into the lake, key scores into the store",
    "tiers": "tier decisions from the feature history, moves into the store; segment attributes to the lake",
    "models": "active propensity models score the run's customers",
    "tags": "rule and model tags recomputed, gains and losses kept",
    "segments": "every dynamic segment recomputed",
    "clv read": "CLV: the log checked and summarised per customer (DuckDB)",
    "clv fit": "CLV: BG/NBD and Gamma-Gamma fitted, every customer predicted",
}


@dataclass
class Outcome:
    var_dir: Path
    customers: int
    generated: dict[str, Any] | None  # None when the dir was reused
    facts: dict[str, Any] = field(default_factory=dict)
    load_before: float = 0.0
    load_after: float = 0.0
    verdicts: list[Verdict] = field(default_factory=list)


def _environment(var_dir: Path) -> dict[str, str]:
    env = {name: os.environ[name] for name in KEPT_VARIABLES if name in os.environ}
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    env["BANKCRM_VAR_DIR"] = str(var_dir)
    env["PYTHONPATH"] = str(ROOT)
    return env


def _step(var_dir: Path, step: str, *args: str) -> dict[str, Any]:
    out = var_dir / f"bench-segmentation-{step}-{time.time_ns()}.json"
    subprocess.run(
        [sys.executable, "-m", "bench.segmentation_step", step, "--json", str(out), *args],
        env=_environment(var_dir),
        cwd=var_dir,
        check=True,
    )
    facts: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    out.unlink()
    return facts


def _restore(var_dir: Path) -> None:
    """The store and the lake as generated: the first run keeps a copy of the store, later runs
    start from it."""
    pristine = var_dir / PRISTINE
    database = var_dir / DATABASE
    for suffix in ("-wal", "-shm"):
        (var_dir / f"{DATABASE}{suffix}").unlink(missing_ok=True)
    if pristine.exists():
        shutil.copyfile(pristine, database)
    else:
        shutil.copyfile(database, pristine)
    for dataset in RUN_DATASETS:
        shutil.rmtree(var_dir / "lake" / dataset, ignore_errors=True)


def _gib(size: float) -> str:
    return f"{size / 1024**3:.2f} GiB"


def _verdicts(outcome: Outcome) -> list[Verdict]:
    facts = outcome.facts
    run, clv = facts["run"], facts["clv"]
    full = outcome.customers >= FULL_SIZE
    scale = FULL_SIZE / outcome.customers

    def timed(budget: str, rule: str, seconds: float, limit: float) -> Verdict:
        if full:
            return Verdict(
                budget, rule, f"{seconds:.0f} s for {outcome.customers:,} customers", seconds <= limit
            )
        projected = seconds * scale
        text = (
            f"{seconds:.0f} s for {outcome.customers:,} customers; *projected* linearly to "
            f"{FULL_SIZE:,}: {projected:.0f} s (not measured)"
        )
        return Verdict(budget, rule, text, False if projected > limit else None)

    peak = max(int(facts["peak_rss_bytes"]), int(facts["preview"]["peak_rss_bytes"]))
    memory_text = (
        f"peak RSS {_gib(peak)} (run {_gib(run['peak_rss_bytes'])}, CLV {_gib(clv['peak_rss_bytes'])}, "
        f"previews {_gib(facts['preview']['peak_rss_bytes'])}) at {outcome.customers:,} customers"
    )
    memory_met: bool | None = peak <= MEMORY_LIMIT_BYTES if full else None
    if not full and peak > MEMORY_LIMIT_BYTES:
        memory_met = False
    return [
        timed("l", f"nightly run on {FULL_SIZE:,} customers in ≤ 15 min", run["seconds"], RUN_LIMIT_S),
        Verdict("m", "peak memory of the run and the CLV fit ≤ 8 GiB", memory_text, memory_met),
        _clv_verdict(
            timed("n", f"CLV fit on {FULL_SIZE:,} customers in ≤ 60 s", clv["fit_seconds"], CLV_LIMIT_S), clv
        ),
        *(_preview_verdict(shown, full) for shown in facts["preview"]["previews"]),
    ]


def _preview_verdict(shown: dict[str, Any], full: bool) -> Verdict:
    """One rule previewed by one viewer: judged at p95 of the repetitions (p50 beside it); below a
    million customers a pass proves nothing (a miss is still one)."""
    p50, p95 = percentile(shown["seconds"], 50), percentile(shown["seconds"], 95)
    rule = f"preview, {shown['kind']} rule, {shown['scope']} viewer ({shown['viewer']}): count ≤ 2 s at p95"
    measured = (
        f"p50 {p50:.2f} s, p95 {p95:.2f} s over {len(shown['seconds'])}; "
        f"{shown['count']:,} of {shown['scored']:,} customers"
    )
    met: bool | None = p95 <= PREVIEW_LIMIT_S if full else (False if p95 > PREVIEW_LIMIT_S else None)
    return Verdict("o", rule, measured, met)


def _clv_verdict(verdict: Verdict, clv: dict[str, Any]) -> Verdict:
    """The fit is judged; reading the log (checks and per-customer summary over every transaction)
    is the command's input step, and is shown beside it with the total."""
    beside = (
        f"; reading and summarising the log {clv['read_seconds']:.0f} s more, {clv['seconds']:.0f} s in all"
    )
    return Verdict(verdict.budget, verdict.rule, verdict.measured + beside, verdict.met)


def run(*, customers: int, reuse: Path | None, keep: bool) -> Outcome:
    """Generate (or reuse) the bank, restore it as generated, and measure budgets l-o on it."""
    if reuse is not None:
        var_dir = reuse.resolve()
        if not (var_dir / "bench-segmentation.json").exists():
            raise SystemExit(f"{var_dir} has no generated bank: run once with --keep first")
        generated = None
    else:
        BANKS.mkdir(parents=True, exist_ok=True)
        var_dir = Path(tempfile.mkdtemp(prefix=f"bank-{customers}-", dir=BANKS))
        print(f"Generating {customers:,} customers in {var_dir} (minutes) ...", flush=True)
        generated = _step(var_dir, "generate", "--customers", str(customers))
    manifest = json.loads((var_dir / "bench-segmentation.json").read_text(encoding="utf-8"))
    outcome = Outcome(var_dir=var_dir, customers=int(manifest["customers"]), generated=generated)
    try:
        _restore(var_dir)
        outcome.load_before = os.getloadavg()[0]
        print(f"Scoring {outcome.customers:,} customers as of {manifest['as_of']} ...", flush=True)
        outcome.facts = _step(var_dir, "run")
        print("Previewing the segments' rules ...", flush=True)
        outcome.facts["preview"] = _step(var_dir, "preview")
        outcome.load_after = os.getloadavg()[0]
        outcome.facts["manifest"] = manifest
        outcome.verdicts = _verdicts(outcome)
    finally:
        if keep or reuse is not None:
            print(f"Kept {var_dir}" + ("" if reuse is not None else f"; next time: --reuse {var_dir}"))
        else:
            shutil.rmtree(var_dir, ignore_errors=True)
    return outcome


def _lake_bytes(var_dir: Path, dataset: str) -> int:
    return sum(path.stat().st_size for path in (var_dir / "lake" / dataset).rglob("*.parquet"))


def render(outcome: Outcome, *, started: datetime, seconds: float, commit: str) -> str:
    facts, manifest = outcome.facts, outcome.facts["manifest"]
    generated = (
        f"generated in {outcome.generated['generated_seconds']:.0f} s by this run"
        if outcome.generated
        else "generated by an earlier run (`--reuse`)"
    )
    stages = [
        [
            name,
            STAGE_NOTES.get(name, ""),
            f"{stage['seconds']:.1f}",
            f"{stage.get('cpu_seconds', 0.0):.1f}",
            _gib(stage["peak_rss_bytes"]),
        ]
        for name, stage in facts["stages"].items()
    ]
    run, clv = facts["run"], facts["clv"]
    stages.append(
        [
            "**run**",
            "the whole of `run_scoring`, commits included",
            f"{run['seconds']:.1f}",
            f"{run['cpu_seconds']:.1f}",
            _gib(run["peak_rss_bytes"]),
        ]
    )
    clv_cpu = sum(facts["stages"][name].get("cpu_seconds", 0.0) for name in ("clv read", "clv fit"))
    stages.append(
        [
            "**CLV**",
            "read and fit together",
            f"{clv['seconds']:.1f}",
            f"{clv_cpu:.1f}",
            _gib(clv["peak_rss_bytes"]),
        ]
    )
    lines = [
        f"Measured {started:%Y-%m-%d %H:%M} UTC by `python -m bench --only segmentation` at commit "
        f"{commit}; the run took {seconds:.0f} s.",
        "",
        machine_line(),
        f"- **Data:** a generated bank of {outcome.customers:,} customers (SQLite store) with "
        f"{_lake_bytes(outcome.var_dir, 'transactions') / 1024**2:,.0f} MiB of transactions in the lake, "
        f"{generated}; scored as of {manifest['as_of']}. The CLV log: {manifest['clv_log_rows']:,} spending "
        f"transactions, fitted by week with calibration end {manifest['as_of']} and a 52-week horizon, "
        f"{clv['customers']:,} customers of whom {clv['repeat_customers']:,} bought again.",
        f"- **Load:** load average {outcome.load_before:.2f} before the run and {outcome.load_after:.2f} "
        f"after it (1-minute; other processes on the machine share its cores); the bench ran at "
        f"niceness {os.nice(0)}. CPU time of the run: {run['cpu_seconds']:.0f} s.",
        "",
        *table(
            ["budget", "rule", "measured", "met"],
            ([v.budget, v.rule, v.measured, met_cell(v.met)] for v in outcome.verdicts),
        ),
        "",
        "Wall time of each stage, the CPU time of the process's threads meanwhile (on a shared machine "
        "the stage's cost whatever its wait for a core), and the highest resident set sampled during "
        "it (every 50 ms; DuckDB "
        f"runs in-process, so its memory is included). The kernel's high-water mark of the whole step "
        f"was {_gib(facts['peak_rss_bytes'])} ({_gib(facts['run_peak_rss_bytes'])} by the end of the run).",
        "",
        *table(["stage", "what", "wall s", "CPU s", "peak RSS"], stages),
        "",
        "The dynamic segments the run recomputed (defined before it, as the marketing user; members "
        "bank-wide after the run): "
        + "; ".join(f"{name} {members:,}" for name, members in facts["segments"].items())
        + f". Active models: {facts.get('active_models', 0)}.",
        "",
        f"Segment previews (`segments.preview`: the count, the viewer's scored count and a sample of "
        f"ten members by AUM, each in a read transaction on a fresh DuckDB "
        f"connection), {facts['preview']['repeats']} timed after one warm-up, seconds:",
        "",
        *table(
            ["rule", "kind", "viewer", "count", "of", "p50 s", "p95 s", "max s"],
            (
                [
                    shown["segment"],
                    shown["kind"],
                    f"{shown['viewer']} ({shown['scope']})",
                    f"{shown['count']:,}",
                    f"{shown['scored']:,}",
                    f"{percentile(shown['seconds'], 50):.2f}",
                    f"{percentile(shown['seconds'], 95):.2f}",
                    f"{max(shown['seconds']):.2f}",
                ]
                for shown in facts["preview"]["previews"]
            ),
        ),
    ]
    return "\n".join(lines) + "\n"
