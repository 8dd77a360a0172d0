"""Customers: create, edit, deactivate, find, show (masked), reveal (audited), export (audited)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy.orm import Session

from bankcrm.audit import service as audit
from bankcrm.core.context import Actor
from bankcrm.core.db import utcnow
from bankcrm.core.errors import FieldProblem, ProblemCollector, ValidationFailed
from bankcrm.core.formatting import business_today, format_datetime
from bankcrm.core.i18n import N_
from bankcrm.core.masking import MaskKind, mask
from bankcrm.core.pagination import Page, PageRequest
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.core.validation import (
    IdentifierError,
    normalise_email,
    normalise_mobile,
    parse_resident_id,
    parse_uscc,
    to_half_width,
)
from bankcrm.customers import repository as repo
from bankcrm.customers.keys import QueryPart, parse_query, whole_names_only
from bankcrm.customers.models import Address, Consent, ContactPoint, Customer
from bankcrm.customers.repository import ListQuery, Scope
from bankcrm.customers.schemas import (
    CORPORATE_ID_TYPES,
    INDIVIDUAL_ID_TYPES,
    CustomerCreate,
    CustomerDetail,
    CustomerFields,
    CustomerFilter,
    CustomerHeader,
    CustomerSummary,
    CustomerUpdate,
    DuplicateCandidate,
    PortfolioSummary,
    RevealIn,
    RevealOut,
)
from bankcrm.customers.service.common import (
    ENTITY,
    RISK_ASSESSMENT_VALID_DAYS,
    SENIOR_AGE,
    age_on,
    check_version,
    id_digest,
    masked_address,
    masked_email,
    masked_id,
    masked_mobile,
    readable_customer,
    refresh_search_keys,
    scope_of,
    shown_name,
)
from bankcrm.customers.service.errors import CustomerNotFound, LikelyDuplicates
from bankcrm.customers.service.merge import void_pending_merges
from bankcrm.customers.service.portfolio import start_primary_assignment
from bankcrm.identity.service import orgs, users

# A list says "more than 50,000" rather than counting every match: an exact count of a broad filter
# over a million customers costs more than the page (docs/benchmarks.md, budget k). 50,000 covers
# 2,000 pages of 25, beyond any page anyone opens by hand.
LIST_COUNT_CAP = 50_000

SENSITIVE = {
    "id_number": MaskKind.ID_NUMBER,
    "mobile": MaskKind.MOBILE,
    "email": MaskKind.EMAIL,
    "address": MaskKind.ADDRESS,
}


# ---------------------------------------------------------------- validation


def customer_number(sequence: int) -> str:
    """The bank-wide customer number shown to staff: ``C`` and ten digits."""
    return f"C{sequence:010d}"


def validate_fields(kind: str, data: CustomerFields, problems: ProblemCollector) -> dict[str, Any]:
    """Check the identifiers and dates of DOMAIN.md; return the normalised values."""
    today = business_today()
    clean: dict[str, Any] = {"birth_date": data.birth_date, "gender": data.gender}
    allowed = INDIVIDUAL_ID_TYPES if kind == "individual" else CORPORATE_ID_TYPES
    if data.id_type not in allowed:
        problems.add(
            "id_type",
            "customer.id_type_for_kind",
            N_("This kind of ID does not fit a %(kind)s customer."),
            data.id_type,
            kind=kind,
        )
    number = to_half_width(data.id_number).strip().upper()
    if data.id_type == "resident_id":
        try:
            resident = parse_resident_id(number, today=today)
        except IdentifierError as exc:
            problems.add("id_number", exc.rule, exc.message, data.id_number)
        else:
            number = resident.number
            if data.birth_date and data.birth_date != resident.birth_date:
                problems.add(
                    "birth_date",
                    "id.birth_date_mismatch",
                    N_("The birth date differs from the one in the ID number (%(derived)s)."),
                    data.birth_date.isoformat(),
                    derived=resident.birth_date.isoformat(),
                )
            if data.gender and data.gender != resident.gender:
                problems.add(
                    "gender",
                    "id.gender_mismatch",
                    N_("The gender differs from the one in the ID number."),
                    data.gender,
                )
            clean["birth_date"], clean["gender"] = resident.birth_date, resident.gender
    elif data.id_type == "uscc":
        try:
            number = parse_uscc(number)
        except IdentifierError as exc:
            problems.add("id_number", exc.rule, exc.message, data.id_number)
    elif len(number) < 5:
        problems.add(
            "id_number", "id.length_other", N_("An ID number has at least 5 characters."), data.id_number
        )
    clean["id_number"] = number
    if clean["birth_date"] and clean["birth_date"] > today:
        problems.add(
            "birth_date",
            "date.future",
            N_("A birth date cannot be in the future."),
            clean["birth_date"].isoformat(),
        )
    if data.risk_assessed_on and data.risk_assessed_on > today:
        problems.add(
            "risk_assessed_on",
            "date.future",
            N_("The assessment date cannot be in the future."),
            data.risk_assessed_on.isoformat(),
        )
    if data.risk_level and not data.risk_assessed_on:
        problems.add(
            "risk_assessed_on",
            "risk.date_required",
            N_("Give the date of the risk questionnaire with its result."),
        )
    clean["mobile"] = _clean_contact(problems, "mobile", data.mobile, normalise_mobile)
    clean["email"] = _clean_contact(problems, "email", data.email, normalise_email)
    if kind == "corporate" and data.registered_capital is None:
        clean["registered_capital"] = None
    return clean


def _clean_contact(problems: ProblemCollector, field: str, value: str | None, normalise: Any) -> str | None:
    if not value:
        return None
    try:
        return str(normalise(value))
    except IdentifierError as exc:
        problems.add(field, exc.rule, exc.message, value)
        return None


def _placement(
    session: Session,
    principal: Principal,
    problems: ProblemCollector,
    *,
    org_unit_id: int | None,
    primary_rm_id: int | None,
) -> tuple[int, int | None]:
    unit_id = org_unit_id or principal.org_unit_id
    scope_units = orgs.scope_unit_ids(session, principal)
    if (
        scope_units is not None and unit_id not in scope_units and unit_id != principal.org_unit_id
    ) or not orgs.is_open_unit(session, unit_id):
        problems.add(
            "org_unit_id", "customer.org_unit", N_("Choose an open unit within your data scope."), unit_id
        )
    rm_id = primary_rm_id
    if rm_id is None and principal.role == "relationship_manager":
        rm_id = principal.user_id
    if rm_id is not None:
        owner = users.portfolio_owner(session, rm_id)
        if owner is None:
            problems.add(
                "primary_rm_id",
                "customer.rm_role",
                N_("User %(id)s cannot hold a customer portfolio."),
                rm_id,
                id=rm_id,
            )
        elif not owner.is_active:
            problems.add(
                "primary_rm_id", "customer.rm_active", N_("The relationship manager is disabled."), rm_id
            )
    return unit_id, rm_id


# ---------------------------------------------------------------- duplicates


def find_duplicates(
    session: Session,
    principal: Principal,
    *,
    name: str,
    mobile: str | None,
    birth: Any,
    exclude_id: int | None,
) -> tuple[list[DuplicateCandidate], int]:
    """Likely duplicates by name similarity, mobile and birth date: (those in scope, count outside)."""
    parsed = parse_query(name)
    candidates: dict[int, Customer] = {}
    if parsed.alternatives:
        ids = repo.ids_matching([p for p in parsed.alternatives if p.key.startswith(("n:", "p:"))])
        for customer in repo.customers_by_ids(session, list(session.execute(ids.limit(200)).scalars())):
            candidates[customer.id] = customer
    if mobile:
        for customer in repo.customers_by_ids(
            session, session.execute(repo.ids_with_key(f"m:{mobile}")).scalars()
        ):
            candidates[customer.id] = customer
    scope = scope_of(session, principal)
    visible = repo.readable_ids(session, scope, candidates)
    found: list[DuplicateCandidate] = []
    hidden = 0
    for customer in candidates.values():
        if customer.id == exclude_id or customer.status == "merged":
            continue
        reasons, score = _similarity(customer, name=name, mobile=mobile, birth=birth)
        if score < 60:
            continue
        if customer.id in visible:
            found.append(
                DuplicateCandidate(
                    customer_id=customer.id,
                    customer_no=customer.customer_no,
                    name=shown_name(principal, customer.name),
                    reasons=reasons,
                    score=score,
                )
            )
        else:
            hidden += 1
    found.sort(key=lambda c: -c.score)
    return found[:10], hidden


def _similarity(customer: Customer, *, name: str, mobile: str | None, birth: Any) -> tuple[list[str], int]:
    reasons: list[str] = []
    score = 0
    ratio = fuzz.ratio(customer.name, name)
    if ratio >= 100:
        reasons.append(N_("same name"))
        score += 45
    elif ratio >= 75:
        reasons.append(N_("similar name"))
        score += 30
    if mobile and customer.mobile == mobile:
        reasons.append(N_("same mobile number"))
        score += 45
    if birth and customer.birth_date == birth:
        reasons.append(N_("same birth date"))
        score += 30
    return reasons, min(score, 100)


# ---------------------------------------------------------------- writes


def _snapshot(customer: Customer, *, address: str | None = None, email: str | None = None) -> dict[str, Any]:
    return {
        "name": customer.name,
        "name_en": customer.name_en,
        "kind": customer.kind,
        "status": customer.status,
        "id_type": customer.id_type,
        "id_number": customer.id_number,
        "birth_date": customer.birth_date.isoformat() if customer.birth_date else None,
        "gender": customer.gender,
        "nationality": customer.nationality,
        "mobile": customer.mobile,
        "email": email,
        "address": address,
        "occupation": customer.occupation,
        "income_band": customer.income_band,
        "industry": customer.industry,
        "registered_capital": str(customer.registered_capital)
        if customer.registered_capital is not None
        else None,
        "risk_level": customer.risk_level,
        "risk_assessed_on": customer.risk_assessed_on.isoformat() if customer.risk_assessed_on else None,
        "org_unit_id": customer.org_unit_id,
        "primary_rm_id": customer.primary_rm_id,
    }


def check_unique_id(
    session: Session,
    scope: Scope | None,
    problems: ProblemCollector,
    id_type: str,
    number: str,
    exclude_id: int | None,
) -> str:
    """The ID's digest; a problem when another customer holds the ID. That customer is named only
    to a user who may see it (a loading job, ``scope`` None, sees all): otherwise typing ID numbers
    would find out whose they are."""
    digest = id_digest(id_type, number)
    others = [
        c for c in repo.find_by_id_digest(session, digest) if c.id != exclude_id and c.status != "merged"
    ]
    visible = (
        {c.id for c in others} if scope is None else repo.readable_ids(session, scope, [c.id for c in others])
    )
    for other in others:
        if other.id in visible:
            problems.add(
                "id_number",
                "customer.id_unique",
                N_("A customer with this ID already exists (%(customer_no)s)."),
                None,
                customer_no=other.customer_no,
            )
        else:
            problems.add(
                "id_number",
                "customer.id_unique",
                N_("A customer with this ID already exists outside your data scope; ask its branch."),
                None,
            )
    return digest


def _raise_if_duplicates(
    session: Session,
    principal: Principal,
    *,
    name: str,
    mobile: str | None,
    birth: Any,
    exclude_id: int | None,
) -> None:
    found, hidden = find_duplicates(
        session, principal, name=name, mobile=mobile, birth=birth, exclude_id=exclude_id
    )
    if found or hidden:
        problems = [
            FieldProblem(
                "name",
                "customer.likely_duplicate",
                N_("Likely duplicate: %(customer_no)s %(name)s (%(reasons)s)"),
                c.customer_id,
                params={"customer_no": c.customer_no, "name": c.name, "reasons": ", ".join(c.reasons)},
            )
            for c in found
        ]
        if hidden:
            problems.append(
                FieldProblem(
                    "name",
                    "customer.likely_duplicate_hidden",
                    N_("%(count)s likely duplicates are outside your data scope."),
                    hidden,
                    params={"count": hidden},
                )
            )
        raise LikelyDuplicates(problems)


def create_customer(session: Session, principal: Principal, *, data: CustomerCreate) -> CustomerDetail:
    principal.require(Permission.CUSTOMER_WRITE)
    problems = ProblemCollector()
    clean = validate_fields(data.kind, data, problems)
    unit_id, rm_id = _placement(
        session, principal, problems, org_unit_id=data.org_unit_id, primary_rm_id=data.primary_rm_id
    )
    digest = check_unique_id(
        session, scope_of(session, principal), problems, data.id_type, clean["id_number"], None
    )
    problems.raise_if_any()
    if not data.confirm_not_duplicate:
        _raise_if_duplicates(
            session,
            principal,
            name=data.name,
            mobile=clean["mobile"],
            birth=clean["birth_date"],
            exclude_id=None,
        )
    customer = _insert(session, principal.actor, data, clean, digest=digest, unit_id=unit_id, rm_id=rm_id)
    return detail(session, principal, customer)


def load_customer(
    session: Session, actor: Actor, *, data: CustomerCreate, org_unit_id: int, primary_rm_id: int | None
) -> Customer:
    """Create a customer from a loading job (integration, demo data): the same validation, no viewer.

    Duplicate resolution is the job's business (matching decides), so no likely-duplicate check here.
    """
    problems = ProblemCollector()
    clean = validate_fields(data.kind, data, problems)
    digest = check_unique_id(session, None, problems, data.id_type, clean["id_number"], None)
    problems.raise_if_any()
    return _insert(session, actor, data, clean, digest=digest, unit_id=org_unit_id, rm_id=primary_rm_id)


def _insert(
    session: Session,
    actor: Actor,
    data: CustomerCreate,
    clean: dict[str, Any],
    *,
    digest: str,
    unit_id: int,
    rm_id: int | None,
) -> Customer:
    customer = Customer(
        customer_no=customer_number(repo.reserve_customer_numbers(session, 1)),
        kind=data.kind,
        name=data.name,
        name_en=data.name_en,
        id_type=data.id_type,
        id_number=clean["id_number"],
        id_digest=digest,
        birth_date=clean["birth_date"],
        gender=clean["gender"],
        nationality=data.nationality,
        occupation=data.occupation,
        income_band=data.income_band,
        industry=data.industry,
        registered_capital=data.registered_capital,
        mobile=clean["mobile"],
        risk_level=data.risk_level,
        risk_assessed_on=data.risk_assessed_on,
        org_unit_id=unit_id,
        primary_rm_id=rm_id,
    )
    repo.add(session, customer)
    session.flush()
    today = business_today()
    for kind, value in (("mobile", clean["mobile"]), ("email", clean["email"])):
        if value:
            repo.add(
                session,
                ContactPoint(
                    customer_id=customer.id, kind=kind, value=value, is_primary=True, valid_from=today
                ),
            )
    if data.address:
        repo.add(
            session,
            Address(
                customer_id=customer.id,
                kind="home" if data.kind == "individual" else "registered",
                line=data.address,
                valid_from=today,
            ),
        )
    if rm_id is not None:
        start_primary_assignment(session, customer_id=customer.id, rm_id=rm_id, on=today, handover_id=None)
    session.flush()
    refresh_search_keys(session, customer)
    audit.record_change(
        session,
        actor,
        entity_type=ENTITY,
        entity_id=customer.id,
        action="create",
        before={},
        after=_snapshot(customer, address=data.address, email=clean["email"]),
        sensitive=SENSITIVE,
    )
    return customer


def _replace_contact(
    session: Session, customer_id: int, kind: str, value: str | None, on: date, *, source: str = "crm"
) -> None:
    """Close the customer's current contact point of this kind and open ``value`` as the primary one
    (none when ``value`` is empty): the old one keeps its history."""
    repo.close_contacts(session, customer_id, kind, on)
    if value:
        repo.add(
            session,
            ContactPoint(
                customer_id=customer_id, kind=kind, value=value, is_primary=True, valid_from=on, source=source
            ),
        )


def _replace_address(
    session: Session,
    customer_id: int,
    line: str | None,
    old: Address | None,
    on: date,
    *,
    source: str = "crm",
) -> None:
    """Close the current address and open ``line`` in its place, of the same kind (home if none)."""
    repo.close_addresses(session, customer_id, on)
    if line:
        repo.add(
            session,
            Address(
                customer_id=customer_id,
                kind=old.kind if old else "home",
                line=line,
                valid_from=on,
                source=source,
            ),
        )


def update_customer(
    session: Session, principal: Principal, *, customer_id: int, data: CustomerUpdate
) -> CustomerDetail:
    principal.require(Permission.CUSTOMER_WRITE)
    scope = scope_of(session, principal)
    customer = readable_customer(session, scope, customer_id)
    check_version(customer, data.version)
    problems = ProblemCollector()
    if customer.status != "active":
        problems.add(
            "status", "customer.not_active", N_("Only active customers can be edited."), customer.status
        )
    data = data.model_copy(
        update={
            "id_type": data.id_type or customer.id_type,
            "id_number": data.id_number or customer.id_number,
        }
    )
    assert data.id_type is not None
    clean = validate_fields(customer.kind, data, problems)
    digest = check_unique_id(
        session, scope_of(session, principal), problems, data.id_type, clean["id_number"], customer.id
    )
    problems.raise_if_any()
    # An edit that leaves the mobile out keeps the stored one, so it cannot make a new duplicate by mobile.
    mobile = clean["mobile"] if "mobile" in data.model_fields_set else customer.mobile
    if not data.confirm_not_duplicate and (data.name != customer.name or mobile != customer.mobile):
        _raise_if_duplicates(
            session,
            principal,
            name=data.name,
            mobile=mobile,
            birth=clean["birth_date"],
            exclude_id=customer.id,
        )
    old_address = repo.current_address(session, customer.id)
    old_email = repo.current_contact(session, customer.id, "email")
    before = _snapshot(
        customer,
        address=old_address.line if old_address else None,
        email=old_email.value if old_email else None,
    )
    today = business_today()
    if "mobile" in data.model_fields_set and clean["mobile"] != customer.mobile:
        _replace_contact(session, customer.id, "mobile", clean["mobile"], today)
        customer.mobile = clean["mobile"]
    if "email" in data.model_fields_set and clean["email"] != (old_email.value if old_email else None):
        _replace_contact(session, customer.id, "email", clean["email"], today)
    if "address" in data.model_fields_set and data.address != (old_address.line if old_address else None):
        _replace_address(session, customer.id, data.address, old_address, today)
    for field in (
        "name",
        "name_en",
        "id_type",
        "nationality",
        "occupation",
        "income_band",
        "industry",
        "registered_capital",
        "risk_level",
        "risk_assessed_on",
    ):
        setattr(customer, field, getattr(data, field))
    customer.id_number, customer.id_digest = clean["id_number"], digest
    customer.birth_date, customer.gender = clean["birth_date"], clean["gender"]
    session.flush()
    refresh_search_keys(session, customer)
    new_address = repo.current_address(session, customer.id)
    new_email = repo.current_contact(session, customer.id, "email")
    audit.record_change(
        session,
        principal.actor,
        entity_type=ENTITY,
        entity_id=customer.id,
        action="update",
        before=before,
        after=_snapshot(
            customer,
            address=new_address.line if new_address else None,
            email=new_email.value if new_email else None,
        ),
        sensitive=SENSITIVE,
    )
    void_pending_merges(session, principal, customer_ids=[customer.id], why="customer edited")
    return detail(session, principal, customer)


def set_active(
    session: Session, principal: Principal, *, customer_id: int, active: bool, reason: str
) -> CustomerDetail:
    """Deactivate (注销) or reactivate. Nothing is deleted; merged customers cannot be reactivated."""
    principal.require(Permission.CUSTOMER_DEACTIVATE)
    customer = readable_customer(session, scope_of(session, principal), customer_id)
    if customer.status == "merged":
        raise ValidationFailed.single(
            "status", "customer.merged", N_("A merged customer cannot change status."), customer.status
        )
    wanted = "active" if active else "deactivated"
    if customer.status == wanted:
        return detail(session, principal, customer)
    before = {"status": customer.status}
    customer.status = wanted
    customer.deactivated_at = None if active else utcnow()
    customer.deactivation_reason = None if active else reason
    session.flush()
    audit.record_change(
        session,
        principal.actor,
        entity_type=ENTITY,
        entity_id=customer.id,
        action="reactivate" if active else "deactivate",
        before=before,
        after={"status": wanted},
        reason=reason,
    )
    return detail(session, principal, customer)


def set_do_not_contact(
    session: Session, principal: Principal, *, customer_id: int, value: bool, reason: str
) -> None:
    principal.require(Permission.CUSTOMER_WRITE)
    customer = readable_customer(session, scope_of(session, principal), customer_id)
    if customer.do_not_contact != value:
        audit.record_change(
            session,
            principal.actor,
            entity_type=ENTITY,
            entity_id=customer.id,
            action="do_not_contact",
            before={"do_not_contact": customer.do_not_contact},
            after={"do_not_contact": value},
            reason=reason,
        )
        customer.do_not_contact = value
        session.flush()


# ---------------------------------------------------------------- reads


def summaries(session: Session, principal: Principal, customers: list[Customer]) -> list[CustomerSummary]:
    units = orgs.unit_names(session, {c.org_unit_id for c in customers})
    rms = users.display_names(session, {c.primary_rm_id for c in customers if c.primary_rm_id})
    return [
        CustomerSummary(
            id=c.id,
            customer_no=c.customer_no,
            kind=c.kind,
            status=c.status,
            name=shown_name(principal, c.name),
            mobile=masked_mobile(c.mobile),
            id_type=c.id_type,
            id_number=masked_id(c.id_number),
            tier=c.tier,
            aum=c.aum,
            risk_level=c.risk_level,
            org_unit_id=c.org_unit_id,
            org_unit_name=units.get(c.org_unit_id, "?"),
            primary_rm_id=c.primary_rm_id,
            primary_rm_name=rms.get(c.primary_rm_id) if c.primary_rm_id else None,
        )
        for c in customers
    ]


def flags_of(customer: Customer, *, age: int | None, assessment_valid: bool) -> list[str]:
    flags = []
    if age is not None and age >= SENIOR_AGE:
        flags.append("senior")
    if customer.kind == "individual" and not assessment_valid:
        # Never assessed is not the same news as a lapsed questionnaire: the RM asks different things.
        flags.append(
            "risk_assessment_missing" if customer.risk_assessed_on is None else "risk_assessment_expired"
        )
    if customer.do_not_contact:
        flags.append("do_not_contact")
    if customer.status != "active":
        flags.append(customer.status)
    return flags


def detail(session: Session, principal: Principal, customer: Customer) -> CustomerDetail:
    today = business_today()
    summary = summaries(session, principal, [customer])[0]
    age = age_on(customer.birth_date, today)
    assessed = customer.risk_assessed_on
    valid = bool(
        customer.risk_level and assessed and assessed + timedelta(days=RISK_ASSESSMENT_VALID_DAYS) >= today
    )
    email = repo.current_contact(session, customer.id, "email")
    address = repo.current_address(session, customer.id)
    return CustomerDetail(
        **summary.model_dump(),
        name_en=shown_name(principal, customer.name_en) if customer.name_en else None,
        birth_date=customer.birth_date,
        age=age,
        gender=customer.gender,
        nationality=customer.nationality,
        email=masked_email(email.value if email else None),
        address=masked_address(address.line if address else None),
        occupation=customer.occupation,
        income_band=customer.income_band,
        industry=customer.industry,
        registered_capital=customer.registered_capital,
        risk_assessed_on=assessed,
        risk_assessment_valid=valid,
        do_not_contact=customer.do_not_contact,
        merged_into_id=customer.merged_into_id,
        deactivated_at=customer.deactivated_at,
        deactivation_reason=customer.deactivation_reason,
        version=customer.version,
        flags=flags_of(customer, age=age, assessment_valid=valid),
        can_reveal=principal.can(Permission.PII_UNMASK),
    )


def get_customer(session: Session, principal: Principal, *, customer_id: int) -> CustomerDetail:
    """A customer as the viewer may see it. Merged aliases still resolve (with ``merged_into_id``)."""
    principal.require(Permission.CUSTOMER_READ)
    return detail(session, principal, readable_customer(session, scope_of(session, principal), customer_id))


def get_customer_header(session: Session, principal: Principal, *, customer_id: int) -> CustomerHeader:
    """The little a 360° section needs of the customer, with the same access check as the full record
    (one query; the full record also reads the unit, the RM, the e-mail and the address)."""
    principal.require(Permission.CUSTOMER_READ)
    customer = readable_customer(session, scope_of(session, principal), customer_id)
    return CustomerHeader(
        id=customer.id,
        kind=customer.kind,
        status=customer.status,
        name=shown_name(principal, customer.name),
        do_not_contact=customer.do_not_contact,
    )


def _list_query(session: Session, scope: Scope, filters: CustomerFilter) -> ListQuery | None:
    if filters.group_id is not None:
        group = repo.find_group(session, filters.group_id)
        if group is None or group.owner_id != scope.principal.user_id:
            return None  # lists are personal: filtering by another's list tells nothing about it
    search_ids = None
    if filters.q:
        parsed = parse_query(filters.q)
        parts = list(parsed.alternatives)
        if parsed.id_number:
            for id_type in ("resident_id", "uscc", "passport", "other"):
                parts.append(QueryPart(f"d:{id_digest(id_type, parsed.id_number)}", exact=True))
        if not scope.principal.can(Permission.CUSTOMER_NAME_VIEW):
            # Prefixes would spell out, a character at a time, the names this viewer sees masked.
            parts = whole_names_only(parts)
        if not parts:
            return None
        also_key = f"l:{parsed.last4}" if parsed.last4 else None
        search_ids = sorted(repo.resolve_ids(session, repo.ids_matching(parts, also_key=also_key)))
    rm_id = scope.principal.user_id if filters.mine else filters.rm_id
    return ListQuery(
        search_ids=search_ids,
        kind=filters.kind,
        tier=filters.tier,
        status=filters.status,
        org_unit_id=filters.org_unit_id,
        rm_id=rm_id,
        tag_id=filters.tag_id,
        group_id=filters.group_id,
        risk_level=filters.risk_level,
    )


def list_customers(
    session: Session, principal: Principal, *, filters: CustomerFilter, page: PageRequest
) -> Page[CustomerSummary]:
    """Search and filter customers within the principal's data scope, masked for the viewer."""
    principal.require(Permission.CUSTOMER_READ)
    scope = scope_of(session, principal)
    query = _list_query(session, scope, filters)
    if query is None:
        return Page(items=[], total=0, page=page.page, size=page.size)
    counted = repo.count_customers(session, scope, query, cap=LIST_COUNT_CAP)
    rows = repo.list_customers(session, scope, query, sort=filters.sort, offset=page.offset, limit=page.size)
    return Page(
        items=summaries(session, principal, rows),
        total=min(counted, LIST_COUNT_CAP),
        page=page.page,
        size=page.size,
        total_exact=counted <= LIST_COUNT_CAP,
    )


