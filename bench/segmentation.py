"""Budgets l-o: the nightly segmentation run, the CLV fit and the segment preview on the generated bank.

The bank is generated (``bankcrm demo generate``: customers, accounts and holdings in the SQLite
store, 24 months of transactions and 12 month-ends of balances in the lake) into a dir under
``var/bench-segmentation/``, which takes minutes at a million customers; ``--keep`` keeps it and
``--reuse DIR`` measures on it again.

The budget is for the *full* nightly run, active models and rule and model tags included, which a
bank as generated does not have: they need a history of runs to train on. So the bench prepares
the bank once, unmeasured and reported apart (``bench.segmentation_step prepare``): from the bank
as generated, three earlier scoring runs, a churn model trained on them by the model studio and
activated, two rule tags and a model tag. The prepared state is kept beside the generated one - the
store copied to ``bankcrm.sqlite3.prepared``, the run's lake datasets to ``lake-prepared/``, the
preparation's facts in ``bench-segmentation-prepared.json`` - and a dir already prepared (``--reuse``)
is not prepared again; delete that file to prepare anew.

Every measurement starts from the bank as prepared, as it started from the bank as generated
before there was a preparation: the store is restored from the prepared copy and the run's lake
datasets are replaced by the prepared ones, so a second run on a dir moves the same customers
between tiers, scores the same customers and changes the same tags as the first did.

Each step runs in its own process (``bench.segmentation_step``) so its peak memory is its own: the
preparation, the run (with the bench's dynamic segments defined first, so it recomputes them) and
the CLV fit, then the segment previews on the run's result.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
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
PREPARED = "bankcrm.sqlite3.prepared"
PREPARED_LAKE = "lake-prepared"
PREPARED_FACTS = "bench-segmentation-prepared.json"
RUN_DATASETS = ("features", "feature_breakdown", "segment_attributes", "segment_members", "segment_changes")
KEPT_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
STAGE_NOTES = {
    "profile": "profile read from the operational store",
    "features": "features and RFM over the lake (DuckDB), CLV fitted on the whole log and predicted",
    "breakdown": "category and channel breakdown into the lake",
    "write-back": "features into the lake, key scores into the store",
    "tiers": "tier decisions from the feature history, moves into the store; segment attributes to the lake",
    "models": "every active propensity model scores the run's customers (score, band, top factors)",
    "tags": "every rule and model tag recomputed, gains and losses kept",
    "segments": "every dynamic segment recomputed",
    "clv read": "CLV: the log checked and summarised per customer (DuckDB)",
    "clv fit": "CLV: BG/NBD and Gamma-Gamma fitted, every customer predicted",
}


@dataclass
class Outcome:
    var_dir: Path
    customers: int
    generated: dict[str, Any] | None  # None when the dir was reused
    prepared: dict[str, Any] = field(default_factory=dict)  # with "by_this_run" when made now
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


def _checkpoint(database: Path) -> None:
    """The write-ahead log folded into the database file, so a copy of the file alone is whole."""
    if not database.exists():
        return
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()


def _restore_store(var_dir: Path, copy: str) -> None:
    database = var_dir / DATABASE
    for suffix in ("-wal", "-shm"):
        (var_dir / f"{DATABASE}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(var_dir / copy, database)


def _restore_generated(var_dir: Path) -> None:
    """The store and the lake as generated: the first time, a copy of the store is kept; later, the
    store is restored from it. The run's lake datasets are removed."""
    if (var_dir / PRISTINE).exists():
        _restore_store(var_dir, PRISTINE)
    else:
        _checkpoint(var_dir / DATABASE)
        shutil.copyfile(var_dir / DATABASE, var_dir / PRISTINE)
    for dataset in RUN_DATASETS:
        shutil.rmtree(var_dir / "lake" / dataset, ignore_errors=True)


def _keep_prepared(var_dir: Path, facts: dict[str, Any]) -> None:
    """The prepared store and the run's lake datasets copied aside, and the preparation's facts
    written last: a preparation cut short leaves no facts, so the next bench prepares again."""
    (var_dir / PREPARED_FACTS).unlink(missing_ok=True)
    _checkpoint(var_dir / DATABASE)
    shutil.copyfile(var_dir / DATABASE, var_dir / PREPARED)
    shutil.rmtree(var_dir / PREPARED_LAKE, ignore_errors=True)
    for dataset in RUN_DATASETS:
        if (var_dir / "lake" / dataset).is_dir():
            shutil.copytree(var_dir / "lake" / dataset, var_dir / PREPARED_LAKE / dataset)
    (var_dir / PREPARED_FACTS).write_text(json.dumps(facts, indent=1), encoding="utf-8")


