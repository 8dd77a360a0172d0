"""Probabilistic matching of source records with Splink (Fellegi-Sunter on DuckDB).

Deterministic keys come first (same ID type and number is already the same customer, at ingestion);
this job finds the rest: the same person entered with a typo in the ID, a new phone, a name in
traditional characters. Pairs at or above the auto-merge threshold merge their golden records at
once; pairs between the review and auto thresholds wait in a queue for a person. Every merge says
which fields agreed and the match weight, and is audited; an unmerge restores the records. A
reviewer's decision is remembered and never overturned by a later run.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
from splink import comparison_level_library as cll
from splink import comparison_library as cl
from sqlalchemy.orm import Session

from bankcrm.audit import service as audit
from bankcrm.core.config import get_settings
from bankcrm.core.context import Actor
from bankcrm.core.db import utcnow
from bankcrm.core.errors import NotFound, ValidationFailed
from bankcrm.core.i18n import N_
from bankcrm.core.logging import get_logger
from bankcrm.core.masking import MaskKind, mask
from bankcrm.core.pagination import Page, PageRequest
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.customers.service import customers, holdings, sourcing
from bankcrm.customers.service import merge as customer_merge
from bankcrm.integration import repository as repo
from bankcrm.integration.models import MatchCandidate, MatchRun, SourceRecord
from bankcrm.integration.names import name_reading
from bankcrm.integration.service import golden

log = get_logger(__name__)
# Splink reports every comparison level it could not train at WARNING; those notes belong in a
# model review, not in the application's log.
logging.getLogger("splink").setLevel(logging.ERROR)
COMPARED = ("name", "birth_date", "mobile", "email", "id_number", "address")
MIN_RECORDS = 10  # below this there is nothing to learn from
# A person has one resident ID number and a company one USCC: two golden records holding different
# numbers of one of these types are two parties, however alike their other fields.
SINGLE_DOCUMENT_TYPES = ("resident_id", "uscc")
Documents = dict[int, dict[str, set[str]]]


class CandidateNotFound(NotFound):
    code = "match-candidate-not-found"
    default_message = N_("Match candidate %(id)s does not exist.")


@dataclass
class MatchSummary:
    run_id: int
    records: int
    pairs: int
    auto_merged: int
    queued: int


@dataclass(frozen=True)
class LinkedRecord:
    """A source record as a matching run holds it: plain values, and of its fields only what is
    compared (a million records' whole fields took gigabytes)."""

    id: int
    source_code: str
    customer_id: int
    compared: dict[str, Any]  # ``_comparable`` of its fields


class CurrentOwners:
    """Which customer each customer now stands for, read once for the whole run and kept current
    through the run's own merges: asking the database for every pair cost a query each."""

    def __init__(self, session: Session, customer_ids: set[int]) -> None:
        self._survivor_of = {
            customer: current
            for customer, current in sourcing.current_customer_ids(session, customer_ids).items()
            if customer != current
        }

    def of(self, customer_id: int) -> int:
        seen = {customer_id}
        current = customer_id
        while (survivor := self._survivor_of.get(current)) is not None and survivor not in seen:
            seen.add(survivor)
            current = survivor
        if current != customer_id:
            self._survivor_of[customer_id] = current  # the next walk is one step
        return current

    def merged(self, gone: int, survivor: int) -> None:
        self._survivor_of[gone] = survivor


def _linked_records(session: Session) -> list[LinkedRecord]:
    # Readings remembered for this run only: most names recur, and each costs a pinyin lookup.
    reading = functools.cache(name_reading)
    return [
        LinkedRecord(
            int(row.id),
            str(row.source_code),
            int(row.customer_id),
            _comparable(json.loads(row.fields), reading),
        )
        for row in repo.linked_source_records(session)
    ]


def _row(record: LinkedRecord) -> dict[str, Any]:
    return {
        "unique_id": record.id,
        "source": record.source_code,
        "customer_id": record.customer_id,
        **record.compared,
    }


def _comparable(
    fields: dict[str, Any], reading: Callable[[str], str | None] = name_reading
) -> dict[str, Any]:
    """The values Splink compares, derived from a record's standardised fields."""
    name = fields.get("name") or ""
    address = fields.get("address") or ""
    return {
        "name": name or None,
        "pinyin": reading(name),
        "birth_date": fields.get("birth_date") or None,
        "mobile": fields.get("mobile") or None,
        "email": fields.get("email") or None,
        "id_type": fields.get("id_type") or None,
        "id_number": fields.get("id_number") or None,
        "address": address[:6] or None,  # province and city: finer parts change too often to compare
    }


def _identity_document() -> cl.CustomComparison:
    """Two numbers of the same document type that differ are strong evidence of two people; a
    passport number next to a resident ID number says nothing either way, so it weighs zero."""
    return cl.CustomComparison(
        output_column_name="id_number",
        comparison_levels=[
            cll.NullLevel("id_number"),
            cll.CustomLevel("id_type_l <> id_type_r", label_for_charts="different document types").configure(
                is_null_level=True
            ),
            cll.ExactMatchLevel("id_number"),
            # The same person rarely carries two valid numbers of one document type (check characters
            # stop most typos at the door), and deterministic matching has already joined every pair
            # that agrees, so the data cannot teach this level: fix it.
            cll.ElseLevel().configure(m_probability=0.001, fix_m_probability=True),
        ],
    )


def _name() -> cl.CustomComparison:
    """One comparison for the name and its reading. As two, a name written alike counted twice (the
    same characters always read alike), so two strangers called 王伟 with nothing else in common
    scored as high as a typo'd ID number and crowded the review queue. Term frequencies: sharing
    a common name says less than sharing a rare one."""
    return cl.CustomComparison(
        output_column_name="name",
        comparison_levels=[
            cll.NullLevel("name"),
            cll.ExactMatchLevel("name", term_frequency_adjustments=True),
            # 張偉民 / 张伟民 / ZHANG WEIMIN: written differently, read alike.
            cll.ExactMatchLevel("pinyin", term_frequency_adjustments=True),
            cll.JaroWinklerLevel("name", 0.8),  # a typo
            cll.ElseLevel(),
        ],
    )


def _settings() -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        # Blocking keeps comparisons near-linear: only records sharing one of these are ever compared.
        blocking_rules_to_generate_predictions=[
            block_on("birth_date"),
            block_on("mobile"),
            block_on("pinyin"),
            block_on("email"),
        ],
        comparisons=[
            # Few levels per comparison: every level must be seen in the data to be trained, and a
            # branch-sized delivery is small. Typos in names are caught by the similarity level.
            _name(),
            cl.ExactMatch("birth_date"),
            cl.ExactMatch("mobile"),
            cl.ExactMatch("email"),
            _identity_document(),
            cl.ExactMatch("address"),
        ],
        retain_intermediate_calculation_columns=True,
        additional_columns_to_retain=["customer_id"],
    )


