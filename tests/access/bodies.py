"""Valid request bodies for the matrix's state-changing routes.

Each body is one that the route accepts from a principal who may act on the target, so the
matrix's "allowed" cells show real success; a 422 in a table means a rule of the domain (such
as "the new parent is outside your data scope"), never a sloppy body.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from bankcrm.core.formatting import business_today
from bankcrm.customers.models import Customer, MergeRequest
from bankcrm.demo import seed
from bankcrm.identity.models import OrgUnit, User
from tests.access.customer_book import BY_KEY, MERGES, resident_id
from tests.access.integration_book import FRESH_KEY, USED_KEY, records_body
from tests.access.world import Target, World
from tests.integration.files import CORE_HEADER

REASON = "access matrix check"
NEW_PASSWORD = "Matrix!Fresh-Key-2027"


def _version(
    world: World, model: type[User] | type[OrgUnit] | type[Customer] | type[MergeRequest], ident: int | None
) -> int:
    found = world.connection.execute(select(model.version).where(model.id == ident)).scalar_one_or_none()
    return int(found or 1)


def reason(world: World, target: Target) -> dict[str, Any]:
    return {"reason": REASON}


# ---------------------------------------------------------------- org units


def new_team(world: World, target: Target) -> dict[str, Any]:
    """A team under the target unit."""
    return {"code": "MX-NEW", "name": "矩阵新组", "kind": "team", "parent_id": target.id}


def new_team_form(world: World, target: Target) -> dict[str, Any]:
    return {**new_team(world, target), "name_en": ""}


def rename_unit(world: World, target: Target) -> dict[str, Any]:
    return {"name": "矩阵改名", "version": _version(world, OrgUnit, target.id)}


def rename_unit_form(world: World, target: Target) -> dict[str, Any]:
    return {**rename_unit(world, target), "name_en": ""}


def move_unit(world: World, target: Target) -> dict[str, Any]:
    """The target is ``unit:<moved>>unit:<new parent>``; the move takes effect today."""
    assert target.dest_id is not None, f"{target.text}: a move row names the new parent after '>'"
    return {"to_parent_id": target.dest_id, "reason": REASON}


def move_unit_form(world: World, target: Target) -> dict[str, Any]:
    return {**move_unit(world, target), "effective_date": ""}


# ---------------------------------------------------------------- users


def new_user(world: World, target: Target) -> dict[str, Any]:
    """A user in the target unit; the role is the one after '>', else relationship manager."""
    return {
        "username": "matrix.new",
        "display_name": "矩阵新人",
        "org_unit_id": target.id,
        "role": target.dest_key or "relationship_manager",
        "password": NEW_PASSWORD,
    }


def new_user_form(world: World, target: Target) -> dict[str, Any]:
    return {**new_user(world, target), "email": "", "mobile": "", "employee_no": ""}


def edit_user(world: World, target: Target) -> dict[str, Any]:
    """The target user with a new display name, unit and role unchanged."""
    username = target.key
    unit_code = world.user_units.get(username, "HO")
    return {
        "display_name": "矩阵改名",
        "org_unit_id": world.units[unit_code],
        "role": world.user_roles.get(username, "relationship_manager"),
        "version": _version(world, User, target.id),
    }


def edit_user_form(world: World, target: Target) -> dict[str, Any]:
    return {**edit_user(world, target), "email": "", "mobile": "", "employee_no": ""}


def password_reset(world: World, target: Target) -> dict[str, Any]:
    return {"new_password": NEW_PASSWORD, "reason": REASON}


def reveal_mobile(world: World, target: Target) -> dict[str, Any]:
    return {"field": "mobile", "reason": REASON}


def own_password(world: World, target: Target) -> dict[str, Any]:
    return {
        "current_password": seed.DEMO_PASSWORD,
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
    }


def sign_in_form(world: World, target: Target) -> dict[str, Any]:
    """``login:good`` signs in as rm.zhang; ``login:wrong`` gives a wrong password;
    ``login:api-client`` tries to open a browser session as the call-centre system."""
    username = {"good": "rm.zhang", "wrong": "rm.zhang", "api-client": "callcenter"}[target.key]
    password = "not-the-password" if target.key == "wrong" else seed.DEMO_PASSWORD
    return {"username": username, "password": password, "next": "/"}


def language(world: World, target: Target) -> dict[str, Any]:
    return {"locale": "en", "next": "/"}


# ---------------------------------------------------------------- roles and tokens


def role_permissions(world: World, target: Target) -> dict[str, Any]:
    return {"permissions": ["home.view", "profile.edit"], "reason": REASON}


def new_token(world: World, target: Target) -> dict[str, Any]:
    """A token for the target API-client user."""
    return {"name": "matrix new token", "user_id": target.id, "scopes": ["api.access"]}


def audit_filters(world: World, target: Target) -> dict[str, Any]:
    return {"action": "login"}


# ---------------------------------------------------------------- customers

NEW_CUSTOMER_ID = resident_id(date(1992, 4, 18), 91)


def _customer_no(world: World, ident: int | None) -> str:
    found = world.connection.execute(select(Customer.customer_no).where(Customer.id == ident)).scalar()
    return str(found or "C9999999999")


def _dest(target: Target) -> int:
    assert target.dest_id is not None, f"{target.text}: this row names a second record after '>'"
    return target.dest_id


def new_customer(world: World, target: Target) -> dict[str, Any]:
    """An individual nobody resembles, placed in the target unit with the RM after '>' (if any)."""
    return {
        "kind": "individual",
        "name": "欧阳矩阵",
        "id_type": "resident_id",
        "id_number": NEW_CUSTOMER_ID,
        "mobile": "13900000999",
        "org_unit_id": target.id,
        "primary_rm_id": target.dest_id,
    }


def new_customer_form(world: World, target: Target) -> dict[str, Any]:
    return {
        **new_customer(world, target),
        "primary_rm_id": target.dest_id or "",
        "nationality": "CHN",
        "email": "",
        "address": "",
        "birth_date": "",
        "gender": "",
        "risk_level": "",
        "risk_assessed_on": "",
    }


def edit_customer(world: World, target: Target) -> dict[str, Any]:
    """The same name and a new occupation; identifiers and contact data left out (kept as stored)."""
    spec = BY_KEY.get(target.key)
    return {
        "name": spec.name if spec else "无此人",
        "occupation": "工程师",
        "version": _version(world, Customer, target.id),
    }


def edit_customer_form(world: World, target: Target) -> dict[str, Any]:
    return {**edit_customer(world, target), "id_number": "", "mobile": "", "email": "", "address": ""}


def consent(world: World, target: Target) -> dict[str, Any]:
    return {"channel": "sms", "granted": False, "source": "crm"}


def consent_form(world: World, target: Target) -> dict[str, Any]:
    return {"channel": "sms", "granted": "false", "source": "crm"}


def do_not_contact(world: World, target: Target) -> dict[str, Any]:
    return {"do_not_contact": True, "reason": REASON}


def do_not_contact_form(world: World, target: Target) -> dict[str, Any]:
    return {"do_not_contact": "true", "reason": REASON}


def deactivate_form(world: World, target: Target) -> dict[str, Any]:
    return {"active": "false", "reason": REASON}


def household_link(world: World, target: Target) -> dict[str, Any]:
    """A household link from the target customer to the customer after '>'."""
    return {"to_customer_id": _dest(target), "kind": "household"}


def household_link_form(world: World, target: Target) -> dict[str, Any]:
    return {"customer_no": _customer_no(world, _dest(target)), "kind": "household", "share_pct": ""}


def finance_contact(world: World, target: Target) -> dict[str, Any]:
    return {"role": "finance", "name": "矩阵财务"}


def finance_contact_form(world: World, target: Target) -> dict[str, Any]:
    return {**finance_contact(world, target), "mobile": "", "id_type": "", "id_number": ""}


def assistant(world: World, target: Target) -> dict[str, Any]:
    """rm.wang (an RM of BJ-HD-T1) as assistant: allowed for managers whose scope reaches him and
    for customers of his own unit's line; an RM of another branch's customer is refused (422)."""
    return {"user_id": world.users["rm.wang"]}


def interaction(world: World, target: Target) -> dict[str, Any]:
    follow_up = business_today() + timedelta(days=3)
    return {
        "kind": "visit",
        "channel": "branch",
        "summary": "矩阵拜访",
        "next_step": "寄送资料",
        "follow_up_on": follow_up.isoformat(),
    }


def interaction_form(world: World, target: Target) -> dict[str, Any]:
    return {**interaction(world, target), "occurred_at": ""}


# ---------------------------------------------------------------- tags and lists


def new_tag(world: World, target: Target) -> dict[str, Any]:
    return {"code": "matrix-new", "name": "矩阵新标签", "category": "basic"}


def new_tag_form(world: World, target: Target) -> dict[str, Any]:
    return {**new_tag(world, target), "description": ""}


def new_list(world: World, target: Target) -> dict[str, Any]:
    return {"name": "矩阵新名单"}


def new_list_form(world: World, target: Target) -> dict[str, Any]:
    return {**new_list(world, target), "description": ""}


def bulk_tag(world: World, target: Target) -> dict[str, Any]:
    """The target customer gets the matrix's manual tag."""
    return {"tag_id": world.records["tag"]["vip"], "customer_ids": [target.id], "add": True}


