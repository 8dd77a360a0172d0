"""Merging duplicate customers under maker-checker, and unmerging from the recorded snapshot.

A merge request names the survivor, the customers merged into it and, per field, whose value
survives. A second authorised user approves; the maker never can. Approval moves accounts,
holdings, interactions, contact data, cross-references, tags, lists, consents and relationships to
the survivor; the others stay as merged aliases that still resolve. The snapshot written at approval
lets an unmerge put everything back.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from bankcrm.audit import service as audit
from bankcrm.core.context import Actor
from bankcrm.core.db import utcnow
from bankcrm.core.errors import PermissionDenied, ProblemCollector, ValidationFailed
from bankcrm.core.formatting import business_today
from bankcrm.core.i18n import N_
from bankcrm.core.masking import MaskKind
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.customers import repository as repo
from bankcrm.customers.models import Consent, Customer, CustomerGroupMember, CustomerTag, MergeRequest
from bankcrm.customers.schemas import MergeRequestIn, MergeRequestOut
from bankcrm.customers.service.common import readable_customer, scope_of
from bankcrm.customers.service.errors import MergeConflict, MergeRequestNotFound
from bankcrm.customers.service.holdings import refresh_customer_figures
from bankcrm.identity.service import users

ENTITY = "merge_request"
# Personal data among the fields a merge chooses, masked in the survivor's audit row.
SURVIVOR_SENSITIVE = {"mobile": MaskKind.MOBILE}
# Fields whose surviving value the maker chooses; the rest belong to the survivor.
MERGEABLE_FIELDS = (
    "name",
    "name_en",
    "mobile",
    "birth_date",
    "gender",
    "nationality",
    "occupation",
    "income_band",
    "industry",
    "registered_capital",
    "risk_level",
    "risk_assessed_on",
)


def _ids(text: str) -> list[int]:
    return [int(part) for part in text.split()]


def _out(session: Session, row: MergeRequest) -> MergeRequestOut:
    names = users.display_names(session, {row.requested_by} if row.requested_by else set())
    return MergeRequestOut(
        id=row.id,
        survivor_id=row.survivor_id,
        merged_ids=_ids(row.merged_ids),
        chosen_values={k: int(v) for k, v in json.loads(row.chosen_values).items()},
        status=row.status,
        reason=row.reason,
        requested_by=row.requested_by,
        requested_by_name=names.get(row.requested_by, "?")
        if row.requested_by
        else (row.requested_by_job or "?"),
        requested_at=row.requested_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        version=row.version,
    )


def _participants(
    session: Session, principal: Principal, data: MergeRequestIn
) -> tuple[Customer, list[Customer]]:
    scope = scope_of(session, principal)
    problems = ProblemCollector()
    if data.survivor_id in data.merged_ids:
        problems.add(
            "merged_ids",
            "merge.into_itself",
            N_("A customer cannot be merged into itself."),
            data.survivor_id,
        )
    if len(set(data.merged_ids)) != len(data.merged_ids):
        problems.add("merged_ids", "merge.repeated", N_("A customer is listed twice."), data.merged_ids)
    problems.raise_if_any()
    survivor = readable_customer(session, scope, data.survivor_id)
    merged = [readable_customer(session, scope, customer_id) for customer_id in data.merged_ids]
    if survivor.status != "active":
        problems.add(
            "survivor_id",
            "merge.survivor_active",
            N_("The surviving customer must be active (it is %(status)s)."),
            survivor.id,
            status=survivor.status,
        )
    for customer in merged:
        if customer.status != "active":
            problems.add(
                "merged_ids",
                "merge.merged_active",
                N_("Customer %(no)s is %(status)s and cannot be merged."),
                customer.id,
                no=customer.customer_no,
                status=customer.status,
            )
        if customer.kind != survivor.kind:
            problems.add(
                "merged_ids",
                "merge.same_kind",
                N_("Individual and corporate customers cannot be merged."),
                customer.id,
            )
    allowed = {survivor.id, *data.merged_ids}
    for field, source in data.chosen_values.items():
        if field not in MERGEABLE_FIELDS:
            problems.add(
                "chosen_values",
                "merge.field",
                N_("Field %(field)s cannot be chosen in a merge."),
                field,
                field=field,
            )
        elif source not in allowed:
            problems.add(
                "chosen_values",
                "merge.source",
                N_("The value of %(field)s must come from one of the merged customers."),
                source,
                field=field,
            )
    problems.raise_if_any()
    return survivor, merged


def request_merge(session: Session, principal: Principal, *, data: MergeRequestIn) -> MergeRequestOut:
    principal.require(Permission.MERGE_REQUEST)
    survivor, merged = _participants(session, principal, data)
    if repo.pending_merges_involving(session, [survivor.id, *(c.id for c in merged)]):
        raise MergeConflict(why=N_("one of these customers is already in a pending merge request"))
    row = MergeRequest(
        survivor_id=survivor.id,
        merged_ids=" ".join(str(c.id) for c in merged),
        chosen_values=json.dumps(data.chosen_values, sort_keys=True),
        reason=data.reason,
        requested_by=principal.user_id,
    )
    repo.add(session, row)
    session.flush()
    audit.record_event(
        session,
        principal.actor,
        action="request",
        entity_type=ENTITY,
        entity_id=row.id,
        details={"survivor": survivor.id, "merged": row.merged_ids, "chosen": data.chosen_values},
        reason=data.reason,
    )
    return _out(session, row)


def _readable_request(session: Session, principal: Principal, merge_id: int) -> MergeRequest:
    row = repo.get_merge(session, merge_id)
    if row is None:
        raise MergeRequestNotFound(id=merge_id)
    scope = scope_of(session, principal)
    involved = {row.survivor_id, *_ids(row.merged_ids)}
    if repo.readable_ids(session, scope, involved) != involved:
        raise MergeRequestNotFound(id=merge_id)
    return row


def get_merge(session: Session, principal: Principal, *, merge_id: int) -> MergeRequestOut:
    principal.require(Permission.CUSTOMER_READ)
    return _out(session, _readable_request(session, principal, merge_id))


def list_merges(
    session: Session, principal: Principal, *, status: str | None = None
) -> list[MergeRequestOut]:
    principal.require(Permission.CUSTOMER_READ)
    scope = scope_of(session, principal)
    visible = []
    for row in repo.list_merges(session, status=status, limit=200):
        involved = {row.survivor_id, *_ids(row.merged_ids)}
        if repo.readable_ids(session, scope, involved) == involved:
            visible.append(_out(session, row))
    return visible


def edit_merge(
    session: Session, principal: Principal, *, merge_id: int, data: MergeRequestIn
) -> MergeRequestOut:
    """Editing a pending request voids it and files a new one: an approval always sees what it approves."""
    principal.require(Permission.MERGE_REQUEST)
    row = _readable_request(session, principal, merge_id)
    if row.status != "pending":
        raise ValidationFailed.single(
            "status", "merge.not_pending", N_("This merge request was already decided."), row.status
        )
    row.status = "void"
    session.flush()
    audit.record_event(
        session,
        principal.actor,
        action="void",
        entity_type=ENTITY,
        entity_id=row.id,
        details={"why": "edited"},
    )
    return request_merge(session, principal, data=data)


def void_pending_merges(session: Session, principal: Principal, *, customer_ids: list[int], why: str) -> None:
    """A change to a customer voids pending merges involving it: the checker must see current data."""
    for row in repo.pending_merges_involving(session, customer_ids):
        row.status = "void"
        session.flush()
        audit.record_event(
            session,
            principal.actor,
            action="void",
            entity_type=ENTITY,
            entity_id=row.id,
            details={"why": why},
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _restore(field: str, value: Any) -> Any:
    if value is None:
        return None
    if field in ("birth_date", "risk_assessed_on"):
        return date.fromisoformat(value)
    if field == "registered_capital":
        return Decimal(value)
    return value


def approve_merge(session: Session, principal: Principal, *, merge_id: int, version: int) -> MergeRequestOut:
    principal.require(Permission.MERGE_APPROVE)
    row = _readable_request(session, principal, merge_id)
    if row.requested_by == principal.user_id:
        raise PermissionDenied(
            N_("The maker of a merge request cannot approve it; another authorised user must.")
        )
    if row.status != "pending":
        raise ValidationFailed.single(
            "status", "merge.not_pending", N_("This merge request was already decided."), row.status
        )
    if row.version != version:
        raise MergeConflict(why=N_("the request changed after you opened it"))
    survivor = repo.get_customer(session, row.survivor_id)
    merged = repo.customers_by_ids(session, _ids(row.merged_ids))
    assert survivor is not None
    if survivor.status != "active" or any(c.status != "active" for c in merged):
        raise MergeConflict(why=N_("a customer in it is no longer active"))
    snapshot = _apply_merge(session, survivor, merged, json.loads(row.chosen_values), principal.user_id)
    _record_on_survivor(
        session,
        principal.actor,
        survivor,
        action="absorb",
        before={**snapshot["survivor_before"], "absorbed": None},
        absorbed=_ids(row.merged_ids),
    )
    row.snapshot = json.dumps(snapshot, sort_keys=True)
    row.status = "approved"
    row.decided_by = principal.user_id
    row.decided_at = utcnow()
    session.flush()
    for customer in [survivor, *merged]:
        refresh_customer_figures(session, customer)
    audit.record_event(
        session,
        principal.actor,
        action="approve",
        entity_type=ENTITY,
        entity_id=row.id,
        details={"survivor": survivor.id, "merged": row.merged_ids},
    )
    for customer in merged:
        audit.record_change(
            session,
            principal.actor,
            entity_type="customer",
            entity_id=customer.id,
            action="merge",
            before={"status": "active"},
            after={"status": "merged", "merged_into_id": survivor.id},
        )
    return _out(session, row)


def reject_merge(session: Session, principal: Principal, *, merge_id: int, note: str) -> MergeRequestOut:
    principal.require(Permission.MERGE_APPROVE)
    row = _readable_request(session, principal, merge_id)
    if row.status != "pending":
        raise ValidationFailed.single(
            "status", "merge.not_pending", N_("This merge request was already decided."), row.status
        )
    row.status = "rejected"
    row.decided_by = principal.user_id
    row.decided_at = utcnow()
    session.flush()
    audit.record_event(
        session, principal.actor, action="reject", entity_type=ENTITY, entity_id=row.id, reason=note
    )
    return _out(session, row)


def _apply_merge(
    session: Session, survivor: Customer, merged: list[Customer], chosen: dict[str, int], user_id: int | None
) -> dict[str, Any]:
    everyone = {c.id: c for c in [survivor, *merged]}
    snapshot: dict[str, Any] = {
        "survivor_before": {f: _jsonable(getattr(survivor, f)) for f in MERGEABLE_FIELDS},
        "moved": {},
        "tags": {},
        "groups": {},
        "consents": {},
        "relationships": [],
    }
    for field, source_id in chosen.items():
        setattr(survivor, field, getattr(everyone[source_id], field))
    survivor_tags = {t.tag_id for t in repo.customer_tag_rows(session, [survivor.id])}
    survivor_groups = {g.group_id for g in repo.group_member_rows(session, [survivor.id])}
    snapshot["survivor_tags_before"] = sorted(survivor_tags)
    snapshot["survivor_groups_before"] = sorted(survivor_groups)
    survivor_consents = {c.channel: c for c in repo.consents(session, survivor.id)}
    snapshot["survivor_consents"] = {ch: _consent_json(c) for ch, c in survivor_consents.items()}
    for customer in merged:
        moved = repo.rows_owned_by(session, customer.id)
        snapshot["moved"][str(customer.id)] = moved
        repo.move_customer_rows(session, from_id=customer.id, to_id=survivor.id)
        _move_memberships(session, customer, survivor, survivor_tags, survivor_groups, snapshot, user_id)
        _merge_consents(session, customer, survivor, survivor_consents, snapshot)
        snapshot["relationships"] += repo.repoint_relationships(
            session, from_id=customer.id, to_id=survivor.id, today=business_today()
        )
        customer.status = "merged"
        customer.merged_into_id = survivor.id
    return snapshot


def _record_on_survivor(
    session: Session,
    actor: Actor,
    survivor: Customer,
    *,
    action: str,
    before: dict[str, Any],
    absorbed: list[int] | None,
    reason: str | None = None,
) -> None:
    """The survivor's own audit row: the values a merge chose for it and the records it took in
    (the merge request's row says who decided; this one is what the customer's history shows)."""
    after = {field: _jsonable(getattr(survivor, field)) for field in MERGEABLE_FIELDS}
    audit.record_change(
        session,
        actor,
        entity_type="customer",
        entity_id=survivor.id,
        action=action,
        before=before,
        after={**after, "absorbed": absorbed},
        sensitive=SURVIVOR_SENSITIVE,
        reason=reason,
    )


def _consent_json(consent: Consent) -> dict[str, Any]:
    return {
        "granted": consent.granted,
        "source": consent.source,
        "recorded_on": consent.recorded_on.isoformat(),
        "recorded_by": consent.recorded_by,
    }


def _move_memberships(
    session: Session,
    customer: Customer,
    survivor: Customer,
    survivor_tags: set[int],
    survivor_groups: set[int],
    snapshot: dict[str, Any],
    user_id: int | None,
) -> None:
    tags = repo.customer_tag_rows(session, [customer.id])
    snapshot["tags"][str(customer.id)] = [t.tag_id for t in tags]
    for tag in tags:
        if tag.tag_id not in survivor_tags:
            repo.add(session, CustomerTag(customer_id=survivor.id, tag_id=tag.tag_id, added_by=user_id))
            survivor_tags.add(tag.tag_id)
        session.delete(tag)
    members = repo.group_member_rows(session, [customer.id])
    snapshot["groups"][str(customer.id)] = [m.group_id for m in members]
    for member in members:
        if member.group_id not in survivor_groups:
            repo.add(
                session,
                CustomerGroupMember(group_id=member.group_id, customer_id=survivor.id, added_by=user_id),
            )
            survivor_groups.add(member.group_id)
        session.delete(member)


def _merge_consents(
    session: Session,
    customer: Customer,
    survivor: Customer,
    survivor_consents: dict[str, Consent],
    snapshot: dict[str, Any],
) -> None:
    """The most recent statement per channel wins: an opt-out on either record is never lost."""
    rows = repo.consents(session, customer.id)
    snapshot["consents"][str(customer.id)] = {c.channel: _consent_json(c) for c in rows}
    for consent in rows:
        current = survivor_consents.get(consent.channel)
        if current is None:
            new = Consent(
                customer_id=survivor.id,
                channel=consent.channel,
                granted=consent.granted,
                source=consent.source,
                recorded_on=consent.recorded_on,
                recorded_by=consent.recorded_by,
            )
            repo.add(session, new)
            survivor_consents[consent.channel] = new
        elif consent.recorded_on > current.recorded_on or (
            consent.recorded_on == current.recorded_on and not consent.granted
        ):
            current.granted, current.source = consent.granted, consent.source
            current.recorded_on, current.recorded_by = consent.recorded_on, consent.recorded_by
        session.delete(consent)


def unmerge(session: Session, principal: Principal, *, merge_id: int, reason: str) -> MergeRequestOut:
    """Put everything back as it was before the approved merge."""
    principal.require(Permission.MERGE_APPROVE)
    row = _readable_request(session, principal, merge_id)
    if row.status != "approved" or not row.snapshot:
        raise ValidationFailed.single(
            "status", "merge.not_approved", N_("Only an approved merge can be undone."), row.status
        )
    snapshot = json.loads(row.snapshot)
    survivor = repo.get_customer(session, row.survivor_id)
    assert survivor is not None
    merged_before = {field: _jsonable(getattr(survivor, field)) for field in MERGEABLE_FIELDS}
    for field, value in snapshot["survivor_before"].items():
        setattr(survivor, field, _restore(field, value))
    _record_on_survivor(
        session,
        principal.actor,
        survivor,
        action="unmerge",
        before={**merged_before, "absorbed": _ids(row.merged_ids)},
        absorbed=None,
        reason=reason,
    )
    for customer_id, moved in snapshot["moved"].items():
        repo.move_rows_back(session, moved, to_id=int(customer_id))
    for customer_id, tag_ids in snapshot["tags"].items():
        for tag_id in tag_ids:
            repo.add(
                session, CustomerTag(customer_id=int(customer_id), tag_id=tag_id, added_by=principal.user_id)
            )
    for customer_id, group_ids in snapshot["groups"].items():
        for group_id in group_ids:
            repo.add(
                session,
                CustomerGroupMember(
                    group_id=group_id, customer_id=int(customer_id), added_by=principal.user_id
                ),
            )
    _restore_memberships_of_survivor(session, survivor, snapshot)
    _restore_consents(session, survivor, snapshot)
    repo.restore_relationships(session, snapshot["relationships"])
    merged = repo.customers_by_ids(session, _ids(row.merged_ids))
    for customer in merged:
        customer.status = "active"
        customer.merged_into_id = None
    row.status = "unmerged"
    session.flush()
    for customer in [survivor, *merged]:
        refresh_customer_figures(session, customer)
    audit.record_event(
        session, principal.actor, action="unmerge", entity_type=ENTITY, entity_id=row.id, reason=reason
    )
    for customer in merged:
        audit.record_change(
            session,
            principal.actor,
            entity_type="customer",
            entity_id=customer.id,
            action="unmerge",
            before={"status": "merged"},
            after={"status": "active"},
            reason=reason,
        )
    return _out(session, row)


def _restore_memberships_of_survivor(session: Session, survivor: Customer, snapshot: dict[str, Any]) -> None:
    """Tags and lists the survivor only gained through the merge are taken away again."""
    gained_tags = {t for ids in snapshot["tags"].values() for t in ids}
    gained_groups = {g for ids in snapshot["groups"].values() for g in ids}
    before_tags = set(snapshot.get("survivor_tags_before", []))
    before_groups = set(snapshot.get("survivor_groups_before", []))
    for tag_row in repo.customer_tag_rows(session, [survivor.id]):
        if tag_row.tag_id in gained_tags and tag_row.tag_id not in before_tags:
            session.delete(tag_row)
    for member in repo.group_member_rows(session, [survivor.id]):
        if member.group_id in gained_groups and member.group_id not in before_groups:
            session.delete(member)


def _restore_consents(session: Session, survivor: Customer, snapshot: dict[str, Any]) -> None:
    for consent in repo.consents(session, survivor.id):
        session.delete(consent)
    session.flush()
    owners: dict[int, dict[str, Any]] = {survivor.id: snapshot["survivor_consents"]}
    owners.update({int(cid): rows for cid, rows in snapshot["consents"].items()})
    for customer_id, rows in owners.items():
        for channel, values in rows.items():
            repo.add(
                session,
                Consent(
                    customer_id=customer_id,
                    channel=channel,
                    granted=values["granted"],
                    source=values["source"],
                    recorded_on=date.fromisoformat(values["recorded_on"]),
                    recorded_by=values["recorded_by"],
                ),
            )


def system_merge(
    session: Session,
    actor: Actor,
    *,
    survivor_id: int,
    merged_id: int,
    reason: str,
    approved_by: int | None = None,
    refresh_figures: bool = True,
) -> MergeRequestOut | None:
    """A merge decided by record matching: above the auto-merge threshold, or accepted by a reviewer
    in the match queue (``approved_by``). Same effect and same undo as a maker-checker merge.

    A job merging many pairs passes ``refresh_figures=False`` and calls ``refresh_customer_figures``
    once for every customer it touched when it is done: a survivor absorbing ten records would
    otherwise recount its AUM and rebuild its search keys ten times.

    Returns None when the two are already one customer or either is no longer active.
    """
    survivor = repo.get_customer(session, survivor_id)
    merged = repo.get_customer(session, merged_id)
    if survivor is None or merged is None or survivor.id == merged.id:
        return None
    if survivor.status != "active" or merged.status != "active" or survivor.kind != merged.kind:
        return None
    row = MergeRequest(
        survivor_id=survivor.id,
        merged_ids=str(merged.id),
        chosen_values="{}",
        reason=reason,
        requested_by=approved_by,
        requested_by_job=None if approved_by else actor.username,
    )
    repo.add(session, row)
    session.flush()
    snapshot = _apply_merge(session, survivor, [merged], {}, approved_by)
    _record_on_survivor(
        session,
        actor,
        survivor,
        action="absorb",
        before={**snapshot["survivor_before"], "absorbed": None},
        absorbed=[merged.id],
        reason=reason,
    )
    row.snapshot = json.dumps(snapshot, sort_keys=True)
    row.status = "approved"
    row.decided_by = approved_by
    row.decided_at = utcnow()
    session.flush()
    if refresh_figures:
        for customer in (survivor, merged):
            refresh_customer_figures(session, customer)
    audit.record_event(
        session,
        actor,
        action="system_merge",
        entity_type=ENTITY,
        entity_id=row.id,
        details={"survivor": survivor.id, "merged": merged.id},
        reason=reason,
    )
    audit.record_change(
        session,
        actor,
        entity_type="customer",
        entity_id=merged.id,
        action="merge",
        before={"status": "active"},
        after={"status": "merged", "merged_into_id": survivor.id},
    )
    return _out(session, row)
