"""One measured step of the segmentation budgets, run in its own Python process.

``python -m bench.segmentation_step STEP --json OUT`` against the var dir named by ``BANKCRM_VAR_DIR``:

- ``generate --customers N``: migrate, generate the synthetic bank (``bankcrm demo generate``), write
  the CLV transaction log and the manifest. Minutes: the bench keeps the dir for ``--reuse``.
- ``prepare``: on the bank as generated, what a bank that has been running for a while has and the
  full nightly run works on (the bench keeps the result and starts every measured run from it):
  earlier scoring runs (``HISTORY_RUNS``, three months apart and the last a month before the
  manifest's date), a churn model trained on them by the model studio (``studio.train_churn``) and
  activated (it scores every customer of the latest run), the rule tags of ``RULE_TAGS`` and the
  model tag of ``MODEL_TAG`` (each set at once on the latest run). Each part is timed; none of it is
  the measured run.
- ``run``: the bench's dynamic segments defined in the store (``SEGMENTS``), then the nightly scoring
  run (``segmentation.jobs.run_scoring``: features with RFM and CLV, breakdown, write-back, tiers, the
  active models scoring, the rule and model tags recomputed, the segments recomputed) as of the
  manifest's date, then the CLV fit on the log, with the wall time of each stage, the peak memory,
  and the customers each active model scored and each tag's holders, gains and losses.
- ``preview``: after ``run``, the segment preview (``segmentation.service.preview``: count, scope
  count and a sample) of each of ``SEGMENTS``' rules, timed for a whole-bank and a branch viewer.

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

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bankcrm.cli import run_migrations
from bankcrm.core.config import get_settings
from bankcrm.core.context import Origin
from bankcrm.core.db import Database, create_database
from bankcrm.core.formatting import business_today
from bankcrm.core.lake import Lake
from bankcrm.core.principal import Principal
from bankcrm.customers import lake_repository
from bankcrm.customers.models import CustomerTag, CustomerTagEvent, Tag
from bankcrm.customers.service import customers as customer_service
from bankcrm.customers.service.errors import CustomerNotFound
from bankcrm.demo import seed
from bankcrm.demo.bank import generate_bank
from bankcrm.identity.service import auth
from bankcrm.segmentation import repository as segment_repo
from bankcrm.segmentation import service as segments
from bankcrm.segmentation import tag_rules
from bankcrm.segmentation.clv_command import fit_history, read_history
from bankcrm.segmentation.jobs import FEATURES, run_scoring
from bankcrm.segmentation.models import Segment
from bankcrm.segmentation.schemas import ModelTagIn, RuleTagIn
from bankcrm.segmentation.studio import repository as studio_repo
from bankcrm.segmentation.studio import service as studio
from bankcrm.segmentation.studio import targets

SEED = 20261129
MANIFEST = "bench-segmentation.json"
CLV_LOG = "clv-log.parquet"
CLV_HORIZON_WEEKS = 52.0
SAMPLE_SECONDS = 0.05
SEGMENT_OWNER = "mkt"  # the retail marketing department keeps the bank's segments
PREVIEW_VIEWERS = {"bank": "exec", "branch": "bm.beijing"}  # whole bank; the Beijing branch's customers
PREVIEW_WARMUP = 1
PREVIEW_REPEATS = 10

# Salary credited in each of the last 3 months: the issue's own transaction window.
SALARY_EACH_MONTH: dict[str, Any] = {
    "field": "txn",
    "operator": "ge",
    "value": 1,
    "months": 3,
    "each_month": True,
    "direction": "in",
    "category": "salary",
    "measure": "count",
}

# The dynamic segments the measured run recomputes, and the rules the preview is timed on: one of
# features only, one with a tag, one with a transaction window (the issue's own example).
SEGMENTS: dict[str, dict[str, Any]] = {
    "salaried mass-affluent without wealth": {
        "kind": "transaction window",
        "rule": {
            "join": "and",
            "items": [
                SALARY_EACH_MONTH,
                {"field": "aum_mda", "operator": "between", "value": [300000, 500000]},
                {"field": "balance_wealth", "operator": "eq", "value": 0},
            ],
        },
    },
    "affluent at risk": {
        "kind": "features only",
        "rule": {
            "join": "and",
            "items": [
                {"field": "tier", "operator": "in", "value": ["affluent", "vip", "private"]},
                {
                    "join": "or",
                    "items": [
                        {"field": "aum_change_3m", "operator": "lt", "value": -0.3},
                        {"field": "recency_days", "operator": "gt", "value": 60},
                        {"field": "txn_count_change_3m", "operator": "lt", "value": -0.5},
                    ],
                },
            ],
        },
    },
    "digital high-value, not yet offered wealth": {
        "kind": "tag",
        "rule": {
            "join": "and",
            "items": [
                {"field": "tag", "operator": "has_not", "value": "wealth-upsell"},
                {"field": "digital_share_3m", "operator": "ge", "value": 0.5},
                {"field": "clv_expected_value", "operator": "ge", "value": 20000},
            ],
        },
    },
}

# The preparation's history: scoring runs this many months before the manifest's date, oldest first.
# Churn labels a run by the runs up to three months after it (``targets.CHURN_MONTHS``) and the
# studio holds out the latest usable run, so two labelled runs and the one that ends the second's
# window are the least it trains on; the last a month before the measured run, as a monthly
# history would have it.
HISTORY_MONTHS_BEFORE = (1 + 2 * targets.CHURN_MONTHS, 1 + targets.CHURN_MONTHS, 1)
CHURN_MODEL_NAME = "bench churn"
# The generated bank has no churners by the studio's definition (nobody's AUM halves within three
# months, nobody closes every product or leaves), and a target of one class cannot be trained. So
# after each labelled run of the history a share of customers leaves the bank - deactivated by
# their branch manager, the least active first (longest since a transaction, AUM falling most), so
# the model has a behaviour to learn - and comes back after the next run, which they are missing
# from: churned by the studio's rule, and every customer active again for the measured run.
CHURN_SHARE = 0.005
DEPARTURES_RECORDED_BY = "bm.beijing"  # a branch manager may (de)activate the branch's customers
DEPARTURE_REASON = "bench: left the bank for the churn history; back after the next run"

# The rule tags the measured run recomputes: one with a transaction window, one over features.
RULE_TAGS: dict[str, dict[str, Any]] = {
    "bench-salaried": {
        "kind": "transaction window",
        "name": "bench: salary each month",
        "rule": {
            "join": "and",
            "items": [SALARY_EACH_MONTH],
        },
    },
    "bench-slipping": {
        "kind": "features only",
        "name": "bench: AUM or activity slipping",
        "rule": {
            "join": "or",
            "items": [
                {"field": "aum_change_3m", "operator": "lt", "value": -0.3},
                {"field": "recency_days", "operator": "gt", "value": 60},
            ],
        },
    },
}
# The model tag: the active churn model's top band.
MODEL_TAG = {"code": "bench-churn-high", "name": "bench: churn high", "target": "churn", "bands": ["high"]}


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


def signed_in(database: Database, username: str) -> Principal:
    """The principal a demo user signed in with the demo password has (as the web app resolves it)."""
    settings = get_settings()
    origin = Origin(ip="127.0.0.1", user_agent="bench")
    with database.transaction() as session:
        login = auth.login(
            session, username=username, password=seed.DEMO_PASSWORD, origin=origin, settings=settings
        )
        assert login.token is not None, f"the demo user {username} could not sign in"
        resolved = auth.resolve_session(session, token=login.token, origin=origin, settings=settings)
        assert resolved is not None
        return resolved.principal


def define_segments(database: Database) -> list[int]:
    """``SEGMENTS`` as active dynamic segments, so the measured run recomputes them. Their rules are
    checked and stored as ``segments.create_segment`` does; that call also computes the members at
    once on the latest run, which a bank restored as generated does not have yet (the run makes it)."""
    owner = signed_in(database, SEGMENT_OWNER)
    ids = []
    with database.transaction() as session:
        for name, spec in SEGMENTS.items():
            rule = segments.checked_rule(session, owner, spec["rule"])
            segment = Segment(
                name=name,
                description=f"bench: {spec['kind']}",
                kind="dynamic",
                rule=json.dumps(segments.rule_data(rule), ensure_ascii=False),
                owner_id=owner.user_id,
            )
            segment_repo.add(session, segment)
            session.flush()
            ids.append(segment.id)
    return ids


def segment_members(database: Database, ids: list[int]) -> dict[str, int]:
    """The members each bench segment has after the run (bank-wide)."""
    with database.transaction(write=False) as session:
        counts = {}
        for segment_id in ids:
            segment = segment_repo.get_segment(session, segment_id)
            latest = segment_repo.latest_run(session, segment_id)
            assert segment is not None
            assert latest is not None, "the run did not recompute the segment"
            counts[segment.name] = latest.members
    return counts


def history_dates(as_of: date) -> list[date]:
    """The preparation's scoring runs before the measured one on ``as_of``, oldest first."""
    return [targets.add_months(as_of, -months) for months in HISTORY_MONTHS_BEFORE]