def members(world: World, target: Target) -> dict[str, Any]:
    """Customer zh, added to (or removed from) the target list."""
    return {"customer_ids": [world.records["customer"]["zh"]]}


def branch_list_filter(world: World, target: Target) -> dict[str, Any]:
    """Filter a customer list by bm.beijing's personal list."""
    return {"group_id": str(world.records["list"]["bm"]), "size": "100"}


def tag_or_list_form(world: World, target: Target) -> dict[str, Any]:
    """The tag or list named after '>' (``>tag:vip``, ``>list:zh``), added to the target customer."""
    kind = target.text.partition(">")[2].partition(":")[0]
    return {"target": f"{kind}:{_dest(target)}", "operation": "add"}


def bulk_form(world: World, target: Target) -> dict[str, Any]:
    """The search list's bulk action: the target customer ticked, the tag or list after '>' chosen."""
    return {**tag_or_list_form(world, target), "customer_ids": [str(target.id)], "back": "/customers"}


# ---------------------------------------------------------------- merges and handovers


def merge_pair(world: World, target: Target) -> dict[str, Any]:
    """Merge the customer after '>' into the target customer, keeping the merged one's mobile."""
    return {
        "survivor_id": target.id,
        "merged_ids": [_dest(target)],
        "chosen_values": {"mobile": _dest(target)},
        "reason": REASON,
    }


