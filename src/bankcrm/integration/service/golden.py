"""Golden records: survivorship over a customer's source records, and where each field came from.

Whenever a source record of a customer arrives or changes, or two golden records merge, every
field survivorship decides is chosen again among the customer's source records (and a value an
employee entered in the CRM) under the field's rule in ``survivorship.toml``. The winners are
written to the customer through the customers module; each new winner is kept in the golden record's
history with its source and rule, masked.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from functools import cached_property, lru_cache
from typing import Any

from sqlalchemy.orm import Session

from bankcrm.core.config import get_settings
from bankcrm.core.context import Actor
from bankcrm.core.db import utcnow
from bankcrm.core.masking import MaskKind, mask
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.core.security import keyed_digest
from bankcrm.customers.service import customers, sourcing
from bankcrm.integration import repository as repo
from bankcrm.integration.mapping import Mapping, registry
from bankcrm.integration.models import GoldenFieldChange, SourceRecord
from bankcrm.integration.survivorship import CRM, FIELDS, Candidate, Survivorship, survivorship, winner

HISTORY_SHOWN = 200

# How each decided field is masked in the history and on the golden-record page.
MASKS: dict[str, MaskKind] = {
    "name": MaskKind.NAME,
    "name_en": MaskKind.NAME,
    "mobile": MaskKind.MOBILE,
    "email": MaskKind.EMAIL,
    "address": MaskKind.ADDRESS,
}
NAME_FIELDS = frozenset({"name", "name_en"})


@dataclass(frozen=True)
class Decision:
    field: str
    rule: str
    candidates: list[Candidate]
    chosen: Candidate | None
    current: str | None  # the customer's value before this decision


@dataclass(frozen=True)
class RecordVersion:
    """A source record as survivorship reads it; ``position`` orders a customer's records as their
    ids do (records not yet written come after all written ones, in the order they arrive)."""

    source_code: str
    source_customer_no: str
    fields: dict[str, Any]
    received_at: datetime
    position: int

    @classmethod
    def of(cls, record: SourceRecord, *, position: int | None = None) -> RecordVersion:
        return cls(
            record.source_code,
            record.source_customer_no,
            json.loads(record.fields),
            record.received_at,
            record.id if position is None else position,
        )

    @cached_property
    def as_of(self) -> tuple[datetime, bool]:
        """When the source last changed the record and whether it said so: its own update time,
        else (undated) when this version of the record reached us. Read once, for every field."""
        updated = self.fields.get("updated_at")
        if updated:
            try:
                return _as_utc(datetime.fromisoformat(str(updated))), True
            except ValueError:
                pass
        return _as_utc(self.received_at), False


@dataclass(frozen=True)
class Choice:
    """The last winner recorded for a field of a golden record."""

    source_code: str
    value_digest: str
    changed_at: datetime

    @classmethod
    def of(cls, row: GoldenFieldChange) -> Choice:
        return cls(row.source_code, row.value_digest, row.changed_at)


def _as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _day_start(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time.min, tzinfo=UTC)


def _source_candidate(
    name: str, fields: dict[str, Any], record: RecordVersion, mapping: Mapping | None
) -> Candidate | None:
    value = fields.get(name)
    if value in (None, ""):
        return None
    as_of, dated = record.as_of
    if name == "risk_level":
        # A risk level means nothing without its questionnaire's date, and its age is that date's.
        assessed = fields.get("risk_assessed_on")
        if not assessed:
            return None
        value, as_of, dated = f"{value}@{assessed}", _day_start(str(assessed)[:10]), True
    return Candidate(
        source=record.source_code,
        source_customer_no=record.source_customer_no,
        value=str(value),
        trust=mapping.trust if mapping else 0,
        as_of=as_of,
        dated=dated,
    )


def _current_value(name: str, golden: customers.GoldenValues) -> str | None:
    value = golden.values.get(name)
    if name == "risk_level" and value:
        assessed = golden.values.get("risk_assessed_on")
        return f"{value}@{assessed}" if assessed else None
    return value


def _digest(name: str, value: str) -> str:
    return _value_digest(get_settings().secret_key, name, value)


@lru_cache(maxsize=1 << 14)
def _value_digest(secret_key: str, name: str, value: str) -> str:
    # Remembered: a delivery's occupations, risk levels and industries repeat thousands of times.
    return keyed_digest(secret_key, "golden-value", f"{name}:{value}")


def _crm_candidate(
    name: str,
    golden: customers.GoldenValues,
    last: Choice | None,
    sources: list[Candidate],
    trust: int,
) -> Candidate | None:
    """The customer's own value, when it did not come from a source: entered or corrected in the CRM.

    It is as recent as the customer's last change (or as its questionnaire, for the risk level),
    unless survivorship already chose it before, which dates it then.
    """
    current = _current_value(name, golden)
    if not current or any(c.value == current for c in sources):
        return None
    if last is not None and last.value_digest == _digest(name, current):
        if last.source_code != CRM:
            return None  # a source's value that source no longer holds: let the sources decide
        as_of = _as_utc(last.changed_at)
    else:
        as_of = _as_utc(golden.updated_at)
    if name == "risk_level":
        as_of = _day_start(current.split("@", 1)[1])
    return Candidate(source=CRM, source_customer_no=None, value=current, trust=trust, as_of=as_of)


def _decide(
    session: Session, customer_id: int
) -> tuple[customers.GoldenValues, list[Decision], dict[str, Choice]] | None:
    golden = customers.golden_values(session, customer_id)
    if golden is None:
        return None
    # A source record keeps the customer it first linked to; merged customers lend theirs to the
    # survivor until an unmerge gives them back, so nothing has to be moved either way.
    owners = [customer_id, *customers.merged_aliases(session, customer_id)]
    records = [RecordVersion.of(r) for r in repo.source_records_of_customers(session, owners)]
    last = {name: Choice.of(row) for name, row in repo.latest_golden_changes(session, customer_id).items()}
    return golden, _decisions(golden, records, last, survivorship(), registry()), last


def _decisions(
    golden: customers.GoldenValues,
    records: list[RecordVersion],
    last: dict[str, Choice],
    config: Survivorship,
    mappings: dict[str, Mapping],
) -> list[Decision]:
    """Every decided field chosen among ``records`` (in id order) and the customer's own value."""
    decisions = []
    for name in FIELDS:
        found = [
            c
            for record in records
            if (c := _source_candidate(name, record.fields, record, mappings.get(record.source_code)))
            is not None
        ]
        crm = _crm_candidate(name, golden, last.get(name), found, config.crm_trust)
        candidates = [*found, crm] if crm else found
        rule = config.rule_for(name)
        decisions.append(
            Decision(name, rule, candidates, winner(rule, candidates), _current_value(name, golden))
        )
    return decisions