def reveal(session: Session, principal: Principal, *, customer_id: int, data: RevealIn) -> RevealOut:
    """One C2 field of one customer in clear, with a reason, leaving an audit row."""
    principal.require(Permission.CUSTOMER_READ)
    principal.require(Permission.PII_UNMASK)
    customer = readable_customer(session, scope_of(session, principal), customer_id)
    value: str | None
    if data.field == "id_number":
        value = customer.id_number
    elif data.field == "mobile":
        value = customer.mobile
    elif data.field == "email":
        contact = repo.current_contact(session, customer.id, "email")
        value = contact.value if contact else None
    else:
        address = repo.current_address(session, customer.id)
        value = address.line if address else None
    audit.record_event(
        session,
        principal.actor,
        action="unmask",
        entity_type=ENTITY,
        entity_id=customer.id,
        details={"field": data.field},
        reason=data.reason,
    )
    return RevealOut(field=data.field, value=value)


EXPORT_LIMIT = 50_000
EXPORT_COLUMNS = (
    "customer_no",
    "name",
    "kind",
    "status",
    "tier",
    "aum",
    "risk_level",
    "mobile",
    "id_number",
    "org_unit",
    "primary_rm",
)


def _audited_filters(filters: CustomerFilter) -> dict[str, Any]:
    """The export's filters as the audit trail keeps them: the search text may be a name, a mobile
    or an ID number, so it is kept masked, like every personal value in the trail."""
    kept = filters.model_dump(mode="json", exclude_none=True)
    if kept.get("q"):
        kept["q"] = mask(MaskKind.GENERIC, str(kept["q"]))
    return kept


