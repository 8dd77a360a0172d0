"""Segments: define them with a rule, preview them while editing, keep them run by run (their
profile, comparison and export are in ``segment_reports``).

A segment's rule (segmentation.rules) is evaluated against one scoring run: the run's features and
the attributes taken with them (``segment_attributes``), the tags customers hold now and the lake's
transactions. Dynamic segments are recomputed by each nightly run, which keeps who was in them on
that date and who joined and left since the previous run (lake datasets ``segment_members`` and
``segment_changes``); a static segment is computed once and kept as it was.

What a person sees is within their data scope: counts, samples, profiles and exports only ever
include customers they may read. The definitions themselves are the bank's, visible to anyone who
reads customers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from ibis.backends import BaseBackend
from ibis.common.exceptions import TableNotFound
from sqlalchemy.orm import Session

from bankcrm.audit import service as audit
from bankcrm.core.errors import Conflict, NotFound, ValidationFailed
from bankcrm.core.i18n import N_
from bankcrm.core.lake import Lake
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.customers.schemas import CustomerSummary
from bankcrm.customers.service import audience
from bankcrm.customers.service import scoring as customer_scoring
from bankcrm.customers.service import tags as customer_tags
from bankcrm.identity.service import orgs
from bankcrm.segmentation import repository as repo
from bankcrm.segmentation.features import Month, months_before
from bankcrm.segmentation.models import Segment, SegmentRun
from bankcrm.segmentation.rules import (
    BASE_COLUMNS,
    CHOICE,
    FIELDS,
    MONEY,
    NUMBER,
    RATIO,
    TRANSACTIONS,
    Group,
    RuleSources,
    compile_rule,
    members,
    parse_rule,
    tags_named,
)
from bankcrm.segmentation.schemas import SegmentIn

FEATURES = "features"
ATTRIBUTES = "segment_attributes"
MEMBERS = "segment_members"
CHANGES = "segment_changes"
BREAKDOWN = "feature_breakdown"
SAMPLE_SIZE = 10
EXPORT_LIMIT = 100_000
ENTITY = "segment"


class NoScoringRun(Conflict):
    code = "no-scoring-run"
    default_message = N_("No scoring run has finished yet; segments are computed from its features.")


class SegmentNotFound(NotFound):
    code = "segment-not-found"


# ---------------------------------------------------------------- the lake side


def scored_dates(lake: Lake) -> list[date]:
    """The business dates the lake holds a features run for, oldest first."""
    folder = lake.dataset_dir(FEATURES)
    if not folder.is_dir():
        return []
    return sorted(date.fromisoformat(p.name.split("=", 1)[1]) for p in folder.glob("as_of=*") if p.is_dir())


def latest_scored_date(lake: Lake) -> date:
    dates = scored_dates(lake)
    if not dates:
        raise NoScoringRun()
    return dates[-1]


def store_attributes(session: Session, lake: Lake, *, as_of: date) -> int:
    """Take the attributes segment rules name with the run, so a rule reads one consistent day."""
    table = audience.attributes(session)
    table = table.append_column("as_of", pa.array([as_of] * table.num_rows, pa.date32()))
    lake.write_file(ATTRIBUTES, table, file_key="attributes", partition={"as_of": as_of.isoformat()})
    return int(table.num_rows)


def run_table(backend: BaseBackend, lake: Lake, dataset: str, as_of: date) -> ir.Table:
    table = backend.table(dataset)
    return table.filter(table.as_of == ibis.literal(as_of)).drop("as_of")


def segment_base(backend: BaseBackend, lake: Lake, *, as_of: date) -> ir.Table:
    """One row per customer scored on ``as_of``: the run's features with the attributes taken then."""
    features = run_table(backend, lake, FEATURES, as_of)
    if not lake.has_dataset(ATTRIBUTES):
        empty = audience.ATTRIBUTE_SCHEMA.empty_table()
        attributes = ibis.memtable(empty)
    else:
        attributes = run_table(backend, lake, ATTRIBUTES, as_of)
    base = features.left_join(attributes, "customer_id").drop("customer_id_right")
    return _with_every_field(base)