def _masked(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    if name == "risk_level":
        level, assessed = value.split("@", 1)
        return f"{level} ({assessed})"
    kind = MASKS.get(name)
    shown = mask(kind, value) if kind else value
    return (shown or "")[:200]


def _values_to_apply(decision: Decision) -> dict[str, str]:
    assert decision.chosen is not None
    if decision.field == "risk_level":
        level, assessed = decision.chosen.value.split("@", 1)
        return {"risk_level": level, "risk_assessed_on": assessed}
    return {decision.field: decision.chosen.value}


def _history_row(
    customer_id: int, decision: Decision, batch_id: int | None, previous: str | None
) -> dict[str, Any]:
    chosen = decision.chosen
    assert chosen is not None
    return {
        "customer_id": customer_id,
        "field": decision.field,
        "source_code": chosen.source,
        "source_customer_no": chosen.source_customer_no,
        "rule": decision.rule,
        "value_digest": _digest(decision.field, chosen.value),
        "value_masked": _masked(decision.field, chosen.value) or "",
        "previous_masked": _masked(decision.field, previous),
        "batch_id": batch_id,
    }


def _is_new_winner(decision: Decision, last: Choice | None) -> bool:
    chosen = decision.chosen
    assert chosen is not None
    return (
        last is None
        or last.source_code != chosen.source
        or last.value_digest != _digest(decision.field, chosen.value)
    )


@dataclass(frozen=True)
class Outcome:
    """What a survivorship decision changes: the values to apply (and why) and the history rows."""

    apply: dict[str, str]
    reason: str
    history: list[dict[str, Any]]


def _outcome(
    customer_id: int, decisions: list[Decision], last: dict[str, Choice], batch_id: int | None
) -> Outcome:
    apply: dict[str, str] = {}
    history = []
    for decision in decisions:
        if decision.chosen is None:
            continue
        if decision.chosen.source != CRM and decision.chosen.value != decision.current:
            apply.update(_values_to_apply(decision))
        if _is_new_winner(decision, last.get(decision.field)):
            history.append(_history_row(customer_id, decision, batch_id, decision.current))
    reason = "survivorship: " + ", ".join(
        f"{d.field} from {d.chosen.source} ({d.rule})"
        for d in decisions
        if d.chosen is not None and d.field in apply
    )
    return Outcome(apply, reason, history)


def refresh(session: Session, actor: Actor, *, customer_id: int, batch_id: int | None = None) -> list[str]:
    """Choose every decided field of an active golden record again; returns the fields that changed."""
    decided = _decide(session, customer_id)
    if decided is None or decided[0].status != "active":
        return []
    _golden, decisions, last = decided
    outcome = _outcome(customer_id, decisions, last, batch_id)
    changed: list[str] = []
    if outcome.apply:
        changed = customers.apply_source_values(
            session, actor, customer_id=customer_id, values=outcome.apply, reason=outcome.reason
        )
    repo.add_golden_changes(session, outcome.history)
    return changed


@dataclass
class DeliveryState:
    """What survivorship reads about the customers a delivery touches, read in a few queries before
    the delivery changes any source record, then kept as each record's decision would leave it."""

    owners: dict[int, int]  # customer a record is linked to -> the customer now standing for it
    golden: dict[int, customers.GoldenValues]
    records: dict[int, dict[tuple[str, str], RecordVersion]]  # by owner, then source and number
    last: dict[int, dict[str, Choice]]


def read_delivery_state(session: Session, linked_customer_ids: Iterable[int]) -> DeliveryState:
    owners = sourcing.current_customer_ids(session, linked_customer_ids)
    owner_ids = set(owners.values())
    aliases = sourcing.merged_aliases_of(session, owner_ids)
    by_customer: dict[int, list[RecordVersion]] = {}
    for row in repo.source_record_rows_of(session, {a for o in owner_ids for a in [o, *aliases[o]]}):
        version = RecordVersion(
            row.source_code, row.source_customer_no, json.loads(row.fields), row.received_at, row.id
        )
        by_customer.setdefault(row.customer_id, []).append(version)
    records = {}
    for owner in owner_ids:
        # A source record keeps the customer it first linked to; merged customers lend theirs to
        # the survivor, as in _decide.
        family = sorted(
            (r for customer_id in {owner, *aliases[owner]} for r in by_customer.get(customer_id, [])),
            key=lambda r: r.position,
        )
        records[owner] = {(r.source_code, r.source_customer_no): r for r in family}
    last = {
        owner: {name: Choice(row.source_code, row.value_digest, row.changed_at) for name, row in rows.items()}
        for owner, rows in repo.latest_golden_changes_of(session, owner_ids).items()
    }
    return DeliveryState(owners, sourcing.golden_values_of(session, owner_ids), records, last)


def refresh_delivery(
    session: Session,
    actor: Actor,
    state: DeliveryState,
    *,
    steps: list[tuple[int, RecordVersion]],
    batch_id: int,
) -> None:
    """``refresh`` after each of ``steps`` (a record of the delivery and the customer it is linked
    to), in order, as if each were written and decided one at a time: a later record of the same
    customer sees what the earlier ones changed. Decided in memory; the changes are applied through
    one customers-module call and the history written in one statement."""
    config, mappings = survivorship(), registry()
    changes: list[sourcing.SourceValues] = []
    history: list[dict[str, Any]] = []
    for linked_id, version in steps:
        owner = state.owners[linked_id]
        records = state.records.setdefault(owner, {})
        records[(version.source_code, version.source_customer_no)] = version
        golden = state.golden.get(owner)
        if golden is None or golden.status != "active":
            continue
        last = state.last.setdefault(owner, {})
        ordered = sorted(records.values(), key=lambda r: r.position)
        outcome = _outcome(owner, _decisions(golden, ordered, last, config, mappings), last, batch_id)
        now = utcnow()
        for row in outcome.history:
            row["changed_at"] = now  # the moment the decision's state below remembers, not a time per row
        history += outcome.history
        last.update({r["field"]: Choice(r["source_code"], r["value_digest"], now) for r in outcome.history})
        if outcome.apply:
            changes.append(sourcing.SourceValues(owner, outcome.apply, outcome.reason))
            state.golden[owner] = _after_applying(golden, outcome.apply, now)
    sourcing.apply_source_values_many(session, actor, changes)
    repo.add_golden_changes(session, history)


def _after_applying(
    golden: customers.GoldenValues, apply: dict[str, str], now: datetime
) -> customers.GoldenValues:
    """The golden values as ``apply_source_values`` leaves them (it skips blank and equal values)."""
    changed = {k: v for k, v in apply.items() if v and v != golden.values.get(k)}
    if not changed:
        return golden
    return replace(golden, values={**golden.values, **changed}, updated_at=now)


def record_first_values(customer_id: int, record: RecordVersion, batch_id: int) -> list[dict[str, Any]]:
    """History rows for a golden record just made from one source record: every field came from it.

    Returned rather than written so a batch adds them for all its new customers in one statement.
    The rows ``_history_row`` writes for a decision with this record's value as the only candidate,
    made without the decision: for a new customer that is a fifth of the delivery's work.
    """
    config = survivorship()
    rows = []
    for name in FIELDS:
        value = _first_value(name, record.fields)
        if value is not None:
            rows.append(
                {
                    "customer_id": customer_id,
                    "field": name,
                    "source_code": record.source_code,
                    "source_customer_no": record.source_customer_no,
                    "rule": config.rule_for(name),
                    "value_digest": _digest(name, value),
                    "value_masked": _masked(name, value) or "",
                    "previous_masked": None,
                    "batch_id": batch_id,
                }
            )
    return rows


def _first_value(name: str, fields: dict[str, Any]) -> str | None:
    """The value ``_source_candidate`` takes from ``fields`` for field ``name``, or None."""
    value = fields.get(name)
    if value in (None, ""):
        return None
    if name == "risk_level":
        assessed = fields.get("risk_assessed_on")
        return f"{value}@{assessed}" if assessed else None
    return str(value)


def add_history(session: Session, rows: list[dict[str, Any]]) -> None:
    """Write history rows made for a delivery, all stamped with the moment they are written: a
    time taken and stored per row was a twelfth of loading a delivery of new customers."""
    now = utcnow()
    for row in rows:
        row["changed_at"] = now
    repo.add_golden_changes(session, rows)


@dataclass(frozen=True)
class RuleView:
    field: str
    rule: str


def rules(principal: Principal) -> tuple[list[RuleView], int]:
    """The survivorship rule of every decided field, and the trust of a value entered in the CRM."""
    principal.require(Permission.INTEGRATION_READ)
    config = survivorship()
    return [RuleView(name, config.rule_for(name)) for name in FIELDS], config.crm_trust


# ---------------------------------------------------------------- the golden-record page


@dataclass(frozen=True)
class SourceValue:
    source: str
    source_customer_no: str | None
    value: str | None  # masked
    trust: int
    as_of: datetime
    dated: bool  # as_of is the source's own update time; otherwise when the record arrived
    chosen: bool


@dataclass(frozen=True)
class FieldView:
    field: str
    rule: str
    value: str | None  # the golden record's value, masked
    source: str | None  # where it came from
    sources: list[SourceValue]


@dataclass(frozen=True)
class HistoryEntry:
    field: str
    source: str
    source_customer_no: str | None
    rule: str
    value: str
    previous: str | None
    batch_id: int | None
    changed_at: datetime


@dataclass(frozen=True)
class GoldenRecordView:
    customer_id: int
    customer_no: str
    name: str  # as the viewer may see it
    status: str
    fields: list[FieldView]
    history: list[HistoryEntry]


def _field_view(decision: Decision, *, names_visible: bool) -> FieldView:
    """Values masked as everywhere; names in clear for a viewer who may see names (as on the 360°
    page). The history keeps what was stored at the time: masked, names included."""

    def shown(value: str | None) -> str | None:
        if names_visible and decision.field in NAME_FIELDS and value is not None:
            return value[:200]
        return _masked(decision.field, value)

    chosen = decision.chosen
    return FieldView(
        field=decision.field,
        rule=decision.rule,
        value=shown(decision.current),
        source=chosen.source if chosen is not None and chosen.value == decision.current else None,
        sources=[
            SourceValue(
                source=c.source,
                source_customer_no=c.source_customer_no,
                value=shown(c.value),
                trust=c.trust,
                as_of=c.as_of,
                dated=c.dated,
                chosen=c is chosen,
            )
            for c in sorted(decision.candidates, key=lambda c: (-c.trust, c.source))
        ],
    )


def golden_record(session: Session, principal: Principal, *, customer_id: int) -> GoldenRecordView:
    """A customer's golden record: per field its value, the sources' values and the rule that chose,
    and the history of the choices. Values masked (names as the viewer may see them); only for
    integration rights, within data scope."""
    principal.require(Permission.INTEGRATION_READ)
    customer = customers.get_customer(session, principal, customer_id=customer_id)  # 404 out of scope
    decided = _decide(session, customer.id)
    assert decided is not None
    _golden, decisions, _last = decided
    history = [
        HistoryEntry(
            field=row.field,
            source=row.source_code,
            source_customer_no=row.source_customer_no,
            rule=row.rule,
            value=row.value_masked,
            previous=row.previous_masked,
            batch_id=row.batch_id,
            changed_at=row.changed_at,
        )
        for row in repo.golden_history(session, customer.id, limit=HISTORY_SHOWN)
    ]
    return GoldenRecordView(
        customer_id=customer.id,
        customer_no=customer.customer_no,
        name=customer.name,  # already masked for this viewer
        status=customer.status,
        fields=[
            _field_view(d, names_visible=principal.can(Permission.CUSTOMER_NAME_VIEW)) for d in decisions
        ],
        history=history,
    )