def export_csv(session: Session, principal: Principal, *, filters: CustomerFilter) -> Iterator[str]:
    """A customer list as CSV: permissioned, audited, masked, and marked with who exported it."""
    principal.require(Permission.CUSTOMER_EXPORT)
    scope = scope_of(session, principal)
    query = _list_query(session, scope, filters)
    rows = repo.iter_customers(session, scope, query, sort=filters.sort, limit=EXPORT_LIMIT) if query else []
    items = summaries(session, principal, rows)
    audit.record_event(
        session,
        principal.actor,
        action="export",
        entity_type=ENTITY,
        details={"filters": _audited_filters(filters), "rows": len(items)},
    )

    return summaries_csv(principal, items)


def summaries_csv(principal: Principal, items: list[CustomerSummary], *, about: str = "") -> Iterator[str]:
    """Masked customer rows as CSV (BOM for spreadsheet programs), marked with who exported them
    and when; ``about`` says what was exported (a segment, say). Callers check and audit first."""

    def generate() -> Iterator[str]:
        buffer = io.StringIO()
        buffer.write("\ufeff")
        writer = csv.writer(buffer)
        what = f"{about}; " if about else ""
        writer.writerow(
            [
                f"# {what}exported by {principal.username} ({principal.display_name}) "
                f"at {format_datetime(utcnow(), seconds=True)}; personal data masked"
            ]
        )
        writer.writerow(EXPORT_COLUMNS)
        for item in items:
            writer.writerow(
                [
                    item.customer_no,
                    item.name,
                    item.kind,
                    item.status,
                    item.tier,
                    item.aum,
                    item.risk_level or "",
                    item.mobile or "",
                    item.id_number,
                    item.org_unit_name,
                    item.primary_rm_name or "",
                ]
            )
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue()

    return generate()