_FIELD_TYPES = {NUMBER: "int64", MONEY: "decimal(20, 2)", RATIO: "float64", CHOICE: "string"}


def _with_every_field(base: ir.Table) -> ir.Table:
    """A run kept before a field existed (the credit status came later) has it as missing, so a
    rule naming it finds nobody there instead of failing."""
    missing = {
        code: ibis.null().cast(_FIELD_TYPES[FIELDS[code].kind])
        for code in BASE_COLUMNS
        if code not in base.columns
    }
    return base.mutate(**missing) if missing else base


def datasets_read(rule: Group) -> set[str]:
    """The lake datasets a rule needs: the run's features and attributes, and the transactions only
    when it has a window (binding them is the costliest part of opening the lake)."""
    needed = {FEATURES, ATTRIBUTES}
    if any(FIELDS[c.field].kind == TRANSACTIONS for c in rule.conditions()):
        needed.add(customer_scoring.TRANSACTIONS)
    return needed


def transaction_folders(lake: Lake, rule: Group, *, as_of: date) -> list[str]:
    """The transactions' monthly folders (business months) the rule's windows reach into on
    ``as_of``, those the lake has: a window of the last 3 months reads 4 months' folders, not 24."""
    starts = [
        months_before(as_of, c.window.months) + timedelta(days=1) for c in rule.conditions() if c.window
    ]
    if not starts:
        return []
    first, month, folders = Month.of(min(starts)), Month.of(as_of), []
    while (month.year, month.month) >= (first.year, first.month):
        if lake.partition_dir(customer_scoring.TRANSACTIONS, {"month": month.label}).is_dir():
            folders.append(f"month={month.label}/bucket=*")
        month = month.minus(1)
    return folders[::-1]


def rule_backend(lake: Lake, rule: Group, *, as_of: date) -> BaseBackend:
    """The lake opened for one rule on one run: only the datasets it reads, and of the transactions
    only the months its windows reach (binding every file's footer is what opening costs), on the
    process-wide DuckDB whose footer cache makes the builder's next change cheaper to bind."""
    return lake.interactive_backend(
        only=datasets_read(rule),
        partitions={customer_scoring.TRANSACTIONS: transaction_folders(lake, rule, as_of=as_of)},
    )


def _transactions(backend: BaseBackend) -> ir.Table:
    """The transactions the backend has bound; none when the lake has none yet (or none in the
    months a rule reaches)."""
    try:
        return backend.table(customer_scoring.TRANSACTIONS)
    except TableNotFound:
        return ibis.memtable(customer_scoring.empty_transactions())


def rule_sources(
    session: Session, lake: Lake, backend: BaseBackend, rule: Group, *, as_of: date
) -> RuleSources:
    windowed = customer_scoring.TRANSACTIONS in datasets_read(rule)
    return RuleSources(
        base=segment_base(backend, lake, as_of=as_of),
        tags=ibis.memtable(audience.tag_members(session, tags_named(rule))),
        transactions=_transactions(backend)
        if windowed
        else ibis.memtable(customer_scoring.empty_transactions()),
        as_of=as_of,
    )


def _scoped(table: ir.Table, readable: list[int] | None) -> ir.Table:
    if readable is None:
        return table
    ids = ibis.memtable(pa.table({"customer_id": pa.array(readable, pa.int64())}))
    return table.filter(table.customer_id.isin(ids.customer_id))


def count_of(backend: BaseBackend, expression: ir.IntegerScalar) -> int:
    """A count computed by the engine (through Arrow: pandas is not needed for one number)."""
    return int(backend.to_pyarrow(expression).as_py())


def _ids(table: pa.Table) -> np.ndarray:
    return np.asarray(table.column("customer_id").to_numpy(zero_copy_only=False), dtype=np.int64)


# ---------------------------------------------------------------- rules as people write them


