"""People acting for corporate customers: legal representative, finance contact, authorised persons."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bankcrm.audit import service as audit
from bankcrm.core.errors import ProblemCollector, ValidationFailed
from bankcrm.core.i18n import N_
from bankcrm.core.masking import MaskKind
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.core.validation import IdentifierError, normalise_mobile, parse_resident_id
from bankcrm.customers import repository as repo
from bankcrm.customers.models import CorporateContact
from bankcrm.customers.schemas import CorporateContactIn, CorporateContactOut
from bankcrm.customers.service.common import masked_id, masked_mobile, readable_customer, scope_of, shown_name
from bankcrm.customers.service.errors import ContactNotFound

SENSITIVE = {"mobile": MaskKind.MOBILE, "id_number": MaskKind.ID_NUMBER}


def _out(principal: Principal, row: CorporateContact) -> CorporateContactOut:
    return CorporateContactOut(
        id=row.id,
        role=row.role,
        name=shown_name(principal, row.name),
        mobile=masked_mobile(row.mobile),
        id_type=row.id_type,
        id_number=masked_id(row.id_number) if row.id_number else None,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
    )


def list_contacts(session: Session, principal: Principal, *, customer_id: int) -> list[CorporateContactOut]:
    principal.require(Permission.CUSTOMER_READ)
    readable_customer(session, scope_of(session, principal), customer_id)
    return [_out(principal, row) for row in repo.corporate_contacts(session, customer_id)]


def add_contact(
    session: Session, principal: Principal, *, customer_id: int, data: CorporateContactIn
) -> CorporateContactOut:
    """Add a person acting for a corporate customer; a new legal representative replaces the old one."""
    principal.require(Permission.CUSTOMER_WRITE)
    scope = scope_of(session, principal)
    customer = readable_customer(session, scope, customer_id)
    problems = ProblemCollector()
    if customer.kind != "corporate":
        problems.add(
            "role",
            "contact.corporate_only",
            N_("Only corporate customers have contacts with roles."),
            data.role,
        )
    mobile = None
    if data.mobile:
        try:
            mobile = normalise_mobile(data.mobile)
        except IdentifierError as exc:
            problems.add("mobile", exc.rule, exc.message, data.mobile)
    number = data.id_number.upper() if data.id_number else None
    if number and data.id_type == "resident_id":
        try:
            number = parse_resident_id(number).number
        except IdentifierError as exc:
            problems.add("id_number", exc.rule, exc.message, data.id_number)
    if number and not data.id_type:
        problems.add("id_type", "contact.id_type", N_("Give the type of the ID number."))
    problems.raise_if_any()
    if data.role == "legal_rep":
        for current in repo.corporate_contacts(session, customer.id):
            if current.role == "legal_rep" and current.valid_to is None:
                current.valid_to = scope.today
    row = CorporateContact(
        customer_id=customer.id,
        role=data.role,
        name=data.name,
        mobile=mobile,
        id_type=data.id_type,
        id_number=number,
        valid_from=scope.today,
    )
    repo.add(session, row)
    session.flush()
    audit.record_change(
        session,
        principal.actor,
        entity_type="customer",
        entity_id=customer.id,
        action="add_contact",
        before={},
        after={"role": data.role, "name": data.name, "mobile": mobile, "id_number": number},
        sensitive=SENSITIVE,
    )
    return _out(principal, row)


def end_contact(
    session: Session, principal: Principal, *, customer_id: int, contact_id: int, reason: str
) -> None:
    principal.require(Permission.CUSTOMER_WRITE)
    scope = scope_of(session, principal)
    readable_customer(session, scope, customer_id)
    row = next((c for c in repo.corporate_contacts(session, customer_id) if c.id == contact_id), None)
    if row is None:
        raise ContactNotFound(id=contact_id, customer_id=customer_id)
    if row.valid_to is not None:
        raise ValidationFailed.single(
            "contact_id", "contact.current", N_("There is no such current contact."), contact_id
        )
    row.valid_to = scope.today
    session.flush()
    audit.record_change(
        session,
        principal.actor,
        entity_type="customer",
        entity_id=customer_id,
        action="end_contact",
        before={"contact": contact_id},
        after={"valid_to": scope.today.isoformat()},
        reason=reason,
    )
