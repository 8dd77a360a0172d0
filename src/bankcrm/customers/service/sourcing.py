"""Source values for many existing customers at once, for loading jobs.

A delivery from a source system touches thousands of customers who already exist. These verbs do
for all of them what ``customers.current_customer_id``, ``merged_aliases``, ``golden_values`` and
``apply_source_values`` do for one - the same rows, the same history of contacts and addresses,
the same audit content per change - in a few statements per delivery instead of a dozen per
customer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from bankcrm.audit import service as audit
from bankcrm.core.context import Actor
from bankcrm.core.formatting import business_today
from bankcrm.customers import repository as repo
from bankcrm.customers.models import Address, ContactPoint, Customer
from bankcrm.customers.service.common import ENTITY, refresh_search_keys_of
from bankcrm.customers.service.customers import SENSITIVE, SOURCE_FIELDS, GoldenValues, _text
from bankcrm.customers.service.errors import CustomerNotFound

# The source fields search keys are made of: a change to any other leaves the keys as they are.
KEYED_FIELDS = frozenset({"name", "name_en", "mobile"})


def current_customer_ids(session: Session, customer_ids: Iterable[int]) -> dict[int, int]:
    """``current_customer_id`` for many: each id -> the customer that now stands for it."""
    wanted = set(customer_ids)
    merged_into: dict[int, int | None] = {}
    frontier = wanted
    while frontier:
        found = repo.merged_into_of(session, frontier)
        merged_into.update(found)
        frontier = {m for m in found.values() if m is not None and m not in merged_into}
    return {customer_id: _follow(merged_into, customer_id) for customer_id in wanted}


def _follow(merged_into: dict[int, int | None], customer_id: int) -> int:
    # The same walk as current_customer_id: through survivors, stopping at a loop; an id that is
    # no customer stands for itself.
    if customer_id not in merged_into:
        return customer_id
    seen, current = {customer_id}, customer_id
    while (survivor := merged_into[current]) is not None and survivor not in seen:
        if survivor not in merged_into:
            return customer_id
        seen.add(survivor)
        current = survivor
    return current


def merged_aliases_of(session: Session, customer_ids: Iterable[int]) -> dict[int, list[int]]:
    """``merged_aliases`` for many: each id -> every customer merged into it, directly or not."""
    roots = set(customer_ids)
    merged_into_survivor: dict[int, list[int]] = {}
    asked: set[int] = set()
    frontier = roots
    while frontier:
        asked |= frontier
        for merged, survivor in repo.merged_pairs(session, frontier):
            merged_into_survivor.setdefault(survivor, []).append(merged)
        frontier = {m for found in merged_into_survivor.values() for m in found} - asked
    return {root: _aliases(merged_into_survivor, root) for root in roots}


def _aliases(merged_into_survivor: dict[int, list[int]], root: int) -> list[int]:
    found: list[int] = []
    frontier = [root]
    while frontier:
        merged = [m for survivor in frontier for m in merged_into_survivor.get(survivor, [])]
        frontier = [i for i in merged if i not in found and i != root]
        found += frontier
    return found


# The source fields a customer row holds; e-mail and address come from the contact history.
_ROW_FIELDS = tuple(name for name in SOURCE_FIELDS if name not in ("email", "address"))


def golden_values_of(session: Session, customer_ids: Iterable[int]) -> dict[int, GoldenValues]:
    """``golden_values`` for many (customers that do not exist are left out), read as plain rows:
    the values ``_golden`` takes from ORM objects, without building one per customer."""
    rows = repo.golden_rows_of(session, customer_ids, _ROW_FIELDS)
    ids = [row[0] for row in rows]
    emails = repo.current_contact_values_of(session, ids, "email")
    lines = repo.current_address_lines_of(session, ids)
    found = {}
    for row in rows:
        customer_id, status, updated_at, *fields = tuple(row)
        values = {name: _text(value) for name, value in zip(_ROW_FIELDS, fields, strict=True)}
        values = {name: values.get(name) for name in SOURCE_FIELDS}
        values["email"], values["address"] = emails.get(customer_id), lines.get(customer_id)
        found[customer_id] = GoldenValues(customer_id, status, updated_at, values)
    return found


def _golden(
    customer: Customer, emails: dict[int, ContactPoint], addresses: dict[int, Address]
) -> GoldenValues:
    values = {name: _text(getattr(customer, name, None)) for name in SOURCE_FIELDS}
    email, address = emails.get(customer.id), addresses.get(customer.id)
    values["email"] = email.value if email else None
    values["address"] = address.line if address else None
    return GoldenValues(customer.id, customer.status, customer.updated_at, values)


@dataclass(frozen=True)
class SourceValues:
    """Values one customer's sources won with, and the survivorship decision that chose them."""

    customer_id: int
    values: dict[str, str]
    reason: str