def known_choices(session: Session, principal: Principal) -> dict[str, list[str]]:
    """Choices only this bank knows: its branches and its tags."""
    return {
        "branch": [str(unit.id) for unit in orgs.org_unit_choices(session, principal)],
        "tag": [tag.code for tag in customer_tags.list_tags(session, principal)],
    }


def checked_rule(session: Session, principal: Principal, data: Any) -> Group:
    return parse_rule(data, known_choices=known_choices(session, principal))


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def rule_data(rule: Group) -> dict[str, Any]:
    """A parsed rule back as data (numbers as text, so money keeps its exact value in JSON)."""
    items: list[dict[str, Any]] = []
    for item in rule.items:
        if isinstance(item, Group):
            items.append(rule_data(item))
            continue
        entry: dict[str, Any] = {"field": item.field, "operator": item.operator}
        if item.values:
            entry["value"] = (
                _plain(list(item.values))
                if len(item.values) > 1 or item.field in _MULTI
                else _plain(item.values[0])
            )
        if item.window is not None:
            entry.update(
                {
                    "months": item.window.months,
                    "measure": item.window.measure,
                    "direction": item.window.direction,
                    "category": item.window.category,
                    "channel": item.window.channel,
                    "each_month": item.window.each_month,
                }
            )
        items.append(entry)
    return {"join": rule.join, "items": items}


_MULTI = {code for code, spec in FIELDS.items() if spec.kind == CHOICE}  # their values are lists


# ---------------------------------------------------------------- previews


@dataclass(frozen=True)
class Preview:
    as_of: date
    count: int
    scored: int  # customers of the run within the viewer's scope
    sample: list[CustomerSummary]


def preview(session: Session, principal: Principal, lake: Lake, *, rule: Any) -> Preview:
    """How many customers the rule selects in the latest run, within the viewer's scope, and a few
    of them (the largest by AUM first). Nothing is stored."""
    principal.require(Permission.CUSTOMER_READ)
    group = checked_rule(session, principal, rule)
    as_of = latest_scored_date(lake)
    backend = rule_backend(lake, group, as_of=as_of)
    sources = rule_sources(session, lake, backend, group, as_of=as_of)
    scoped = replace(sources, base=_scoped(sources.base, audience.readable_ids(session, principal)))
    # One pass: every readable customer with whether the rule holds, so the count, the customers
    # counted against and the sample come from one evaluation (each costs a full one otherwise).
    judged = backend.to_pyarrow(
        scoped.base.select("customer_id", "aum_mda", hit=compile_rule(group, scoped).fill_null(False))
    )
    hits = judged.filter(judged.column("hit"))
    top = hits.sort_by([("aum_mda", "descending"), ("customer_id", "ascending")]).slice(0, SAMPLE_SIZE)
    return Preview(
        as_of=as_of,
        count=hits.num_rows,
        scored=judged.num_rows,
        sample=_summaries_in_order(session, principal, _ids(top)),
    )


def _summaries_in_order(session: Session, principal: Principal, ids: np.ndarray) -> list[CustomerSummary]:
    order = [int(i) for i in ids]
    found = {s.id: s for s in audience.summaries_of(session, principal, customer_ids=order)}
    return [found[i] for i in order if i in found]


# ---------------------------------------------------------------- computing and keeping runs


def _members_path(lake: Lake, segment_id: int, as_of: date) -> Any:
    partition = {"segment_id": str(segment_id), "as_of": as_of.isoformat()}
    return lake.partition_dir(MEMBERS, partition) / "members.parquet"


def _read_members(lake: Lake, segment_id: int, as_of: date) -> np.ndarray:
    path = _members_path(lake, segment_id, as_of)
    if not path.exists():
        return np.empty(0, dtype=np.int64)
    return _ids(pq.read_table(path, columns=["customer_id"]))


def _write_members(lake: Lake, segment_id: int, as_of: date, ids: np.ndarray) -> None:
    partition = {"segment_id": str(segment_id), "as_of": as_of.isoformat()}
    table = pa.table({"customer_id": pa.array(np.sort(ids), pa.int64())})
    lake.write_file(MEMBERS, table, file_key="members", partition=partition)