def merge_pair_form(world: World, target: Target) -> dict[str, Any]:
    return {
        "ids": f"{target.id},{_dest(target)}",
        "survivor_id": str(target.id),
        "choose_mobile": str(_dest(target)),
        "reason": REASON,
    }


def merge_pair_query(world: World, target: Target) -> dict[str, Any]:
    return {"ids": f"{target.id},{_dest(target)}"}


def merge_again(world: World, target: Target) -> dict[str, Any]:
    """The target request's own customers, filed again (an edit voids the request and files anew)."""
    _maker, survivor, merged = MERGES.get(target.key, MERGES["zh"])
    customers = world.records["customer"]
    return {"survivor_id": customers[survivor], "merged_ids": [customers[merged]], "reason": REASON}


def merge_version(world: World, target: Target) -> dict[str, Any]:
    return {"version": _version(world, MergeRequest, target.id)}


def merge_decision_form(world: World, target: Target) -> dict[str, Any]:
    """The decision after '>': ``decision:approve``, ``decision:reject`` or ``decision:unmerge``."""
    decision = target.dest_key or "approve"
    return {"decision": decision, "version": str(_version(world, MergeRequest, target.id)), "note": REASON}


def handover(world: World, target: Target) -> dict[str, Any]:
    """The whole portfolio of the target RM to the RM after '>'."""
    return {"from_rm_id": target.id, "to_rm_id": _dest(target), "reason": REASON}


def handover_form(world: World, target: Target) -> dict[str, Any]:
    return {**handover(world, target), "customer_ids": ""}


def approve(world: World, target: Target) -> dict[str, Any]:
    return {"approve": True, "note": REASON}


def approve_form(world: World, target: Target) -> dict[str, Any]:
    return {"decision": "approve", "note": REASON}


# ---------------------------------------------------------------- data integration


def delivery_form(world: World, target: Target) -> dict[str, Any]:
    """A core banking delivery with one new customer, uploaded for the source the target names."""
    content = io.StringIO()
    writer = csv.DictWriter(content, fieldnames=CORE_HEADER)
    writer.writeheader()
    writer.writerows(records_body("95")["records"])
    upload = ("core_customers_20261129.csv", content.getvalue().encode(), "text/csv")
    return {"source": target.key, "file": upload}


def records(world: World, target: Target) -> dict[str, Any]:
    """One new customer of the core source, as a real-time event."""
    return records_body("96")


def idempotency_key(world: World, target: Target) -> dict[str, Any]:
    """The key after '>' (``key:used`` is the one the administrator already sent), else a fresh one."""
    return {"Idempotency-Key": USED_KEY if target.dest_key == "used" else FRESH_KEY}


def match_verdict(world: World, target: Target) -> dict[str, Any]:
    """Accept the pair: the two customers merge (the decision that changes the most)."""
    return {"accept": True}


def match_verdict_form(world: World, target: Target) -> dict[str, Any]:
    return {"decision": "accept"}