@dataclass(frozen=True)
class ScoredPairs:
    total: int  # pairs at or above the review threshold
    # Those of them whose records are linked to two customers, each with its per-comparison
    # weights. The others (most: deterministic matching joined them at loading) are already one
    # golden record and stay in DuckDB: as Python dicts, a million records' pairs cost gigabytes.
    open: list[dict[str, Any]]


def predict_pairs(records: list[LinkedRecord], *, review_threshold: float) -> ScoredPairs:
    """Scored pairs above the review threshold."""
    table = pa.Table.from_pylist([_row(r) for r in records])
    # ERROR: Splink would otherwise set its loggers back to WARNING (see the top of this module).
    linker = Linker(DuckDBAPI().register(table), _settings(), log_level="ERROR")
    linker.training.estimate_probability_two_random_records_match([block_on("id_number")], recall=0.9)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e5, seed=1)
    for rule in (block_on("birth_date"), block_on("mobile")):
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
        except ValueError as exc:
            # A small delivery may never show some disagreement (every matched pair has the same
            # e-mail, say); Splink then cannot fit that level. Keep the other estimates.
            log.warning("match.training_step_skipped", rule=str(rule), why=str(exc)[:200])
    predictions = linker.inference.predict(threshold_match_probability=review_threshold)
    scored = predictions.as_pyarrow_table()  # type: ignore[no-untyped-call]
    apart = pc.not_equal(scored["customer_id_l"], scored["customer_id_r"])
    return ScoredPairs(total=scored.num_rows, open=scored.filter(apart).to_pylist())