def _write_changes(lake: Lake, segment_id: int, as_of: date, joined: np.ndarray, left: np.ndarray) -> None:
    table = pa.table(
        {
            "customer_id": pa.array(np.concatenate([joined, left]), pa.int64()),
            "change": pa.array(["joined"] * len(joined) + ["left"] * len(left), pa.string()),
        }
    )
    partition = {"segment_id": str(segment_id), "as_of": as_of.isoformat()}
    lake.write_file(CHANGES, table, file_key="changes", partition=partition)


def compute_members(
    session: Session, lake: Lake, backend: BaseBackend, rule: Group, *, as_of: date
) -> np.ndarray:
    """Every customer (no scope: a job's view) the rule selects in the run of ``as_of``."""
    sources = rule_sources(session, lake, backend, rule, as_of=as_of)
    return _ids(backend.to_pyarrow(members(rule, sources).order_by("customer_id")))


def keep_run(session: Session, lake: Lake, segment: Segment, ids: np.ndarray, *, as_of: date) -> SegmentRun:
    """Keep the members of ``segment`` on ``as_of`` and who joined and left since its previous run;
    running a date again replaces that date's members, changes and counts."""
    previous_date = repo.previous_run_date(session, segment.id, as_of)
    previous = _read_members(lake, segment.id, previous_date) if previous_date else np.empty(0, np.int64)
    joined = np.setdiff1d(ids, previous, assume_unique=True)
    left = np.setdiff1d(previous, ids, assume_unique=True)
    _write_members(lake, segment.id, as_of, ids)
    _write_changes(lake, segment.id, as_of, joined, left)
    run = SegmentRun(segment_id=segment.id, as_of=as_of, members=len(ids), joined=len(joined), left=len(left))
    repo.replace_run(session, run)
    session.flush()
    return run


def run_dynamic_segments(session: Session, lake: Lake, *, as_of: date) -> int:
    """The nightly run's part: every active dynamic segment recomputed as of ``as_of``."""
    backend = lake.ibis_backend()
    count = 0
    for segment in repo.dynamic_segments(session):
        rule = parse_rule(json.loads(segment.rule))
        keep_run(
            session, lake, segment, compute_members(session, lake, backend, rule, as_of=as_of), as_of=as_of
        )
        count += 1
    return count


# ---------------------------------------------------------------- segments people keep


@dataclass(frozen=True)
class SegmentItem:
    id: int
    name: str
    description: str | None
    kind: str
    status: str
    rule: dict[str, Any]
    owner_id: int
    as_of: date | None
    members: int | None  # within the viewer's scope, in the latest run
    version: int


def readable_members(
    session: Session, principal: Principal, lake: Lake, segment_id: int, as_of: date
) -> np.ndarray:
    ids = _read_members(lake, segment_id, as_of)
    readable = audience.readable_ids(session, principal)
    if readable is None:
        return ids
    return ids[np.isin(ids, np.asarray(readable, dtype=np.int64))]


def _item(session: Session, principal: Principal, lake: Lake, segment: Segment) -> SegmentItem:
    run = repo.latest_run(session, segment.id)
    count = len(readable_members(session, principal, lake, segment.id, run.as_of)) if run else None
    return SegmentItem(
        id=segment.id,
        name=segment.name,
        description=segment.description,
        kind=segment.kind,
        status=segment.status,
        rule=json.loads(segment.rule),
        owner_id=segment.owner_id,
        as_of=run.as_of if run else None,
        members=count,
        version=segment.version,
    )


def list_segments(session: Session, principal: Principal, lake: Lake) -> list[SegmentItem]:
    principal.require(Permission.CUSTOMER_READ)
    return [_item(session, principal, lake, s) for s in repo.segments(session)]


def segment_row(session: Session, segment_id: int) -> Segment:
    segment = repo.get_segment(session, segment_id)
    if segment is None:
        raise SegmentNotFound()
    return segment


