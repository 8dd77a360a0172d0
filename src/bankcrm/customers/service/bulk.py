"""Loading many customers at once (integration batches, the synthetic bank).

Every record goes through the same validation as a customer typed in by hand; a record that fails is
reported with its index, field, value and rule and the rest are loaded. Rows are inserted in batches
with one statement per table, and the batch leaves one audit row naming the job and the count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from bankcrm.audit import service as audit
from bankcrm.core.context import Actor
from bankcrm.core.db import utcnow
from bankcrm.core.errors import FieldProblem, ProblemCollector, problems_from_pydantic
from bankcrm.core.formatting import business_today
from bankcrm.core.i18n import N_
from bankcrm.customers import repository as repo
from bankcrm.customers.keys import customer_keys
from bankcrm.customers.models import Address, ContactPoint, CustomerSearchKey, RmAssignment
from bankcrm.customers.schemas import CustomerCreate
from bankcrm.customers.service.common import id_digest
from bankcrm.customers.service.customers import customer_number, validate_fields
from bankcrm.customers.service.holdings import tier_for

REPEATED_IN_BATCH = N_("The same ID number appears earlier in this batch.")
ALREADY_CUSTOMER = N_("A customer with this ID number already exists.")


@dataclass(frozen=True)
class CustomerRecord:
    """One customer to load: the same fields as the create form, plus where it belongs."""

    fields: dict[str, Any]
    org_unit_id: int
    primary_rm_id: int | None = None
    # Assets under management when the loader already knows them (the synthetic bank, which then
    # records the accounts that hold them); stored with the tier they imply.
    aum: Decimal = Decimal(0)


@dataclass(frozen=True)
class Rejected:
    index: int
    field: str
    value: Any
    rule: str
    message: str


@dataclass
class BulkResult:
    loaded_ids: list[int] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


def _validated(
    index: int, record: CustomerRecord, seen_digests: set[str], result: BulkResult
) -> tuple[CustomerCreate, dict[str, Any], str] | None:
    try:
        data = CustomerCreate.model_validate({**record.fields, "confirm_not_duplicate": True})
    except ValidationError as exc:
        result.rejected.extend(_rejections(index, problems_from_pydantic(exc)))
        return None
    problems = ProblemCollector()
    clean = validate_fields(data.kind, data, problems)
    digest = id_digest(data.id_type, clean["id_number"])
    if digest in seen_digests:
        problems.add("id_number", "customer.id_repeated", REPEATED_IN_BATCH, None)
    if problems.problems:
        result.rejected.extend(_rejections(index, problems.problems))
        return None
    seen_digests.add(digest)
    return data, clean, digest


def _rejections(index: int, problems: Sequence[FieldProblem]) -> list[Rejected]:
    return [
        Rejected(index=index, field=p.field, value=p.value, rule=p.rule, message=p.message) for p in problems
    ]


def load_customers(
    session: Session, actor: Actor, records: Sequence[CustomerRecord], *, batch_label: str
) -> BulkResult:
    """Validate and insert ``records``; the caller's transaction makes the batch all-or-nothing."""
    result = BulkResult()
    seen: set[str] = set()
    positions: list[int] = []
    accepted: list[tuple[CustomerCreate, dict[str, Any], str, CustomerRecord]] = []
    for index, record in enumerate(records):
        checked = _validated(index, record, seen, result)
        if checked is None:
            continue
        data, clean, digest = checked
        accepted.append((data, clean, digest, record))
        positions.append(index)
    existing = repo.existing_id_digests(session, [digest for _data, _clean, digest, _record in accepted])
    keep = []
    for index, item in zip(positions, accepted, strict=True):
        if item[2] in existing:
            result.rejected.append(
                Rejected(
                    index=index,
                    field="id_number",
                    value=None,
                    rule="customer.id_unique",
                    message=ALREADY_CUSTOMER,
                )
            )
        else:
            keep.append(item)
    if not keep:
        return result
    first = repo.reserve_customer_numbers(session, len(keep))
    now = utcnow()
    rows = [
        _customer_row(data, clean, digest, record, customer_number(first + i), now)
        for i, (data, clean, digest, record) in enumerate(keep)
    ]
    ids = repo.insert_customers(session, rows)
    _insert_children(session, ids, keep, rows)
    result.loaded_ids = ids
    audit.record_event(
        session,
        actor,
        action="bulk_load",
        entity_type="customer",
        details={
            "batch": batch_label,
            "loaded": len(ids),
            "rejected": len(result.rejected),
            "first_customer_no": rows[0]["customer_no"],
        },
    )
    return result


def _customer_row(
    data: CustomerCreate, clean: dict[str, Any], digest: str, record: CustomerRecord, number: str, now: Any
) -> dict[str, Any]:
    return {
        "customer_no": number,
        "kind": data.kind,
        "status": "active",
        "name": data.name,
        "name_en": data.name_en,
        "id_type": data.id_type,
        "id_number": clean["id_number"],
        "id_digest": digest,
        "birth_date": clean["birth_date"],
        "gender": clean["gender"],
        "nationality": data.nationality,
        "occupation": data.occupation,
        "income_band": data.income_band,
        "industry": data.industry,
        "registered_capital": data.registered_capital,
        "mobile": clean["mobile"],
        "risk_level": data.risk_level,
        "risk_assessed_on": data.risk_assessed_on,
        "tier": tier_for(record.aum),
        "aum": record.aum,
        "do_not_contact": False,
        "org_unit_id": record.org_unit_id,
        "primary_rm_id": record.primary_rm_id,
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }


def _insert_children(session: Session, ids: list[int], keep: list[Any], rows: list[dict[str, Any]]) -> None:
    today = business_today()
    contacts: list[dict[str, object]] = []
    addresses: list[dict[str, object]] = []
    assignments: list[dict[str, object]] = []
    keys: list[tuple[str, int]] = []
    for customer_id, (data, clean, _digest, record), row in zip(ids, keep, rows, strict=True):
        for kind in ("mobile", "email"):
            if clean[kind]:
                contacts.append(
                    {
                        "customer_id": customer_id,
                        "kind": kind,
                        "value": clean[kind],
                        "is_primary": True,
                        "valid_from": today,
                        "source": "load",
                    }
                )
        if data.address:
            addresses.append(
                {
                    "customer_id": customer_id,
                    "kind": "home" if data.kind == "individual" else "registered",
                    "line": data.address,
                    "valid_from": today,
                    "source": "load",
                }
            )
        if record.primary_rm_id is not None:
            assignments.append(
                {
                    "customer_id": customer_id,
                    "user_id": record.primary_rm_id,
                    "role": "primary",
                    "valid_from": today,
                }
            )
        for key in customer_keys(
            name=data.name,
            name_en=data.name_en,
            mobile=clean["mobile"],
            id_digest=row["id_digest"],
            customer_no=row["customer_no"],
        ):
            keys.append((key, customer_id))
    repo.insert_rows(session, ContactPoint, contacts)
    repo.insert_rows(session, Address, addresses)
    repo.insert_rows(session, RmAssignment, assignments)
    # In key order: the index takes them a quarter faster than in the random order of the sets.
    keys.sort()
    repo.insert_rows(session, CustomerSearchKey, [{"key": key, "customer_id": c} for key, c in keys])