def _explanation(pair: dict[str, Any]) -> dict[str, Any]:
    """Per comparison: the agreement level Splink chose and its weight, the name's including how
    common the name is (its term-frequency adjustment), so the weights add up to the pair's. The
    compared values are deliberately left out: the candidate row must not become a second copy of
    personal data."""
    return {
        name: {
            "level": pair.get(f"gamma_{name}"),
            "weight": round(
                float(pair.get(f"mw_{name}") or 0.0) + float(pair.get(f"mw_tf_adj_{name}") or 0.0), 2
            ),
        }
        for name in COMPARED
    }


def run_matching(session: Session, actor: Actor) -> MatchSummary:
    settings = get_settings()
    run = MatchRun(
        auto_threshold=settings.match_auto_threshold,
        review_threshold=settings.match_review_threshold,
        started_by=actor.username,
    )
    repo.add(session, run)
    session.flush()
    records = _linked_records(session)
    run.records = len(records)
    if len(records) >= MIN_RECORDS:
        scored = predict_pairs(records, review_threshold=settings.match_review_threshold)
        run.pairs = scored.total
        by_id = {record.id: record for record in records}
        owners = CurrentOwners(session, {record.customer_id for record in records})
        documents = _documents(records, owners.of)
        merged = MergedInRun()
        for pair in sorted(scored.open, key=lambda p: -float(p["match_probability"])):
            _consider(session, actor, run, pair, by_id, owners, documents, merged)
        _refresh_merged(session, actor, merged, owners)
    run.finished_at = utcnow()
    session.flush()
    audit.record_event(
        session,
        actor,
        action="match_run",
        entity_type="match_run",
        entity_id=run.id,
        details={
            "records": run.records,
            "pairs": run.pairs,
            "auto_merged": run.auto_merged,
            "queued": run.queued,
        },
    )
    return MatchSummary(
        run_id=run.id, records=run.records, pairs=run.pairs, auto_merged=run.auto_merged, queued=run.queued
    )


@dataclass
class MergedInRun:
    """The customers a run's merges touched, refreshed once each when the run has merged them all
    (figures and search keys of both sides, the golden values of the survivors): a survivor taking
    in several records was otherwise refreshed after each."""

    customers: set[int] = dataclasses.field(default_factory=set)

    def add(self, survivor: int, gone: int) -> None:
        self.customers.update((survivor, gone))


def _refresh_merged(session: Session, actor: Actor, merged: MergedInRun, owners: CurrentOwners) -> None:
    holdings.refresh_figures_of(session, merged.customers)
    for customer_id in sorted(merged.customers):
        if owners.of(customer_id) == customer_id:  # still a golden record after the run
            golden.refresh(session, actor, customer_id=customer_id)


def _same_customer(customer_id: int) -> int:
    return customer_id


def _documents(records: list[LinkedRecord], owner_of: Callable[[int], int] = _same_customer) -> Documents:
    """Per golden record (``owner_of`` a record's customer: the one it now stands for, through
    merges), the numbers of each single-document type its source records carry."""
    documents: Documents = {}
    for record in records:
        fields = record.compared
        if fields.get("id_type") in SINGLE_DOCUMENT_TYPES and fields.get("id_number"):
            owner = owner_of(record.customer_id)
            held = documents.setdefault(owner, {})
            held.setdefault(str(fields["id_type"]), set()).add(str(fields["id_number"]))
    return documents


def _documents_conflict(documents: Documents, left: int, right: int) -> bool:
    a, b = documents.get(left, {}), documents.get(right, {})
    return any(kind in b and not numbers & b[kind] for kind, numbers in a.items())


