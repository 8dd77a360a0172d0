"""Data quality of every delivery: completeness, validity, uniqueness and freshness per field.

The figures are measured once, while a batch loads, from the standardised records (so a full-width
phone number that was normalised counts as valid) and kept per batch: a source's trend is simply its
last batches side by side. The records behind a bad figure are the batch rejects of that field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bankcrm.core.db import utcnow
from bankcrm.core.errors import NotFound
from bankcrm.core.formatting import format_datetime
from bankcrm.core.i18n import N_
from bankcrm.core.pagination import Page, PageRequest
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.integration import repository as repo
from bankcrm.integration.journal import FieldTally
from bankcrm.integration.mapping import KINDS, Mapping, registry
from bankcrm.integration.models import Batch, FieldQuality
from bankcrm.integration.records import CleanRecord
from bankcrm.integration.schemas import FieldRejectOut

# Fields whose newest value says how current a delivery is.
TIMESTAMP_FIELDS = frozenset({"updated_at", "booked_at", "risk_assessed_on"})
TREND_BATCHES = 12


class SourceNotFound(NotFound):
    code = "source-not-found"
    default_message = N_("There is no source %(id)s.")


class FieldNotFound(NotFound):
    code = "field-not-found"
    default_message = N_("There is no field %(id)s in this source's records.")


def measure(batch: Batch, mapping: Mapping, records: list[CleanRecord]) -> list[dict[str, Any]]:
    """One row of figures per mapped field, counted over every record read (rejected ones too).

    Field by field over all records (a value's text: ISO for dates and times, else ``str``); the
    few records with problems are looked at again for validity.
    """
    with_problems = [(r.fields, {problem.field for problem in r.problems}) for r in records if r.problems]
    rows = []
    for name in _mapped_fields(mapping):
        present = [value for record in records if (value := record.fields.get(name)) not in (None, "")]
        texts = {value if type(value) is str else _text(value) for value in present}
        invalid = sum(
            1 for fields, broken in with_problems if name in broken and fields.get(name) not in (None, "")
        )
        newest = max(texts, default="") if name in TIMESTAMP_FIELDS else ""
        rows.append(
            {
                "batch_id": batch.id,
                "source_code": mapping.code,
                "field": name,
                "records": len(records),
                "filled": len(present),
                "valid": len(present) - invalid,
                "distinct_values": len(texts),
                "newest": newest[:32] or None,
            }
        )
    return rows


def _text(value: Any) -> str:
    return str(value.isoformat() if hasattr(value, "isoformat") else value)


def mapped_fields(mapping: Mapping) -> list[str]:
    """The canonical fields in the order the mapping file lists their columns (how its owner reads it)."""
    return list(dict.fromkeys(mapping.columns.values()))


_mapped_fields = mapped_fields


def record_measures(session: Session, batch: Batch, mapping: Mapping, records: list[CleanRecord]) -> None:
    repo.add_field_quality(session, measure(batch, mapping, records))


def measures_from_tallies(
    batch: Batch, mapping: Mapping, records: int, tallies: dict[str, FieldTally]
) -> list[dict[str, Any]]:
    """``measure``'s rows from a journal's per-field counts, added up batch by batch as it loaded."""
    rows = []
    for name in mapped_fields(mapping):
        tally = tallies.get(name, FieldTally())
        rows.append(
            {
                "batch_id": batch.id,
                "source_code": mapping.code,
                "field": name,
                "records": records,
                "filled": tally.filled,
                "valid": tally.valid,
                "distinct_values": tally.distinct_count(),
                "newest": tally.newest[:32] or None,
            }
        )
    return rows


def record_tallies(session: Session, batch: Batch, mapping: Mapping, tallies: dict[str, FieldTally]) -> None:
    repo.add_field_quality(session, measures_from_tallies(batch, mapping, batch.read_count, tallies))


@dataclass(frozen=True)
class FieldFigures:
    """A field's figures in one batch, as shares from 0 to 1 (None when there is nothing to divide)."""

    field: str
    batch_id: int
    records: int
    completeness: float | None
    validity: float | None
    invalid: int  # filled but failing a rule: the records behind the validity figure
    uniqueness: float | None  # only for the fields the mapping expects to be unique
    duplicates: int | None
    newest: str | None  # ISO text: a UTC timestamp for time fields, a day for date fields

    @property
    def newest_local(self) -> str | None:
        """The newest value as the bank reads it: timestamps in business time."""
        if self.newest is None or "T" not in self.newest:
            return self.newest
        return format_datetime(datetime.fromisoformat(self.newest))


@dataclass(frozen=True)
class SourceQuality:
    code: str
    name: str
    kind: str
    last_batch: Batch | None
    expected_every_hours: int
    hours_since_delivery: float | None
    late: bool
    completeness: float | None  # mean over the mapped fields, latest batch
    validity: float | None
    fields: list[FieldFigures]  # latest batch


@dataclass(frozen=True)
class Trend:
    """Per field, its figures in the source's recent batches, oldest first (for charts)."""

    batches: list[Batch]
    completeness: dict[str, list[float | None]]
    validity: dict[str, list[float | None]]


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _figures(row: FieldQuality, mapping: Mapping) -> FieldFigures:
    unique = row.field in mapping.unique
    return FieldFigures(
        field=row.field,
        batch_id=row.batch_id,
        records=row.records,
        completeness=_share(row.filled, row.records),
        validity=_share(row.valid, row.filled),
        invalid=row.filled - row.valid,
        uniqueness=_share(row.distinct_values, row.filled) if unique else None,
        duplicates=row.filled - row.distinct_values if unique else None,
        newest=row.newest,
    )


def _figures_in_mapping_order(rows: list[FieldQuality], mapping: Mapping) -> list[FieldFigures]:
    order = {name: index for index, name in enumerate(_mapped_fields(mapping))}
    ranked = sorted(rows, key=lambda row: (order.get(row.field, len(order)), row.field))
    return [_figures(row, mapping) for row in ranked]


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(sum(present) / len(present), 4) if present else None


def _hours_since(moment: datetime | None, now: datetime) -> float | None:
    return None if moment is None else round((now - moment) / timedelta(hours=1), 1)


def _source_quality(session: Session, mapping: Mapping, now: datetime) -> SourceQuality:
    recent = repo.recent_loaded_batches(session, mapping.code, limit=1)
    last = recent[0] if recent else None
    rows = repo.field_quality_of(session, [last.id]) if last else []
    figures = _figures_in_mapping_order(rows, mapping)
    since = _hours_since(last.finished_at if last else None, now)
    return SourceQuality(
        code=mapping.code,
        name=mapping.name,
        kind=mapping.kind,
        last_batch=last,
        expected_every_hours=mapping.expected_every_hours,
        hours_since_delivery=since,
        late=since is None or since > mapping.expected_every_hours,
        completeness=_mean([f.completeness for f in figures]),
        validity=_mean([f.validity for f in figures]),
        fields=figures,
    )


def _mapping(code: str) -> Mapping:
    found = registry().get(code)
    if found is None:
        raise SourceNotFound(id=code)
    return found


def overview(session: Session, principal: Principal) -> list[SourceQuality]:
    """Every source: how current its last delivery is, and its figures per field."""
    principal.require(Permission.INTEGRATION_READ)
    now = utcnow()
    return [_source_quality(session, mapping, now) for mapping in registry().values()]


def source_quality(session: Session, principal: Principal, *, source: str) -> SourceQuality:
    principal.require(Permission.INTEGRATION_READ)
    return _source_quality(session, _mapping(source), utcnow())


def trend(session: Session, principal: Principal, *, source: str, batches: int = TREND_BATCHES) -> Trend:
    principal.require(Permission.INTEGRATION_READ)
    mapping = _mapping(source)
    recent = list(reversed(repo.recent_loaded_batches(session, source, limit=batches)))
    position = {batch.id: index for index, batch in enumerate(recent)}
    completeness: dict[str, list[float | None]] = {}
    validity: dict[str, list[float | None]] = {}
    for row in repo.field_quality_of(session, position):
        figures = _figures(row, mapping)
        completeness.setdefault(row.field, [None] * len(recent))[position[row.batch_id]] = (
            figures.completeness
        )
        validity.setdefault(row.field, [None] * len(recent))[position[row.batch_id]] = figures.validity
    return Trend(batches=recent, completeness=completeness, validity=validity)


def failing_records(
    session: Session, principal: Principal, *, source: str, field: str, page: PageRequest
) -> Page[FieldRejectOut]:
    """The rejected records of one field of one source, newest batch first (values masked at load)."""
    principal.require(Permission.INTEGRATION_READ)
    if field not in KINDS[_mapping(source).kind]:
        raise FieldNotFound(id=field)
    rows = repo.rejects_for_field(session, source, field, offset=page.offset, limit=page.size)
    return Page(
        items=[FieldRejectOut.model_validate(row) for row in rows],
        total=repo.count_rejects_for_field(session, source, field),
        page=page.page,
        size=page.size,
    )


def batch_figures(session: Session, principal: Principal, *, batch: Batch) -> list[FieldFigures]:
    """The figures of one batch (the batch page shows them under its counts)."""
    principal.require(Permission.INTEGRATION_READ)
    mapping = registry().get(batch.source_code)
    if mapping is None:  # a source whose mapping was removed since: its batches keep their counts
        return []
    return _figures_in_mapping_order(repo.field_quality_of(session, [batch.id]), mapping)