def set_consent(
    session: Session, principal: Principal, *, customer_id: int, channel: str, granted: bool, source: str
) -> None:
    """Record the current consent for a marketing channel; an opt-out applies to all later sends."""
    principal.require(Permission.CUSTOMER_WRITE)
    customer = readable_customer(session, scope_of(session, principal), customer_id)
    today = business_today()
    current = repo.get_consent(session, customer.id, channel)
    before = {"granted": current.granted if current else None}
    if current is None:
        repo.add(
            session,
            Consent(
                customer_id=customer.id,
                channel=channel,
                granted=granted,
                source=source,
                recorded_on=today,
                recorded_by=principal.user_id,
            ),
        )
    else:
        current.granted, current.source, current.recorded_on, current.recorded_by = (
            granted,
            source,
            today,
            principal.user_id,
        )
    session.flush()
    audit.record_change(
        session,
        principal.actor,
        entity_type=ENTITY,
        entity_id=customer.id,
        action="consent",
        before={f"consent.{channel}": before["granted"]},
        after={f"consent.{channel}": granted},
        reason=f"source: {source}",
    )


def portfolio_summary(session: Session, principal: Principal, *, mine: bool) -> PortfolioSummary:
    """Active customers and AUM by tier: the principal's own portfolio, or everything in scope."""
    principal.require(Permission.CUSTOMER_READ)
    rows = repo.tier_summary(session, scope_of(session, principal), rm_id=principal.user_id if mine else None)
    return PortfolioSummary(
        customers=sum(count for _tier, count, _aum in rows),
        total_aum=sum((aum for _tier, _count, aum in rows), Decimal("0")),
        by_tier={tier: count for tier, count, _aum in rows},
        aum_by_tier={tier: aum for tier, _count, aum in rows},
    )