@dataclass
class _Round:
    """Changes to distinct customers, applied together."""

    contacts: dict[str, list[tuple[int, str]]] = field(default_factory=lambda: {"mobile": [], "email": []})
    addresses: list[tuple[int, str, str]] = field(default_factory=list)
    rekeyed: list[Customer] = field(default_factory=list)  # whose name or mobile changed


def apply_source_values_many(
    session: Session, actor: Actor, changes: Sequence[SourceValues]
) -> list[list[str]]:
    """``apply_source_values`` for each of ``changes`` in order; returns each one's changed fields.

    A customer may appear more than once: its later changes see its earlier ones, as one call after
    another would. Changes to distinct customers go in rounds (the first change of each, then the
    second...), each round with one statement per table; every change that changed something gets
    its own audit row, with the same content as ``apply_source_values`` writes.
    """
    for change in changes:
        unknown = set(change.values) - set(SOURCE_FIELDS)
        if unknown:
            raise ValueError(f"not a field sources may set: {sorted(unknown)}")
    ids = {change.customer_id for change in changes}
    found = repo.customers_by_id(session, ids)
    for customer_id in sorted(ids - set(found)):
        raise CustomerNotFound(id=customer_id)
    emails = repo.current_contacts_of(session, found, "email")
    addresses = repo.current_addresses_of(session, found)
    current = {customer_id: dict(_golden(c, emails, addresses).values) for customer_id, c in found.items()}
    address_kinds = {customer_id: address.kind for customer_id, address in addresses.items()}
    results: list[list[str]] = [[] for _ in changes]
    entries: list[tuple[int, audit.Entry]] = []
    for positions in _rounds(changes):
        today = business_today()
        this_round = _Round()
        for position in positions:
            change = changes[position]
            customer, values = found[change.customer_id], current[change.customer_id]
            changed = {k: v for k, v in change.values.items() if v and v != values.get(k)}
            if customer.status != "active" or not changed:
                continue
            _stage(this_round, customer, changed, address_kinds)
            entries.append(
                (
                    position,
                    audit.change_entry(
                        entity_type=ENTITY,
                        entity_id=customer.id,
                        action="update_from_source",
                        before={k: values.get(k) for k in changed},
                        after=changed,
                        sensitive=SENSITIVE,
                        reason=change.reason,
                    ),
                )
            )
            values.update(changed)
            results[position] = sorted(changed)
        _write(session, this_round, today)
    # In the order of the changes, as one call after another would have appended them.
    audit.record_many(session, actor, [entry for _position, entry in sorted(entries, key=lambda e: e[0])])
    return results


def _rounds(changes: Sequence[SourceValues]) -> list[list[int]]:
    """Positions of ``changes`` grouped so that no round holds a customer twice, in order."""
    rounds: list[list[int]] = []
    seen: dict[int, int] = {}
    for position, change in enumerate(changes):
        index = seen.get(change.customer_id, 0)
        seen[change.customer_id] = index + 1
        if index == len(rounds):
            rounds.append([])
        rounds[index].append(position)
    return rounds


def _stage(
    this_round: _Round, customer: Customer, changed: dict[str, str], address_kinds: dict[int, str]
) -> None:
    for kind in ("mobile", "email"):
        if kind in changed:
            this_round.contacts[kind].append((customer.id, changed[kind]))
    if "address" in changed:
        kind = address_kinds.get(customer.id, "home")
        address_kinds[customer.id] = kind
        this_round.addresses.append((customer.id, changed["address"], kind))
    for name, value in changed.items():
        if name == "risk_assessed_on":
            customer.risk_assessed_on = date.fromisoformat(value)
        elif name not in ("email", "address"):
            setattr(customer, name, value)
    if KEYED_FIELDS & set(changed):
        this_round.rekeyed.append(customer)


def _write(session: Session, this_round: _Round, today: date) -> None:
    """Close the old contact points and addresses, open the new ones (the old keep their history),
    write the customers (one version each, as one call per customer would) and their search keys."""
    for kind, replaced in this_round.contacts.items():
        repo.close_contacts_of(session, [customer_id for customer_id, _value in replaced], kind, today)
        repo.insert_rows(session, ContactPoint, [_contact_row(c, kind, v, today) for c, v in replaced])
    repo.close_addresses_of(
        session, [customer_id for customer_id, _line, _kind in this_round.addresses], today
    )
    repo.insert_rows(
        session, Address, [_address_row(c, line, kind, today) for c, line, kind in this_round.addresses]
    )
    session.flush()  # one new version of each changed customer, as one call per customer makes
    refresh_search_keys_of(session, this_round.rekeyed)


def _contact_row(customer_id: int, kind: str, value: str, today: date) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "kind": kind,
        "value": value,
        "is_primary": True,
        "valid_from": today,
        "valid_to": None,
        "source": "load",
    }


def _address_row(customer_id: int, line: str, kind: str, today: date) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "kind": kind,
        "line": line,
        "city": None,
        "postcode": None,
        "valid_from": today,
        "valid_to": None,
        "source": "load",
    }