def _timed(work: Callable[[], Any]) -> tuple[Any, float]:
    start = time.monotonic()
    return work(), time.monotonic() - start


def prepare_history(database: Database, lake: Lake, as_of: date, customers: int) -> list[dict[str, Any]]:
    """The earlier nightly runs, each the whole ``run_scoring`` as the scheduler would have run it,
    with ``CHURN_SHARE`` of the customers leaving after each labelled run and back after the next."""
    manager = signed_in(database, DEPARTURES_RECORDED_BY)
    dates = history_dates(as_of)
    runs: list[dict[str, Any]] = []
    gone: list[int] = []
    for day in dates:
        print(f"  scoring as of {day} ...", flush=True)
        start = time.monotonic()
        scored = run_scoring(database, lake, as_of=day)
        seconds = time.monotonic() - start
        set_active(database, manager, gone, active=True)
        last = day == dates[-1]
        gone = [] if last else leave(database, lake, manager, day, round(customers * CHURN_SHARE))
        runs.append(
            {"as_of": day.isoformat(), "seconds": seconds, "customers": scored.customers, "left": len(gone)}
        )
    return runs


def leave(database: Database, lake: Lake, manager: Principal, as_of: date, count: int) -> list[int]:
    """``count`` of the manager's customers deactivated, the least active in the ``as_of`` run first."""
    source = lake.scan_expression(FEATURES)
    with lake.connect() as duck:
        rows = duck.execute(
            f"""SELECT customer_id FROM {source} WHERE CAST(as_of AS DATE) = ?
                ORDER BY recency_days DESC NULLS FIRST, aum_change_3m ASC NULLS LAST, customer_id""",  # noqa: S608
            [as_of],
        ).fetchall()
    return set_active(database, manager, [int(row[0]) for row in rows], active=False, count=count)