def get_segment(session: Session, principal: Principal, lake: Lake, *, segment_id: int) -> SegmentItem:
    principal.require(Permission.CUSTOMER_READ)
    return _item(session, principal, lake, segment_row(session, segment_id))


def segment_runs(session: Session, principal: Principal, *, segment_id: int) -> Sequence[SegmentRun]:
    """The segment's runs, newest first (bank-wide counts: the movement of the definition)."""
    principal.require(Permission.CUSTOMER_READ)
    segment_row(session, segment_id)
    return repo.runs_of(session, segment_id)


def _check_name(session: Session, name: str, *, segment_id: int | None = None) -> None:
    existing = repo.find_segment_by_name(session, name)
    if existing is not None and existing.id != segment_id:
        raise ValidationFailed.single(
            "name", "segment.name_unique", N_("The name %(name)s is already used."), name, name=name
        )


def create_segment(session: Session, principal: Principal, lake: Lake, *, data: SegmentIn) -> SegmentItem:
    """A new segment, computed at once on the latest run so it has members from the start."""
    principal.require(Permission.SEGMENT_MANAGE)
    rule = checked_rule(session, principal, data.rule)
    _check_name(session, data.name)
    as_of = latest_scored_date(lake)
    segment = Segment(
        name=data.name,
        description=data.description,
        kind=data.kind,
        rule=json.dumps(rule_data(rule), ensure_ascii=False),
        owner_id=principal.user_id,
    )
    return _keep_new(
        session,
        principal,
        lake,
        segment,
        lambda: compute_members(session, lake, rule_backend(lake, rule, as_of=as_of), rule, as_of=as_of),
        as_of=as_of,
    )


def _keep_new(
    session: Session,
    principal: Principal,
    lake: Lake,
    segment: Segment,
    members_of: Callable[[], np.ndarray],
    *,
    as_of: date,
) -> SegmentItem:
    """Store a new segment, keep its first run (``members_of`` is asked once it has an id) and
    audit its creation with that run's size."""
    repo.add(session, segment)
    session.flush()  # id needed for the lake's partition and the audit row
    run = keep_run(session, lake, segment, members_of(), as_of=as_of)
    audit.record_change(
        session,
        principal.actor,
        entity_type=ENTITY,
        entity_id=segment.id,
        action="create",
        before={},
        after={"name": segment.name, "kind": segment.kind, "rule": segment.rule, "members": run.members},
    )
    return _item(session, principal, lake, segment)


def update_segment(
    session: Session, principal: Principal, lake: Lake, *, segment_id: int, data: SegmentIn, version: int
) -> SegmentItem:
    """A dynamic segment's new definition, recomputed on the latest run; a static one keeps its
    members (only its name and description change)."""
    principal.require(Permission.SEGMENT_MANAGE)
    segment = segment_row(session, segment_id)
    if segment.version != version:
        raise Conflict()
    _check_name(session, data.name, segment_id=segment.id)
    before = {"name": segment.name, "description": segment.description, "rule": segment.rule}
    segment.name = data.name
    segment.description = data.description
    if segment.kind == "dynamic":
        rule = checked_rule(session, principal, data.rule)
        segment.rule = json.dumps(rule_data(rule), ensure_ascii=False)
        as_of = latest_scored_date(lake)
        ids = compute_members(session, lake, rule_backend(lake, rule, as_of=as_of), rule, as_of=as_of)
        keep_run(session, lake, segment, ids, as_of=as_of)
    segment.version += 1
    session.flush()
    after = {"name": segment.name, "description": segment.description, "rule": segment.rule}
    audit.record_change(
        session,
        principal.actor,
        entity_type=ENTITY,
        entity_id=segment.id,
        action="update",
        before=before,
        after=after,
    )
    return _item(session, principal, lake, segment)