def _consider(
    session: Session,
    actor: Actor,
    run: MatchRun,
    pair: dict[str, Any],
    by_id: dict[int, LinkedRecord],
    current: CurrentOwners,
    documents: Documents,
    merged_in_run: MergedInRun,
) -> None:
    left, right = sorted((int(pair["unique_id_l"]), int(pair["unique_id_r"])))
    a, b = by_id[left], by_id[right]
    # Records keep the customer they first linked to: compare the customers those now stand for.
    owners = (current.of(a.customer_id), current.of(b.customer_id))
    if owners[0] == owners[1]:
        return
    earlier = repo.find_candidate(session, left, right)
    if earlier is not None and earlier.status in ("accepted", "rejected", "auto_merged"):
        return  # a decision already stands; a later run never overturns it
    probability = float(pair["match_probability"])
    candidate = earlier or MatchCandidate(
        run_id=run.id,
        left_record_id=left,
        right_record_id=right,
        match_weight=0.0,
        match_probability=0.0,
        explanation="{}",
        status="pending",
    )
    candidate.run_id = run.id
    candidate.match_weight = round(float(pair["match_weight"]), 3)
    candidate.match_probability = probability
    candidate.explanation = json.dumps(_explanation(pair), ensure_ascii=False, default=str)
    if earlier is None:
        repo.add(session, candidate)
    session.flush()
    # A pair can agree on everything it compares (a passport registration: name and its reading)
    # while its golden records already hold two different resident ID numbers through their other
    # sources; merging those would join two people, and through them everyone they were joined to.
    # A person decides such a pair.
    if probability >= run.auto_threshold and not _documents_conflict(documents, *owners):
        survivor, gone = sorted(owners)
        merged = _merge_golden(session, actor, owners, candidate, approved_by=None, run=merged_in_run)
        if merged:
            candidate.status = "auto_merged"
            run.auto_merged += 1
            current.merged(gone, survivor)
            for kind, numbers in documents.pop(gone, {}).items():
                documents.setdefault(survivor, {}).setdefault(kind, set()).update(numbers)
    else:
        run.queued += 1


def _owners(session: Session, a: SourceRecord, b: SourceRecord) -> tuple[int, int] | None:
    """The customers two records now stand for (through merges), or None when either has none."""
    if a.customer_id is None or b.customer_id is None:
        return None
    return (
        customers.current_customer_id(session, a.customer_id),
        customers.current_customer_id(session, b.customer_id),
    )


def _merge_golden(
    session: Session,
    actor: Actor,
    owners: tuple[int, int],
    candidate: MatchCandidate,
    *,
    approved_by: int | None,
    run: MergedInRun | None = None,
) -> bool:
    """Merge the younger golden record into the older; within a matching ``run`` the refreshes wait
    for the end of the run."""
    survivor, merged = sorted(owners)  # the older golden record survives
    reason = (
        f"record matching: weight {candidate.match_weight}, probability "
        f"{candidate.match_probability:.4f} (candidate {candidate.id})"
    )
    result = customer_merge.system_merge(
        session,
        actor,
        survivor_id=survivor,
        merged_id=merged,
        reason=reason,
        approved_by=approved_by,
        refresh_figures=run is None,
    )
    if result is None:
        return False
    candidate.merge_request_id = result.id
    session.flush()
    if run is not None:
        run.add(survivor, merged)
    else:
        # The survivor now has more sources: each field is chosen again among all of them.
        golden.refresh(session, actor, customer_id=survivor)
    return True


# What a reviewer compares, and how each value is masked on the way to the page. The name's
# reading is what lets 张伟民 and ZHANG WEIMIN be weighed as one name.
SHOWN_FIELDS: dict[str, MaskKind | None] = {
    "name": MaskKind.NAME,
    "pinyin": MaskKind.GENERIC,
    "id_type": None,
    "id_number": MaskKind.ID_NUMBER,
    "birth_date": None,
    "mobile": MaskKind.MOBILE,
    "email": MaskKind.EMAIL,
    "address": MaskKind.ADDRESS,
}


@dataclass(frozen=True)
class FieldComparison:
    """One line of the side-by-side view: masked values, whether the clear values agree, the weight."""

    field: str
    left: str | None
    right: str | None
    agreement: str  # same | differs | blank | not_comparable
    weight: float | None


@dataclass(frozen=True)
class CandidateView:
    id: int
    probability: float
    weight: float
    status: str
    left_source: str
    right_source: str
    left_customer_id: int | None
    right_customer_id: int | None
    fields: list[FieldComparison]


def _masked(kind: MaskKind | None, value: Any) -> str | None:
    if value in (None, ""):
        return None
    return str(value) if kind is None else mask(kind, str(value))


def _agreement(field: str, a: Any, b: Any, left: dict[str, Any], right: dict[str, Any]) -> str:
    if a is None or b is None:
        return "blank"
    if field == "id_number" and left.get("id_type") != right.get("id_type"):
        return "not_comparable"  # a passport number next to an ID card number
    return "same" if str(a) == str(b) else "differs"