def _prepared(var_dir: Path) -> dict[str, Any]:
    """The bank prepared for the full run (``bench.segmentation_step prepare``), from the bank as
    generated; a dir prepared before is used as it is."""
    if (var_dir / PREPARED_FACTS).exists() and (var_dir / PREPARED).exists():
        facts: dict[str, Any] = json.loads((var_dir / PREPARED_FACTS).read_text(encoding="utf-8"))
        return facts
    _restore_generated(var_dir)
    print("Preparing the bank: earlier runs, a churn model, rule and model tags (unmeasured) ...", flush=True)
    facts = _step(var_dir, "prepare")
    facts["prepared_at"] = datetime.now().astimezone().isoformat(timespec="minutes")
    _keep_prepared(var_dir, facts)
    return {**facts, "by_this_run": True}


def _restore(var_dir: Path) -> None:
    """The store and the lake as prepared: the store from its prepared copy, the run's lake datasets
    replaced by the prepared ones."""
    _restore_store(var_dir, PREPARED)
    for dataset in RUN_DATASETS:
        shutil.rmtree(var_dir / "lake" / dataset, ignore_errors=True)
        if (var_dir / PREPARED_LAKE / dataset).is_dir():
            shutil.copytree(var_dir / PREPARED_LAKE / dataset, var_dir / "lake" / dataset)


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
    """Generate (or reuse) the bank, prepare it (once), restore it as prepared, and measure budgets
    l-o on it."""
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
        outcome.prepared = _prepared(var_dir)
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


def _stage_note(name: str, facts: dict[str, Any]) -> str:
    """What the stage does; for the models and tags, also whom they scored and tagged."""
    note = STAGE_NOTES.get(name, "")
    if name == "models":
        scored = [
            f"{model['name']} ({model['target']}) {model['scored']:,} scored" for model in facts["models"]
        ]
        return f"{note}: " + ("; ".join(scored) if scored else "none active")
    if name == "tags":
        tagged = [
            f"{tag['code']} ({tag['kind']}) {tag['holders']:,} hold it, {tag['gained']:,} gained, "
            f"{tag['lost']:,} lost"
            for tag in facts["tags"]
        ]
        return f"{note}: " + ("; ".join(tagged) if tagged else "none defined")
    return note


def _preparation_lines(prepared: dict[str, Any]) -> list[str]:
    """The unmeasured preparation the run starts from: its runs, the churn model and the tags."""
    model, tags = prepared["model"], prepared["tags"]
    made = "by this run" if prepared.get("by_this_run") else f"by an earlier run ({prepared['prepared_at']})"
    history = ", ".join(
        f"{run['as_of']} ({run['customers']:,} customers, {run['seconds']:.0f} s"
        + (f"; {run['left']:,} left after it)" if run["left"] else ")")
        for run in prepared["history"]
    )
    leakage = ", ".join(model["leakage"]) or "none"
    labelled = " and ".join(run["as_of"] for run in prepared["history"][:-1])
    holders = "; ".join(f"{code} {count:,}" for code, count in tags["holders"].items())
    return [
        f"**Preparation** (not measured; every measured run starts from its result, restored), made "
        f"{made} in {prepared['seconds']:.0f} s in all, peak RSS {_gib(prepared['peak_rss_bytes'])}:",
        "",
        f"- earlier nightly runs (`run_scoring`, whole) as of {history}; those who left (deactivated, "
        "the least active first) came back after the next run, which they were missing from: the "
        "churners the generated bank does not have;",
        f"- the churn model *{model['name']}* trained by the studio (`train_churn`, every feature, "
        f"{model['features']} of them) in {model['train_seconds']:.0f} s on {model['rows']:,} "
        f"customer-runs of the runs {labelled} (labelled by the runs three months later), "
        f"{model['positives']:,} churned, the latest held out; hold-out ROC-AUC "
        f"{model['holdout_auc']}, lift in the top tenth {model['lift_top_decile']}; leakage warnings: "
        f"{leakage};",
        f"- activated in {model['activate_seconds']:.0f} s, scoring {model['scored']:,} customers of the "
        "latest run;",
        f"- tags defined and set at once on the latest run in {tags['seconds']:.0f} s, holders: {holders}.",
    ]


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
            _stage_note(name, facts),
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
        + ".",
        "",
        *_preparation_lines(outcome.prepared),
        "",
        f"Segment previews (`segments.preview`: the count, the viewer's scored count and a sample of "
        f"ten members by AUM, each in a read transaction, the rule's lake views bound on the "
        f"process-wide DuckDB as the web app binds them), {facts['preview']['repeats']} timed after "
        f"one warm-up, seconds:",
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
