"""Valid request bodies for the matrix's state-changing routes.

Each body is one that the route accepts from a principal who may act on the target, so the
matrix's "allowed" cells show real success; a 422 in a table means a rule of the domain (such
as "the new parent is outside your data scope"), never a sloppy body.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bankcrm.demo import seed
from bankcrm.identity.models import OrgUnit, User
from tests.access.world import Target, World

REASON = "access matrix check"
NEW_PASSWORD = "Matrix!Fresh-Key-2027"


def _version(world: World, model: type[User] | type[OrgUnit], ident: int | None) -> int:
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