def set_active(
    database: Database, manager: Principal, candidates: list[int], *, active: bool, count: int | None = None
) -> list[int]:
    """The first ``count`` (default: all) candidates in the manager's scope (de)activated through the
    customers' service; the ids changed."""
    changed: list[int] = []
    with database.transaction() as session:
        for customer_id in candidates:
            if count is not None and len(changed) >= count:
                break
            try:
                customer_service.set_active(
                    session, manager, customer_id=customer_id, active=active, reason=DEPARTURE_REASON
                )
            except CustomerNotFound:  # outside the manager's branch
                continue
            changed.append(customer_id)
    return changed


def prepare_churn_model(database: Database, lake: Lake, owner: Principal) -> dict[str, Any]:
    """A churn model trained by the studio on the whole history, then activated: activation scores
    every customer of the latest run, as the studio's button does."""
    print("  training the churn model ...", flush=True)
    with database.transaction() as session:
        card, train_seconds = _timed(lambda: studio.train_churn(session, owner, lake, name=CHURN_MODEL_NAME))
    print("  activating it ...", flush=True)
    with database.transaction() as session:
        activated, activate_seconds = _timed(
            lambda: studio.activate_model(session, owner, lake, model_id=card.id)
        )
    lightgbm = card.metrics["lightgbm"]
    return {
        "model_id": card.id,
        "name": card.name,
        "train_seconds": train_seconds,
        "rows": card.metrics["rows"],
        "positives": card.metrics["positives"],
        "features": len(card.features),
        "training_data": card.training_data,
        "holdout_auc": lightgbm["holdout_auc"],
        "lift_top_decile": lightgbm["lift_top_decile"],
        "leakage": [warning["feature"] for warning in card.metrics["leakage"]],
        "activate_seconds": activate_seconds,
        "scored": activated.scored_customers,
    }


def prepare_tags(database: Database, lake: Lake, owner: Principal) -> dict[str, Any]:
    """``RULE_TAGS`` and ``MODEL_TAG`` created as the marketing user, each set at once on the latest
    run (as creating one in the studio does)."""
    print("  defining the rule and model tags ...", flush=True)
    start = time.monotonic()
    with database.transaction() as session:
        for code, spec in RULE_TAGS.items():
            data = RuleTagIn(code=code, name=spec["name"], rule=spec["rule"])
            tag_rules.create_rule_tag(session, owner, lake, data=data)
        tag_rules.create_model_tag(session, owner, lake, data=ModelTagIn(**MODEL_TAG))
    seconds = time.monotonic() - start
    with database.transaction(write=False) as session:
        holders = {tag["code"]: tag["holders"] for tag in tag_counts(session, as_of=None)}
    return {"seconds": seconds, "holders": holders}