def find_by_number(session: Session, principal: Principal, *, customer_no: str) -> CustomerDetail:
    """A customer by its CRM number, within the principal's scope (for pickers such as relationships)."""
    principal.require(Permission.CUSTOMER_READ)
    found = repo.find_by_customer_no(session, customer_no.strip().upper())
    scope = scope_of(session, principal)
    if found is None or not repo.readable_ids(session, scope, [found.id]):
        # The same answer, naming what was typed, whether the number is unknown or out of scope:
        # naming the customer's id would tell that it exists.
        raise CustomerNotFound(id=customer_no)
    return detail(session, principal, readable_customer(session, scope, found.id))


def identity_digest(id_type: str, id_number: str) -> str:
    """The keyed hash other modules match customers by (never the clear number)."""
    return id_digest(id_type, id_number)


def current_customer_id(session: Session, customer_id: int) -> int:
    """For loading jobs: the customer that now stands for ``customer_id`` - itself, or the survivor
    it was merged into (following merges of survivors). An unmerge makes it stand for itself again."""
    seen = {customer_id}
    customer = repo.get_customer(session, customer_id)
    while (
        customer is not None and customer.merged_into_id is not None and customer.merged_into_id not in seen
    ):
        seen.add(customer.merged_into_id)
        customer = repo.get_customer(session, customer.merged_into_id)
    return customer.id if customer is not None else customer_id