def _compare(
    left: dict[str, Any], right: dict[str, Any], explanation: dict[str, Any]
) -> list[FieldComparison]:
    """Compare what Splink compared (the address only to the city), but show every field the page lists."""
    compared_left, compared_right = _comparable(left), _comparable(right)
    lines = []
    for field, kind in SHOWN_FIELDS.items():
        a = compared_left.get(field) if field in compared_left else left.get(field) or None
        b = compared_right.get(field) if field in compared_right else right.get(field) or None
        shown_a = a if field == "pinyin" else left.get(field) or None
        shown_b = b if field == "pinyin" else right.get(field) or None
        lines.append(
            FieldComparison(
                field=field,
                left=_masked(kind, shown_a),
                right=_masked(kind, shown_b),
                agreement=_agreement(field, a, b, left, right),
                weight=explanation.get(field, {}).get("weight"),
            )
        )
    return _name_weight_where_earned(lines, explanation)


def _name_weight_where_earned(
    lines: list[FieldComparison], explanation: dict[str, Any]
) -> list[FieldComparison]:
    """The name and its reading are one comparison; when the characters differ but the readings
    agree (张伟民 and ZHANG WEIMIN), its weight was earned by the reading and is shown on that line.
    (Explanations stored before the two were one comparison weigh the reading on its own.)"""
    by_field = {line.field: line for line in lines}
    name, reading = by_field.get("name"), by_field.get("pinyin")
    if "pinyin" in explanation or name is None or reading is None:
        return lines
    if name.agreement != "differs" or reading.agreement != "same":
        return lines
    moved = {
        "name": dataclasses.replace(name, weight=None),
        "pinyin": dataclasses.replace(reading, weight=name.weight),
    }
    return [moved.get(line.field, line) for line in lines]


def _view(session: Session, candidate: MatchCandidate) -> CandidateView:
    left = repo.get_source_record(session, candidate.left_record_id)
    right = repo.get_source_record(session, candidate.right_record_id)
    assert left is not None
    assert right is not None
    return CandidateView(
        id=candidate.id,
        probability=candidate.match_probability,
        weight=candidate.match_weight,
        status=candidate.status,
        left_source=left.source_code,
        right_source=right.source_code,
        left_customer_id=left.customer_id,
        right_customer_id=right.customer_id,
        fields=_compare(json.loads(left.fields), json.loads(right.fields), json.loads(candidate.explanation)),
    )


def review_queue(
    session: Session, principal: Principal, *, status: str, page: PageRequest
) -> Page[CandidateView]:
    principal.require(Permission.INTEGRATION_READ)
    rows = repo.candidates(session, status=status, offset=page.offset, limit=page.size)
    return Page(
        items=[_view(session, row) for row in rows],
        total=repo.count_candidates(session, status=status),
        page=page.page,
        size=page.size,
    )


def decide(session: Session, principal: Principal, *, candidate_id: int, accept: bool) -> CandidateView:
    """A reviewer's verdict: accept merges the two golden records; reject keeps them apart for good."""
    principal.require(Permission.INTEGRATION_READ)
    principal.require(Permission.MATCH_REVIEW)
    candidate = repo.get_candidate(session, candidate_id)
    if candidate is None:
        raise CandidateNotFound(id=candidate_id)
    if candidate.status != "pending":
        raise ValidationFailed.single(
            "status", "match.decided", N_("This pair was already decided."), candidate.status
        )
    candidate.decided_by = principal.user_id
    candidate.decided_at = utcnow()
    candidate.status = "accepted" if accept else "rejected"
    if accept:
        left = repo.get_source_record(session, candidate.left_record_id)
        right = repo.get_source_record(session, candidate.right_record_id)
        assert left is not None
        assert right is not None
        owners = _owners(session, left, right)
        if owners is not None and owners[0] != owners[1]:
            _merge_golden(session, principal.actor, owners, candidate, approved_by=principal.user_id)
    session.flush()
    audit.record_event(
        session,
        principal.actor,
        action="accept" if accept else "reject",
        entity_type="match_candidate",
        entity_id=candidate.id,
        details={"probability": candidate.match_probability, "weight": candidate.match_weight},
    )
    return _view(session, candidate)