def snapshot_segment(
    session: Session, principal: Principal, lake: Lake, *, segment_id: int, name: str
) -> SegmentItem:
    """A static copy of a segment's latest members, kept as they are now."""
    principal.require(Permission.SEGMENT_MANAGE)
    source = segment_row(session, segment_id)
    run = repo.latest_run(session, source.id)
    if run is None:
        raise NoScoringRun()
    _check_name(session, name)
    snapshot = Segment(
        name=name,
        description=source.description,
        kind="static",
        rule=source.rule,
        source_segment_id=source.id,
        owner_id=principal.user_id,
    )
    repo.add(session, snapshot)
    session.flush()
    kept = keep_run(session, lake, snapshot, _read_members(lake, source.id, run.as_of), as_of=run.as_of)
    audit.record_event(
        session,
        principal.actor,
        action="snapshot",
        entity_type=ENTITY,
        entity_id=snapshot.id,
        details={"source": source.id, "as_of": run.as_of.isoformat(), "members": kept.members},
    )
    return _item(session, principal, lake, snapshot)


def create_static_from_ids(
    session: Session,
    principal: Principal,
    lake: Lake,
    *,
    name: str,
    description: str | None,
    origin: dict[str, Any],
    customer_ids: list[int],
    as_of: date,
) -> SegmentItem:
    """A static segment of given customers (a cluster promoted, say), kept as of ``as_of``. Its
    ``origin`` is stored where a rule would be and shown in its place."""
    principal.require(Permission.SEGMENT_MANAGE)
    _check_name(session, name)
    segment = Segment(
        name=name,
        description=description,
        kind="static",
        rule=json.dumps(origin, ensure_ascii=False),
        owner_id=principal.user_id,
    )
    ids = np.unique(np.asarray(customer_ids, dtype=np.int64))
    return _keep_new(session, principal, lake, segment, lambda: ids, as_of=as_of)


def archive_segment(session: Session, principal: Principal, lake: Lake, *, segment_id: int) -> SegmentItem:
    """Stop recomputing a segment and hide it from the list; its runs stay."""
    principal.require(Permission.SEGMENT_MANAGE)
    segment = segment_row(session, segment_id)
    before = {"status": segment.status}
    segment.status = "archived"
    segment.version += 1
    session.flush()
    audit.record_change(
        session,
        principal.actor,
        entity_type=ENTITY,
        entity_id=segment.id,
        action="archive",
        before=before,
        after={"status": segment.status},
    )
    return _item(session, principal, lake, segment)


def member_ids(session: Session, principal: Principal, lake: Lake, *, segment_id: int) -> list[int]:
    """The segment's members in its latest run that the principal may read (the audience a
    campaign takes from it)."""
    principal.require(Permission.CUSTOMER_READ)
    run = repo.latest_run(session, segment_row(session, segment_id).id)
    if run is None:
        return []
    return [int(i) for i in readable_members(session, principal, lake, segment_id, run.as_of)]


@dataclass(frozen=True)
class Member:
    customer: CustomerSummary
    aum_mda: Decimal  # in the segment's run


def sample_members(
    session: Session, principal: Principal, lake: Lake, *, segment_id: int, limit: int = 20
) -> list[Member]:
    """The segment's readable members with the largest monthly daily average AUM in its run."""
    principal.require(Permission.CUSTOMER_READ)
    run = repo.latest_run(session, segment_row(session, segment_id).id)
    if run is None:
        return []
    ids = readable_members(session, principal, lake, segment_id, run.as_of)
    backend = lake.interactive_backend(only={FEATURES})
    chosen = ibis.memtable(pa.table({"customer_id": pa.array(ids, pa.int64())}))
    features = run_table(backend, lake, FEATURES, run.as_of)
    top = backend.to_pyarrow(
        features.filter(features.customer_id.isin(chosen.customer_id))
        .order_by([ibis.desc("aum_mda"), "customer_id"])
        .limit(limit)
        .select("customer_id", "aum_mda")
    )
    amounts = dict(zip(top.column("customer_id").to_pylist(), top.column("aum_mda").to_pylist(), strict=True))
    summaries = _summaries_in_order(session, principal, _ids(top))
    return [Member(customer=s, aum_mda=amounts[s.id]) for s in summaries]