def merged_aliases(session: Session, customer_id: int) -> list[int]:
    """For loading jobs: every customer merged into this one, directly or through another merge."""
    found: list[int] = []
    frontier = [customer_id]
    while frontier:
        merged = repo.ids_merged_into(session, frontier)
        frontier = [i for i in merged if i not in found and i != customer_id]
        found += frontier
    return found


def find_customer_by_identity(session: Session, digest: str) -> int | None:
    """For loading jobs: the active customer holding this ID, if any (outside any viewer's scope)."""
    for customer in repo.find_by_id_digest(session, digest):
        if customer.status == "active":
            return customer.id
    return None


def find_customers_by_identity(session: Session, digests: Iterable[str]) -> dict[str, int]:
    """``find_customer_by_identity`` for a whole batch in a few queries: digest -> active customer."""
    return repo.active_ids_by_digest(session, digests)


# Fields a loading job may set from its sources (survivorship decides which source wins).
SOURCE_FIELDS = (
    "name",
    "name_en",
    "mobile",
    "email",
    "address",
    "occupation",
    "income_band",
    "industry",
    "risk_level",
    "risk_assessed_on",
)


@dataclass(frozen=True)
class GoldenValues:
    """A customer's current values of the fields sources feed, as text, and when it last changed."""

    customer_id: int
    status: str
    updated_at: datetime
    values: dict[str, str | None]