def prepare() -> dict[str, Any]:
    """What the full nightly run needs on the bank as generated: history, an active churn model, rule
    and model tags (``HISTORY_MONTHS_BEFORE``, ``RULE_TAGS``, ``MODEL_TAG``), each part timed."""
    settings = get_settings()
    manifest = json.loads((settings.var_dir / MANIFEST).read_text(encoding="utf-8"))
    as_of = date.fromisoformat(manifest["as_of"])
    lake = Lake(settings.lake_root)
    run_migrations(settings.database_url)
    database = create_database(settings)
    owner = signed_in(database, SEGMENT_OWNER)
    start = time.monotonic()
    facts: dict[str, Any] = {"history": prepare_history(database, lake, as_of, int(manifest["customers"]))}
    facts["model"] = prepare_churn_model(database, lake, owner)
    facts["tags"] = prepare_tags(database, lake, owner)
    facts["seconds"] = time.monotonic() - start
    facts["peak_rss_bytes"] = _peak_rss_bytes()
    database.dispose()
    return facts


def model_counts(session: Session) -> list[dict[str, Any]]:
    """Each active model and the customers it has scores for (the run replaced them all)."""
    return [
        {"name": model.name, "target": model.target, "scored": studio_repo.score_count(session, model.id)}
        for model in studio_repo.active_models(session)
    ]


def tag_counts(session: Session, *, as_of: date | None) -> list[dict[str, Any]]:
    """Each rule and model tag with its holders, and (given a run's date) who gained and lost it on
    that run."""
    counted = []
    for tag_rule in segment_repo.tag_rules(session):
        tag = session.get(Tag, tag_rule.tag_id)
        assert tag is not None
        holders = session.scalar(
            select(func.count()).select_from(CustomerTag).where(CustomerTag.tag_id == tag.id)
        )
        changes: dict[str, int] = {}
        if as_of is not None:
            events = (
                select(CustomerTagEvent.change, func.count())
                .where(CustomerTagEvent.tag_id == tag.id, CustomerTagEvent.as_of == as_of)
                .group_by(CustomerTagEvent.change)
            )
            changes = {str(change): int(count) for change, count in session.execute(events).all()}
        counted.append(
            {
                "code": tag.code,
                "kind": tag.kind,
                "holders": int(holders or 0),
                "gained": changes.get("gained", 0),
                "lost": changes.get("lost", 0),
            }
        )
    return counted


def run() -> dict[str, Any]:
    """The nightly run (with the bench's segments defined first), then the CLV fit, each stage timed
    and its memory peak sampled."""
    settings = get_settings()
    manifest = json.loads((settings.var_dir / MANIFEST).read_text(encoding="utf-8"))
    as_of = date.fromisoformat(manifest["as_of"])
    lake = Lake(settings.lake_root)
    run_migrations(settings.database_url)  # a bank kept from an older commit: its store brought up to date
    database = create_database(settings)
    segment_ids = define_segments(database)
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
        facts["segments"] = segment_members(database, segment_ids)
        with database.transaction(write=False) as session:
            facts["models"] = model_counts(session)
            facts["tags"] = tag_counts(session, as_of=as_of)
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


def preview() -> dict[str, Any]:
    """Each rule of ``SEGMENTS`` previewed (as the builder page's live count does: in a read
    transaction, its lake views bound on the process-wide DuckDB as in the web app) by each of
    ``PREVIEW_VIEWERS``, timed end to end; the warm-up is the builder's first count."""
    settings = get_settings()
    lake = Lake(settings.lake_root)
    database = create_database(settings)
    facts: dict[str, Any] = {"repeats": PREVIEW_REPEATS, "previews": []}
    for scope, username in PREVIEW_VIEWERS.items():
        principal = signed_in(database, username)
        for name, spec in SEGMENTS.items():
            timings = []
            for n in range(PREVIEW_WARMUP + PREVIEW_REPEATS):
                start = time.perf_counter()
                with database.transaction(write=False) as session:
                    shown = segments.preview(session, principal, lake, rule=spec["rule"])
                if n >= PREVIEW_WARMUP:
                    timings.append(time.perf_counter() - start)
            facts["previews"].append(
                {
                    "scope": scope,
                    "viewer": username,
                    "segment": name,
                    "kind": spec["kind"],
                    "count": shown.count,
                    "scored": shown.scored,
                    "seconds": timings,
                }
            )
    database.dispose()
    facts["peak_rss_bytes"] = _peak_rss_bytes()
    return facts


STEPS: dict[str, Callable[[], dict[str, Any]]] = {"prepare": prepare, "run": run, "preview": preview}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.segmentation_step")
    parser.add_argument("step", choices=("generate", *STEPS))
    parser.add_argument("--json", type=Path, required=True)
    parser.add_argument("--customers", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    facts = generate(args.customers) if args.step == "generate" else STEPS[args.step]()
    args.json.write_text(json.dumps(facts, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
