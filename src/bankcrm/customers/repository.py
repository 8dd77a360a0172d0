"""All SQL of the customers module. Every read of customer data is limited by ``readable_by``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    and_,
    delete,
    false,
    func,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session

from bankcrm.core.db import Base, insert_many, likely, table_of
from bankcrm.core.principal import DataScope, Principal
from bankcrm.customers.keys import QueryPart
from bankcrm.customers.models import (
    Account,
    Address,
    Consent,
    ContactPoint,
    CorporateContact,
    Customer,
    CustomerGroup,
    CustomerGroupMember,
    CustomerNumberCounter,
    CustomerSearchKey,
    CustomerTag,
    CustomerTagEvent,
    Holding,
    Interaction,
    MergeRequest,
    PortfolioHandover,
    Product,
    Relationship,
    RmAssignment,
    SourceXref,
    Tag,
)


@dataclass(frozen=True)
class Scope:
    """A principal's reach over customers, resolved once per call.

    ``unit_ids`` is None for whole-bank readers; for subtree readers it lists the units of their
    subtree (from identity); own-portfolio readers see customers they are primary or assistant RM of.
    """

    principal: Principal
    unit_ids: tuple[int, ...] | None
    today: date


def readable_by(scope: Scope) -> ColumnElement[bool]:
    principal = scope.principal
    if principal.scope is DataScope.ALL:
        return true()
    if principal.scope is DataScope.SUBTREE:
        return Customer.org_unit_id.in_(scope.unit_ids or (-1,))
    # Primary and assistant RMs both have a current assignment row; an IN over the assignment index
    # lets the database start from the RM's few thousand customers instead of scanning them all.
    assigned = select(RmAssignment.customer_id).where(
        RmAssignment.user_id == principal.user_id,
        or_(RmAssignment.valid_to.is_(None), RmAssignment.valid_to > scope.today),
        RmAssignment.valid_from <= scope.today,
    )
    return Customer.id.in_(assigned)


def add(session: Session, row: object) -> None:
    session.add(row)


def get_customer(session: Session, customer_id: int) -> Customer | None:
    return session.get(Customer, customer_id)


def find_readable(session: Session, scope: Scope, customer_id: int) -> Customer | None:
    stmt = select(Customer).where(Customer.id == customer_id, readable_by(scope))
    return session.execute(stmt).scalar_one_or_none()


def readable_ids(session: Session, scope: Scope, ids: Iterable[int]) -> set[int]:
    wanted = set(ids)
    if not wanted:
        return set()
    stmt = select(Customer.id).where(Customer.id.in_(wanted), readable_by(scope))
    return set(session.execute(stmt).scalars())


def customers_by_ids(session: Session, ids: Iterable[int]) -> list[Customer]:
    wanted = set(ids)
    if not wanted:
        return []
    return list(session.execute(select(Customer).where(Customer.id.in_(wanted))).scalars())


def find_by_customer_no(session: Session, customer_no: str) -> Customer | None:
    return session.execute(select(Customer).where(Customer.customer_no == customer_no)).scalar_one_or_none()


def find_by_id_digest(session: Session, digest: str) -> list[Customer]:
    return list(session.execute(select(Customer).where(Customer.id_digest == digest)).scalars())


def holders_of(digests: list[str]) -> Select[str, int, str]:
    """(digest, id, status) of the customers holding these ID digests. The status is left to the
    caller, not put in SQL: without planner statistics SQLite chose the status index for
    "status = 'active'" and read every active customer for each chunk of digests."""
    return (
        select(Customer.id_digest, Customer.id, Customer.status)
        .where(Customer.id_digest.in_(digests))
        .order_by(Customer.id)
    )


def active_ids_by_digest(session: Session, digests: Iterable[str]) -> dict[str, int]:
    """The active customer holding each of these ID digests (those held by nobody are left out)."""
    wanted = sorted(set(digests))
    found: dict[str, int] = {}
    for start in range(0, len(wanted), 500):  # bounded IN lists
        for digest, customer_id, status in session.execute(holders_of(wanted[start : start + 500])).all():
            if status == "active":
                found.setdefault(str(digest), int(customer_id))
    return found


def next_customer_number(session: Session) -> int:
    latest = session.execute(select(func.max(Customer.id))).scalar_one_or_none()
    return int(latest or 0) + 1


# ---------------------------------------------------------------- search keys


def replace_keys(session: Session, customer_id: int, keys: Iterable[str]) -> None:
    session.execute(delete(CustomerSearchKey).where(CustomerSearchKey.customer_id == customer_id))
    session.add_all(CustomerSearchKey(key=key, customer_id=customer_id) for key in sorted(set(keys)))


def _key_condition(part: QueryPart) -> ColumnElement[bool]:
    if part.exact:
        return CustomerSearchKey.key == part.key
    # A prefix as a range: uses the primary-key index on every engine, unlike LIKE.
    return and_(CustomerSearchKey.key >= part.key, CustomerSearchKey.key < part.key + "\U0010ffff")


def ids_matching(parts: Sequence[QueryPart], *, also_key: str | None = None) -> Select[int]:
    """Ids with a key matching any of ``parts``; with ``also_key``, only those that also have that key
    (a name narrowed by the mobile's last four digits), so the limit applies after narrowing."""
    # false() first: an empty query (no parts) then matches nothing instead of warning.
    stmt = select(CustomerSearchKey.customer_id).where(or_(false(), *(_key_condition(p) for p in parts)))
    if also_key is not None:
        stmt = stmt.where(CustomerSearchKey.customer_id.in_(ids_with_key(also_key)))
    return stmt


def ids_with_key(key: str) -> Select[int]:
    return select(CustomerSearchKey.customer_id).where(CustomerSearchKey.key == key)


SEARCH_LIMIT = 5000  # a search broader than this is refined by the user, not paged through


def resolve_ids(session: Session, query: Select[int]) -> set[int]:
    return set(session.execute(query.distinct().limit(SEARCH_LIMIT)).scalars())


@dataclass(frozen=True)
class ListQuery:
    # Search results are resolved to ids first: a short literal list lets every engine fetch those rows
    # by primary key, instead of walking a sort index over the whole table.
    search_ids: list[int] | None
    kind: str | None
    tier: str | None
    status: str | None
    org_unit_id: int | None
    rm_id: int | None
    tag_id: int | None
    group_id: int | None
    risk_level: str | None


SORTS = {
    "name": Customer.name,
    "aum": Customer.aum,
    "customer_no": Customer.customer_no,
    "created": Customer.id,
}


def _filtered(scope: Scope, query: ListQuery) -> Select[Customer]:
    stmt = select(Customer).where(readable_by(scope))
    if query.search_ids is not None:
        stmt = stmt.where(Customer.id.in_(query.search_ids))
    if query.status is not None:
        condition = Customer.status == query.status
        stmt = stmt.where(likely(condition) if query.status == "active" else condition)
    for column, value in (
        (Customer.kind, query.kind),
        (Customer.tier, query.tier),
        (Customer.org_unit_id, query.org_unit_id),
        (Customer.primary_rm_id, query.rm_id),
        (Customer.risk_level, query.risk_level),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if query.tag_id is not None:
        stmt = stmt.where(
            Customer.id.in_(select(CustomerTag.customer_id).where(CustomerTag.tag_id == query.tag_id))
        )
    if query.group_id is not None:
        stmt = stmt.where(
            Customer.id.in_(
                select(CustomerGroupMember.customer_id).where(CustomerGroupMember.group_id == query.group_id)
            )
        )
    return stmt


def count_customers(session: Session, scope: Scope, query: ListQuery, *, cap: int | None = None) -> int:
    """How many customers match; with ``cap``, counting stops after ``cap + 1`` (so a result above
    the cap costs the same as one at it, whatever the size of the bank)."""
    if cap is None:
        stmt = _filtered(scope, query).with_only_columns(func.count(Customer.id)).order_by(None)
        return int(session.execute(stmt).scalar_one())
    matches = _filtered(scope, query).with_only_columns(Customer.id).order_by(None).limit(cap + 1).subquery()
    return int(session.execute(select(func.count()).select_from(matches)).scalar_one())


def list_customers(
    session: Session, scope: Scope, query: ListQuery, *, sort: str, offset: int, limit: int
) -> list[Customer]:
    column = SORTS[sort.lstrip("-")]
    order = (column.desc(), Customer.id.desc()) if sort.startswith("-") else (column.asc(), Customer.id.asc())
    stmt = _filtered(scope, query).order_by(*order).offset(offset).limit(limit)
    return list(session.execute(stmt).scalars())


def iter_customers(
    session: Session, scope: Scope, query: ListQuery, *, sort: str, limit: int
) -> list[Customer]:
    return list_customers(session, scope, query, sort=sort, offset=0, limit=limit)


# ---------------------------------------------------------------- contact data


def contact_points(session: Session, customer_id: int) -> list[ContactPoint]:
    stmt = (
        select(ContactPoint)
        .where(ContactPoint.customer_id == customer_id)
        .order_by(ContactPoint.valid_to.is_not(None), ContactPoint.kind, ContactPoint.id.desc())
    )
    return list(session.execute(stmt).scalars())


def current_contact(session: Session, customer_id: int, kind: str) -> ContactPoint | None:
    stmt = (
        select(ContactPoint)
        .where(
            ContactPoint.customer_id == customer_id,
            ContactPoint.kind == kind,
            ContactPoint.valid_to.is_(None),
        )
        .order_by(ContactPoint.is_primary.desc(), ContactPoint.id.desc())
        .limit(1)
    )
    return session.execute(stmt).scalar_one_or_none()


def close_contacts(session: Session, customer_id: int, kind: str, on: date) -> None:
    session.execute(
        update(ContactPoint)
        .where(
            ContactPoint.customer_id == customer_id,
            ContactPoint.kind == kind,
            ContactPoint.valid_to.is_(None),
        )
        .values(valid_to=on, is_primary=False)
        .execution_options(synchronize_session=False)
    )


def addresses(session: Session, customer_id: int) -> list[Address]:
    stmt = (
        select(Address)
        .where(Address.customer_id == customer_id)
        .order_by(Address.valid_to.is_not(None), Address.id.desc())
    )
    return list(session.execute(stmt).scalars())


def current_address(session: Session, customer_id: int) -> Address | None:
    stmt = (
        select(Address)
        .where(Address.customer_id == customer_id, Address.valid_to.is_(None))
        .order_by(Address.id.desc())
        .limit(1)
    )
    return session.execute(stmt).scalar_one_or_none()


def close_addresses(session: Session, customer_id: int, on: date) -> None:
    session.execute(
        update(Address)
        .where(Address.customer_id == customer_id, Address.valid_to.is_(None))
        .values(valid_to=on)
        .execution_options(synchronize_session=False)
    )


def consents(session: Session, customer_id: int) -> list[Consent]:
    return list(session.execute(select(Consent).where(Consent.customer_id == customer_id)).scalars())


def get_consent(session: Session, customer_id: int, channel: str) -> Consent | None:
    return session.get(Consent, (customer_id, channel))


def corporate_contacts(session: Session, customer_id: int) -> list[CorporateContact]:
    stmt = (
        select(CorporateContact)
        .where(CorporateContact.customer_id == customer_id)
        .order_by(CorporateContact.role)
    )
    return list(session.execute(stmt).scalars())


# ---------------------------------------------------------------- portfolio


def current_assignments(session: Session, customer_id: int, today: date) -> list[RmAssignment]:
    stmt = (
        select(RmAssignment)
        .where(
            RmAssignment.customer_id == customer_id,
            RmAssignment.valid_from <= today,
            or_(RmAssignment.valid_to.is_(None), RmAssignment.valid_to > today),
        )
        .order_by(RmAssignment.role.desc(), RmAssignment.id)
    )
    return list(session.execute(stmt).scalars())


def end_primary_assignment(session: Session, customer_id: int, on: date) -> None:
    session.execute(
        update(RmAssignment)
        .where(
            RmAssignment.customer_id == customer_id,
            RmAssignment.role == "primary",
            RmAssignment.valid_to.is_(None),
        )
        .values(valid_to=on)
        .execution_options(synchronize_session=False)
    )


def customer_ids_of_rm(session: Session, rm_id: int) -> list[int]:
    stmt = select(Customer.id).where(Customer.primary_rm_id == rm_id, Customer.status == "active")
    return list(session.execute(stmt).scalars())


def get_handover(session: Session, handover_id: int) -> PortfolioHandover | None:
    return session.get(PortfolioHandover, handover_id)


def list_handovers(session: Session, *, status: str | None, limit: int) -> list[PortfolioHandover]:
    stmt = select(PortfolioHandover).order_by(PortfolioHandover.id.desc()).limit(limit)
    if status:
        stmt = stmt.where(PortfolioHandover.status == status)
    return list(session.execute(stmt).scalars())


# ---------------------------------------------------------------- accounts, holdings, products


def accounts(session: Session, customer_id: int) -> list[tuple[Account, Product]]:
    stmt = (
        select(Account, Product)
        .join(Product, Product.id == Account.product_id)
        .where(Account.customer_id == customer_id)
        .order_by(Account.status, Account.kind, Account.opened_on)
    )
    return [(a, p) for a, p in session.execute(stmt).all()]


def accounts_of(session: Session, customer_ids: Iterable[int]) -> list[Account]:
    ids = set(customer_ids)
    if not ids:
        return []
    return list(session.execute(select(Account).where(Account.customer_id.in_(ids))).scalars())


def holdings(session: Session, customer_id: int) -> list[tuple[Holding, Product]]:
    stmt = (
        select(Holding, Product)
        .join(Product, Product.id == Holding.product_id)
        .where(Holding.customer_id == customer_id)
        .order_by(Holding.maturity_date.is_(None), Holding.maturity_date)
    )
    return [(h, p) for h, p in session.execute(stmt).all()]


def holdings_of(session: Session, customer_ids: Iterable[int]) -> list[Holding]:
    ids = set(customer_ids)
    if not ids:
        return []
    return list(session.execute(select(Holding).where(Holding.customer_id.in_(ids))).scalars())


def find_product(session: Session, code: str) -> Product | None:
    return session.execute(select(Product).where(Product.code == code)).scalar_one_or_none()


def products(session: Session) -> list[Product]:
    return list(session.execute(select(Product).order_by(Product.category, Product.code)).scalars())


def find_account_by_no(session: Session, account_no: str) -> Account | None:
    return session.execute(select(Account).where(Account.account_no == account_no)).scalar_one_or_none()


# ---------------------------------------------------------------- cross-references


def xrefs(session: Session, customer_id: int) -> list[SourceXref]:
    stmt = select(SourceXref).where(SourceXref.customer_id == customer_id).order_by(SourceXref.source_system)
    return list(session.execute(stmt).scalars())


def xref_owners(session: Session, system: str, numbers: Iterable[str]) -> dict[str, int]:
    """Customer of each of these source numbers that already has a cross-reference."""
    wanted = sorted(set(numbers))
    found: dict[str, int] = {}
    for start in range(0, len(wanted), 500):
        stmt = select(SourceXref.source_customer_no, SourceXref.customer_id).where(
            SourceXref.source_system == system, SourceXref.source_customer_no.in_(wanted[start : start + 500])
        )
        found.update({str(number): int(owner) for number, owner in session.execute(stmt).all()})
    return found


def find_xref(session: Session, system: str, number: str) -> SourceXref | None:
    stmt = select(SourceXref).where(
        SourceXref.source_system == system, SourceXref.source_customer_no == number
    )
    return session.execute(stmt).scalar_one_or_none()


# ---------------------------------------------------------------- relationships


def relationships_of(session: Session, customer_id: int, today: date) -> list[Relationship]:
    stmt = select(Relationship).where(
        or_(Relationship.from_customer_id == customer_id, Relationship.to_customer_id == customer_id),
        or_(Relationship.valid_to.is_(None), Relationship.valid_to > today),
    )
    return list(session.execute(stmt).scalars())


def get_relationship(session: Session, relationship_id: int) -> Relationship | None:
    return session.get(Relationship, relationship_id)


def all_relationships_of(session: Session, customer_ids: Iterable[int]) -> list[Relationship]:
    ids = set(customer_ids)
    stmt = select(Relationship).where(
        or_(Relationship.from_customer_id.in_(ids), Relationship.to_customer_id.in_(ids))
    )
    return list(session.execute(stmt).scalars())


# ---------------------------------------------------------------- interactions


def interactions(session: Session, customer_id: int, *, limit: int) -> list[Interaction]:
    stmt = (
        select(Interaction)
        .where(Interaction.customer_id == customer_id)
        .order_by(Interaction.occurred_at.desc(), Interaction.id.desc())
        .limit(limit)
    )
    return list(session.execute(stmt).scalars())


def get_interaction(session: Session, interaction_id: int) -> Interaction | None:
    return session.get(Interaction, interaction_id)


def open_follow_ups(session: Session, user_id: int, *, until: date, limit: int) -> list[Interaction]:
    stmt = (
        select(Interaction)
        .where(
            Interaction.user_id == user_id,
            Interaction.follow_up_done_at.is_(None),
            Interaction.follow_up_on.is_not(None),
            Interaction.follow_up_on <= until,
        )
        .order_by(Interaction.follow_up_on, Interaction.id)
        .limit(limit)
    )
    return list(session.execute(stmt).scalars())


def interactions_of(session: Session, customer_ids: Iterable[int]) -> list[Interaction]:
    ids = set(customer_ids)
    return list(session.execute(select(Interaction).where(Interaction.customer_id.in_(ids))).scalars())


# ---------------------------------------------------------------- tags and groups


def find_tag(session: Session, tag_id: int) -> Tag | None:
    return session.get(Tag, tag_id)


def find_tag_by_code(session: Session, code: str) -> Tag | None:
    return session.execute(select(Tag).where(Tag.code == code)).scalar_one_or_none()


def tag_names_by_code(session: Session, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    rows = session.execute(select(Tag.code, Tag.name).where(Tag.code.in_(codes))).all()
    return {row.code: row.name for row in rows}


def tags(session: Session) -> list[Tag]:
    return list(session.execute(select(Tag).order_by(Tag.category, Tag.name)).scalars())


def tags_of(session: Session, customer_id: int) -> list[tuple[CustomerTag, Tag]]:
    stmt = (
        select(CustomerTag, Tag)
        .join(Tag, Tag.id == CustomerTag.tag_id)
        .where(CustomerTag.customer_id == customer_id)
        .order_by(Tag.category, Tag.name)
    )
    return [(ct, t) for ct, t in session.execute(stmt).all()]


def customer_tag_rows(session: Session, customer_ids: Iterable[int]) -> list[CustomerTag]:
    ids = set(customer_ids)
    return list(session.execute(select(CustomerTag).where(CustomerTag.customer_id.in_(ids))).scalars())


def get_customer_tag(session: Session, customer_id: int, tag_id: int) -> CustomerTag | None:
    return session.get(CustomerTag, (customer_id, tag_id))


def tag_member_ids(session: Session, tag_id: int) -> set[int]:
    return set(session.execute(select(CustomerTag.customer_id).where(CustomerTag.tag_id == tag_id)).scalars())


def add_tag_members(session: Session, tag_id: int, customer_ids: Sequence[int]) -> None:
    if customer_ids:
        insert_many(
            session, table_of(CustomerTag), [{"customer_id": c, "tag_id": tag_id} for c in customer_ids]
        )


def remove_tag_members(session: Session, tag_id: int, customer_ids: Sequence[int]) -> None:
    for start in range(0, len(customer_ids), 5_000):  # bounded IN lists on every engine
        chunk = list(customer_ids[start : start + 5_000])
        session.execute(
            delete(CustomerTag).where(CustomerTag.tag_id == tag_id, CustomerTag.customer_id.in_(chunk))
        )


def add_tag_events(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        insert_many(session, table_of(CustomerTagEvent), rows)


def tag_events_of(session: Session, customer_id: int, *, limit: int) -> list[tuple[CustomerTagEvent, Tag]]:
    stmt = (
        select(CustomerTagEvent, Tag)
        .join(Tag, Tag.id == CustomerTagEvent.tag_id)
        .where(CustomerTagEvent.customer_id == customer_id)
        .order_by(CustomerTagEvent.at.desc(), CustomerTagEvent.id.desc())
        .limit(limit)
    )
    return [(event, tag) for event, tag in session.execute(stmt).all()]


def find_group(session: Session, group_id: int) -> CustomerGroup | None:
    return session.get(CustomerGroup, group_id)


def groups_owned_by(session: Session, owner_id: int) -> list[tuple[CustomerGroup, int]]:
    counts = (
        select(CustomerGroupMember.group_id, func.count().label("n"))
        .group_by(CustomerGroupMember.group_id)
        .subquery()
    )
    stmt = (
        select(CustomerGroup, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.group_id == CustomerGroup.id)
        .where(CustomerGroup.owner_id == owner_id)
        .order_by(CustomerGroup.name)
    )
    return [(g, int(n)) for g, n in session.execute(stmt).all()]


def find_group_by_name(session: Session, owner_id: int, name: str) -> CustomerGroup | None:
    stmt = select(CustomerGroup).where(CustomerGroup.owner_id == owner_id, CustomerGroup.name == name)
    return session.execute(stmt).scalar_one_or_none()


def get_group_member(session: Session, group_id: int, customer_id: int) -> CustomerGroupMember | None:
    return session.get(CustomerGroupMember, (group_id, customer_id))


def groups_of(session: Session, customer_id: int) -> list[CustomerGroup]:
    stmt = (
        select(CustomerGroup)
        .join(CustomerGroupMember, CustomerGroupMember.group_id == CustomerGroup.id)
        .where(CustomerGroupMember.customer_id == customer_id)
        .order_by(CustomerGroup.name)
    )
    return list(session.execute(stmt).scalars())


def group_member_rows(session: Session, customer_ids: Iterable[int]) -> list[CustomerGroupMember]:
    ids = set(customer_ids)
    return list(
        session.execute(select(CustomerGroupMember).where(CustomerGroupMember.customer_id.in_(ids))).scalars()
    )


# ---------------------------------------------------------------- merges


def get_merge(session: Session, merge_id: int) -> MergeRequest | None:
    return session.get(MergeRequest, merge_id)


def pending_merges_involving(session: Session, customer_ids: Iterable[int]) -> list[MergeRequest]:
    ids = {str(i) for i in customer_ids}
    rows = session.execute(select(MergeRequest).where(MergeRequest.status == "pending")).scalars()
    return [row for row in rows if str(row.survivor_id) in ids or ids & set(row.merged_ids.split())]


def list_merges(session: Session, *, status: str | None, limit: int) -> list[MergeRequest]:
    stmt = select(MergeRequest).order_by(MergeRequest.id.desc()).limit(limit)
    if status:
        stmt = stmt.where(MergeRequest.status == status)
    return list(session.execute(stmt).scalars())


# Rows that belong to a customer and move with it in a merge (undone row by row on unmerge).
OWNED_MODELS: dict[
    str, type[Account | Holding | Interaction | ContactPoint | Address | CorporateContact | SourceXref]
] = {
    "account": Account,
    "holding": Holding,
    "interaction": Interaction,
    "contact_point": ContactPoint,
    "address": Address,
    "corporate_contact": CorporateContact,
    "source_xref": SourceXref,
}


def rows_owned_by(session: Session, customer_id: int) -> dict[str, list[int]]:
    return {
        name: list(session.execute(select(model.id).where(model.customer_id == customer_id)).scalars())
        for name, model in OWNED_MODELS.items()
    }


def move_customer_rows(session: Session, *, from_id: int, to_id: int) -> None:
    for model in OWNED_MODELS.values():
        session.execute(
            update(model)
            .where(model.customer_id == from_id)
            .values(customer_id=to_id)
            .execution_options(synchronize_session=False)
        )


def move_rows_back(session: Session, moved: dict[str, list[int]], *, to_id: int) -> None:
    for name, ids in moved.items():
        if ids:
            model = OWNED_MODELS[name]
            session.execute(
                update(model)
                .where(model.id.in_(ids))
                .values(customer_id=to_id)
                .execution_options(synchronize_session=False)
            )


def repoint_relationships(
    session: Session, *, from_id: int, to_id: int, today: date
) -> list[dict[str, object]]:
    """Links of a merged customer now start or end at the survivor; a link between the two ends."""
    changed: list[dict[str, object]] = []
    for link in all_relationships_of(session, [from_id]):
        changed.append(
            {
                "id": link.id,
                "from": link.from_customer_id,
                "to": link.to_customer_id,
                "valid_to": link.valid_to.isoformat() if link.valid_to else None,
            }
        )
        if link.from_customer_id == from_id:
            link.from_customer_id = to_id
        if link.to_customer_id == from_id:
            link.to_customer_id = to_id
        if link.from_customer_id == link.to_customer_id and link.valid_to is None:
            link.valid_to = today
    return changed


def restore_relationships(session: Session, records: list[dict[str, object]]) -> None:
    for record in records:
        link = session.get(Relationship, record["id"])
        if link is not None:
            link.from_customer_id = int(str(record["from"]))
            link.to_customer_id = int(str(record["to"]))
            link.valid_to = date.fromisoformat(str(record["valid_to"])) if record["valid_to"] else None


def tier_summary(session: Session, scope: Scope, *, rm_id: int | None) -> list[tuple[str, int, Decimal]]:
    """(tier, customers, total AUM) for active customers in scope, optionally one RM's."""
    stmt = (
        select(Customer.tier, func.count(Customer.id), func.coalesce(func.sum(Customer.aum), 0))
        .where(readable_by(scope), Customer.status == "active")
        .group_by(Customer.tier)
    )
    if rm_id is not None:
        stmt = stmt.where(Customer.primary_rm_id == rm_id)
    return [
        (str(tier), int(count), Decimal(str(total))) for tier, count, total in session.execute(stmt).all()
    ]


def reserve_customer_numbers(session: Session, count: int) -> int:
    """Reserve ``count`` consecutive customer numbers; returns the first. Safe under concurrent writers:
    the update locks the counter row until the transaction ends."""
    stmt = (
        update(CustomerNumberCounter)
        .where(CustomerNumberCounter.id == 1)
        .values(last_value=CustomerNumberCounter.last_value + count)
        .returning(CustomerNumberCounter.last_value)
    )
    last = session.execute(stmt).scalar_one_or_none()
    if last is None:  # first use on a database created before the counter existed
        highest = int(session.execute(select(func.count(Customer.id))).scalar_one())
        session.add(CustomerNumberCounter(id=1, last_value=highest + count))
        session.flush()
        last = highest + count
    return int(last) - count + 1


def insert_customers(session: Session, rows: list[dict[str, object]]) -> list[int]:
    """Insert many customers in one statement batch; ids come back in the order of ``rows``."""
    if not rows:
        return []
    # A Core executemany on the table, not the ORM's bulk insert: the ORM splits the rows into runs
    # of rows with the same missing values and splices each run's RETURNING rows onto all the earlier
    # ones, which re-reads them every time (quadratic: 45 of 90 s when generating 20,000 customers).
    # Nor RETURNING in parameter order: SQLite cannot promise the order of a multi-row RETURNING, so
    # SQLAlchemy sends such an insert one row at a time there. The ids are read back by customer
    # number (unique, every row has one) instead.
    table = table_of(Customer)
    insert_many(session, table, rows)
    numbers = [str(row["customer_no"]) for row in rows]
    ids: dict[str, int] = {}
    for start in range(0, len(numbers), CHUNK):
        stmt = select(table.c.customer_no, table.c.id).where(
            table.c.customer_no.in_(numbers[start : start + CHUNK])
        )
        ids.update({str(number): int(row_id) for number, row_id in session.execute(stmt).all()})
    return [ids[number] for number in numbers]


def insert_rows(session: Session, model: type[Base], rows: list[dict[str, object]]) -> None:
    """Insert many rows of one table; every row must have the same keys (None where there is no value).

    One executemany (``insert_many``): the ORM's bulk insert would group the rows by which values
    are None and send each group as its own statement, several times slower for the synthetic
    bank's millions.
    """
    insert_many(session, table_of(model), rows)


def existing_id_digests(session: Session, digests: list[str]) -> set[str]:
    """Which of these ID digests already belong to a (non-merged) customer."""
    found: set[str] = set()
    for start in range(0, len(digests), 500):  # bounded IN lists
        chunk = digests[start : start + 500]
        stmt = select(Customer.id_digest).where(Customer.id_digest.in_(chunk), Customer.status != "merged")
        found.update(session.execute(stmt).scalars())
    return found


def ids_merged_into(session: Session, survivor_ids: Sequence[int]) -> list[int]:
    stmt = select(Customer.id).where(Customer.merged_into_id.in_(survivor_ids), Customer.status == "merged")
    return list(session.execute(stmt).scalars())


# ---------------------------------------------------------------- many customers at once (loading jobs)

CHUNK = 500  # bounded IN lists: SQLite allows a limited number of parameters per statement


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), CHUNK):
        yield wanted[start : start + CHUNK]


def customers_by_id(session: Session, ids: Iterable[int]) -> dict[int, Customer]:
    found: dict[int, Customer] = {}
    for chunk in _chunks(ids):
        found.update(
            {c.id: c for c in session.execute(select(Customer).where(Customer.id.in_(chunk))).scalars()}
        )
    return found


def existing_customer_ids(session: Session, ids: Iterable[int]) -> set[int]:
    found: set[int] = set()
    for chunk in _chunks(ids):
        found.update(
            int(i) for i in session.execute(select(Customer.id).where(Customer.id.in_(chunk))).scalars()
        )
    return found


def source_number_keys_of(session: Session, ids: Iterable[int]) -> set[tuple[int, str]]:
    """(customer, key) of the ``x:`` search keys these customers have."""
    found: set[tuple[int, str]] = set()
    for chunk in _chunks(ids):
        stmt = select(CustomerSearchKey.customer_id, CustomerSearchKey.key).where(
            CustomerSearchKey.customer_id.in_(chunk),
            CustomerSearchKey.key >= "x:",
            CustomerSearchKey.key < "x;",
        )
        found.update((int(customer_id), str(key)) for customer_id, key in session.execute(stmt).all())
    return found


def merged_into_of(session: Session, ids: Iterable[int]) -> dict[int, int | None]:
    """Each customer's ``merged_into_id`` (None when it was never merged or was unmerged)."""
    found: dict[int, int | None] = {}
    for chunk in _chunks(ids):
        stmt = select(Customer.id, Customer.merged_into_id).where(Customer.id.in_(chunk))
        found.update({int(i): (None if m is None else int(m)) for i, m in session.execute(stmt).all()})
    return found


def merged_pairs(session: Session, survivor_ids: Iterable[int]) -> list[tuple[int, int]]:
    """(merged customer, the survivor it was merged into) for merges into any of these customers."""
    pairs: list[tuple[int, int]] = []
    for chunk in _chunks(survivor_ids):
        stmt = select(Customer.id, Customer.merged_into_id).where(
            Customer.merged_into_id.in_(chunk), Customer.status == "merged"
        )
        pairs += [(int(i), int(m)) for i, m in session.execute(stmt).all() if m is not None]
    return pairs


def current_contacts_of(session: Session, ids: Iterable[int], kind: str) -> dict[int, ContactPoint]:
    """``current_contact`` for many customers: the open contact point of this kind, primary first,
    then the newest."""
    found: dict[int, ContactPoint] = {}
    for chunk in _chunks(ids):
        stmt = select(ContactPoint).where(
            ContactPoint.customer_id.in_(chunk), ContactPoint.kind == kind, ContactPoint.valid_to.is_(None)
        )
        for contact in session.execute(stmt).scalars():
            best = found.get(contact.customer_id)
            if best is None or (contact.is_primary, contact.id) > (best.is_primary, best.id):
                found[contact.customer_id] = contact
    return found


def golden_rows_of(session: Session, ids: Iterable[int], fields: Sequence[str]) -> list[Row[Any]]:
    """(id, status, updated_at, *fields) of these customers as plain rows: a delivery reads
    thousands, and building an ORM object for each cost more than the query."""
    columns = [Customer.id, Customer.status, Customer.updated_at, *(getattr(Customer, f) for f in fields)]
    rows: list[Row[Any]] = []
    for chunk in _chunks(ids):
        rows += session.execute(select(*columns).where(Customer.id.in_(chunk))).all()
    return rows


def current_contact_values_of(session: Session, ids: Iterable[int], kind: str) -> dict[int, str]:
    """The value of ``current_contacts_of``'s contact point for each customer, read as plain rows."""
    best: dict[int, tuple[bool, int, str]] = {}
    for chunk in _chunks(ids):
        stmt = select(
            ContactPoint.customer_id, ContactPoint.is_primary, ContactPoint.id, ContactPoint.value
        ).where(
            ContactPoint.customer_id.in_(chunk), ContactPoint.kind == kind, ContactPoint.valid_to.is_(None)
        )
        for customer_id, is_primary, contact_id, value in session.execute(stmt).all():
            found = best.get(customer_id)
            if found is None or (is_primary, contact_id) > found[:2]:
                best[customer_id] = (is_primary, contact_id, value)
    return {customer_id: value for customer_id, (_primary, _id, value) in best.items()}


def current_address_lines_of(session: Session, ids: Iterable[int]) -> dict[int, str]:
    """The line of ``current_addresses_of``'s address for each customer, read as plain rows."""
    best: dict[int, tuple[int, str]] = {}
    for chunk in _chunks(ids):
        stmt = select(Address.customer_id, Address.id, Address.line).where(
            Address.customer_id.in_(chunk), Address.valid_to.is_(None)
        )
        for customer_id, address_id, line in session.execute(stmt).all():
            if customer_id not in best or address_id > best[customer_id][0]:
                best[customer_id] = (address_id, line)
    return {customer_id: line for customer_id, (_id, line) in best.items()}


def current_addresses_of(session: Session, ids: Iterable[int]) -> dict[int, Address]:
    """``current_address`` for many customers: the newest open address."""
    found: dict[int, Address] = {}
    for chunk in _chunks(ids):
        stmt = select(Address).where(Address.customer_id.in_(chunk), Address.valid_to.is_(None))
        for address in session.execute(stmt).scalars():
            best = found.get(address.customer_id)
            if best is None or address.id > best.id:
                found[address.customer_id] = address
    return found


def close_contacts_of(session: Session, ids: Iterable[int], kind: str, on: date) -> None:
    for chunk in _chunks(ids):
        session.execute(
            update(ContactPoint)
            .where(
                ContactPoint.customer_id.in_(chunk),
                ContactPoint.kind == kind,
                ContactPoint.valid_to.is_(None),
            )
            .values(valid_to=on, is_primary=False)
            .execution_options(synchronize_session=False)
        )


def close_addresses_of(session: Session, ids: Iterable[int], on: date) -> None:
    for chunk in _chunks(ids):
        session.execute(
            update(Address)
            .where(Address.customer_id.in_(chunk), Address.valid_to.is_(None))
            .values(valid_to=on)
            .execution_options(synchronize_session=False)
        )


def xref_numbers_of(session: Session, ids: Iterable[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for chunk in _chunks(ids):
        stmt = select(SourceXref.customer_id, SourceXref.source_customer_no).where(
            SourceXref.customer_id.in_(chunk)
        )
        for customer_id, number in session.execute(stmt).all():
            found.setdefault(int(customer_id), []).append(str(number))
    return found


def account_numbers_of(session: Session, ids: Iterable[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for chunk in _chunks(ids):
        stmt = select(Account.customer_id, Account.account_no).where(Account.customer_id.in_(chunk))
        for customer_id, number in session.execute(stmt).all():
            found.setdefault(int(customer_id), []).append(str(number))
    return found


def replace_keys_of(session: Session, keys: dict[int, set[str]]) -> None:
    """``replace_keys`` for many customers: one delete per chunk, one insert for all."""
    for chunk in _chunks(keys):
        session.execute(
            delete(CustomerSearchKey)
            .where(CustomerSearchKey.customer_id.in_(chunk))
            .execution_options(synchronize_session=False)
        )
    insert_rows(
        session,
        CustomerSearchKey,
        [
            {"key": key, "customer_id": customer_id}
            for customer_id in sorted(keys)
            for key in sorted(keys[customer_id])
        ],
    )