def golden_values(session: Session, customer_id: int) -> GoldenValues | None:
    """For loading jobs (outside any viewer's scope): the values survivorship compares its sources with."""
    customer = repo.get_customer(session, customer_id)
    if customer is None:
        return None
    address = repo.current_address(session, customer_id)
    email = repo.current_contact(session, customer_id, "email")
    values = {name: _text(getattr(customer, name, None)) for name in SOURCE_FIELDS}
    values["email"] = email.value if email else None
    values["address"] = address.line if address else None
    return GoldenValues(customer.id, customer.status, customer.updated_at, values)


def _text(value: Any) -> str | None:
    if value in (None, ""):
        return None
    return str(_plain(value))


def apply_source_values(
    session: Session, actor: Actor, *, customer_id: int, values: dict[str, str], reason: str
) -> list[str]:
    """For loading jobs: set fields of an active customer to the values its sources won with.

    Mobile, e-mail and address keep their history (the old one closes today). Audited with the job as
    the actor and the survivorship decision as the reason. Returns the fields that changed.
    """
    customer = repo.get_customer(session, customer_id)
    if customer is None:
        raise CustomerNotFound(id=customer_id)
    unknown = set(values) - set(SOURCE_FIELDS)
    if unknown:
        raise ValueError(f"not a field sources may set: {sorted(unknown)}")
    current = golden_values(session, customer_id)
    assert current is not None
    changed = {k: v for k, v in values.items() if v and v != current.values.get(k)}
    if customer.status != "active" or not changed:
        return []
    today = business_today()
    for kind in ("mobile", "email"):
        if kind in changed:
            _replace_contact(session, customer.id, kind, changed[kind], today, source="load")
    if "address" in changed:
        _replace_address(
            session,
            customer.id,
            changed["address"],
            repo.current_address(session, customer.id),
            today,
            source="load",
        )
    for name, value in changed.items():
        if name == "risk_assessed_on":
            customer.risk_assessed_on = date.fromisoformat(value)
        elif name not in ("email", "address"):
            setattr(customer, name, value)
    session.flush()
    refresh_search_keys(session, customer)
    audit.record_change(
        session,
        actor,
        entity_type=ENTITY,
        entity_id=customer.id,
        action="update_from_source",
        before={k: current.values.get(k) for k in changed},
        after=changed,
        sensitive=SENSITIVE,
        reason=reason,
    )
    return sorted(changed)


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value
