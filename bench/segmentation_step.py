"""One measured step of the segmentation budgets, run in its own Python process.

``python -m bench.segmentation_step STEP --json OUT`` against the var dir named by ``BANKCRM_VAR_DIR``:

- ``generate --customers N``: migrate, generate the synthetic bank (``bankcrm demo generate``), write
  the CLV transaction log and the manifest. Minutes: the bench keeps the dir for ``--reuse``.
- ``run``: the nightly scoring run (``segmentation.jobs.run_scoring``) as of the manifest's date,
  then the CLV fit on the log, with the wall time of each stage and the peak memory.

Memory is the process's resident set, which holds DuckDB's buffers too (it runs in-process): sampled
from ``/proc/self/status`` every few milliseconds to attribute peaks to stages, and the kernel's
high-water mark (``ru_maxrss``) for the whole step, which no sampling can miss.
"""

from __future__ import annotations

import argparse
import json
import resource
import threading
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bankcrm.cli import run_migrations
from bankcrm.core.config import get_settings
from bankcrm.core.db import create_database
from bankcrm.core.formatting import business_today
from bankcrm.core.lake import Lake
from bankcrm.customers import lake_repository
from bankcrm.demo.bank import generate_bank
from bankcrm.segmentation.clv_command import fit_history, read_history
from bankcrm.segmentation.jobs import run_scoring

SEED = 20261129
MANIFEST = "bench-segmentation.json"
CLV_LOG = "clv-log.parquet"
CLV_HORIZON_WEEKS = 52.0
SAMPLE_SECONDS = 0.05


def _rss_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class RssSampler:
    """The resident set every ``SAMPLE_SECONDS``, with its time, in a background thread."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, int, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.monotonic(), _rss_bytes(), _cpu_seconds()))
            self._stop.wait(SAMPLE_SECONDS)

    def peak_between(self, start: float, end: float) -> int:
        inside = [rss for at, rss, _ in self.samples if start <= at <= end]
        return max(inside, default=0)

    def cpu_between(self, start: float, end: float) -> float:
        """CPU seconds of the process (all its threads, DuckDB's too) between two sampled times:
        on a shared machine, what the stage cost regardless of how long it waited for a core."""
        inside = [cpu for at, _, cpu in self.samples if start <= at <= end]
        return inside[-1] - inside[0] if len(inside) > 1 else 0.0


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def generate(customers: int) -> dict[str, Any]:
    """The bank, the CLV log and the manifest; the run's as-of date is the generation's yesterday."""
    settings = get_settings()
    run_migrations(settings.database_url)
    database = create_database(settings)
    clock = time.monotonic()
    generate_bank(
        database,
        Lake(settings.lake_root),
        customers=customers,
        seed_value=SEED,
        progress=lambda m: print(f"  {m}", flush=True),
    )
    database.dispose()
    return describe(customers, generated_seconds=time.monotonic() - clock)


def describe(customers: int, *, generated_seconds: float | None) -> dict[str, Any]:
    """After generation: the CLV log and the manifest (a bank generated otherwise can be finished
    with this alone)."""
    settings = get_settings()
    clock = time.monotonic()
    log_rows = write_clv_log(Lake(settings.lake_root), settings.var_dir / CLV_LOG)
    facts = {
        "customers": customers,
        "as_of": (business_today() - timedelta(days=1)).isoformat(),
        "generated_seconds": generated_seconds,
        "clv_log_seconds": time.monotonic() - clock,
        "clv_log_rows": log_rows,
    }
    (settings.var_dir / MANIFEST).write_text(json.dumps(facts, indent=1), encoding="utf-8")
    return facts


def write_clv_log(lake: Lake, path: Path) -> int:
    """The customers' spending as one Parquet file (customer, business date, amount): the shape of
    the transaction log ``bankcrm clv fit`` reads, so the bench times the command's own path."""
    source = lake.scan_expression(lake_repository.TRANSACTIONS)
    with lake.connect() as duck:
        duck.execute(
            f"""COPY (SELECT customer_id,
                             CAST(timezone('Asia/Shanghai', booked_at) AS DATE) AS booked_on,
                             CAST(amount AS DOUBLE) AS amount
                      FROM {source} WHERE direction = 'out')
                TO '{path.as_posix()}' (FORMAT parquet, COMPRESSION zstd)"""  # noqa: S608 - our paths
        )
        row = duck.execute(f"SELECT count(*) FROM read_parquet('{path.as_posix()}')").fetchone()  # noqa: S608
    return int(row[0]) if row else 0


def _stage(
    facts: dict[str, Any], sampler: RssSampler, name: str, work: Callable[[], Any]
) -> tuple[Any, float, float]:
    start = time.monotonic()
    result = work()
    end = time.monotonic()
    facts["stages"][name] = {
        "seconds": end - start,
        "peak_rss_bytes": sampler.peak_between(start, end),
        "cpu_seconds": sampler.cpu_between(start, end),
    }
    return result, start, end


def run() -> dict[str, Any]:
    """The nightly run, then the CLV fit, each stage timed and its memory peak sampled."""
    settings = get_settings()
    manifest = json.loads((settings.var_dir / MANIFEST).read_text(encoding="utf-8"))
    as_of = date.fromisoformat(manifest["as_of"])
    lake = Lake(settings.lake_root)
    database = create_database(settings)
    facts: dict[str, Any] = {"as_of": as_of.isoformat(), "stages": {}}
    cpu = _cpu_seconds()
    with RssSampler() as sampler:
        start = time.monotonic()
        scored = run_scoring(database, lake, as_of=as_of)
        end = time.monotonic()
        # The run times its own stages; their peaks follow from where each lay in the run.
        at = start
        for name, seconds in scored.stages.items():
            facts["stages"][name] = {
                "seconds": seconds,
                "peak_rss_bytes": sampler.peak_between(at, at + seconds),
                "cpu_seconds": sampler.cpu_between(at, at + seconds),
            }
            at += seconds
        facts["run"] = {
            "seconds": end - start,
            "customers": scored.customers,
            "peak_rss_bytes": sampler.peak_between(start, end),
            "cpu_seconds": _cpu_seconds() - cpu,
        }
        facts["run_peak_rss_bytes"] = _peak_rss_bytes()  # the kernel's mark: the run came first
        database.dispose()
        log_path = settings.var_dir / CLV_LOG
        history, read_start, _ = _stage(
            facts,
            sampler,
            "clv read",
            lambda: read_history(
                log_path,
                customer_column="customer_id",
                date_column="booked_on",
                amount_column="amount",
                calibration_end=as_of,
                period="week",
            ),
        )
        result, _, fit_end = _stage(
            facts, sampler, "clv fit", lambda: fit_history(history, horizon=CLV_HORIZON_WEEKS)
        )
        facts["clv"] = {
            "seconds": fit_end - read_start,
            "read_seconds": facts["stages"]["clv read"]["seconds"],
            "fit_seconds": facts["stages"]["clv fit"]["seconds"],
            "customers": result.bgnbd.customers,
            "repeat_customers": result.repeat_customers,
            "peak_rss_bytes": sampler.peak_between(read_start, fit_end),
        }
    facts["peak_rss_bytes"] = _peak_rss_bytes()
    facts["samples"] = len(sampler.samples)
    return facts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.segmentation_step")
    parser.add_argument("step", choices=("generate", "run"))
    parser.add_argument("--json", type=Path, required=True)
    parser.add_argument("--customers", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    facts = generate(args.customers) if args.step == "generate" else run()
    args.json.write_text(json.dumps(facts, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
