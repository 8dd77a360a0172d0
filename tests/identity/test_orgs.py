"""Organisation tree: creation rules, effective-dated moves of whole subtrees, closing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from bankcrm.core.context import Actor
from bankcrm.core.errors import ValidationFailed
from bankcrm.core.formatting import business_today
from bankcrm.identity.schemas import OrgUnitCreate, OrgUnitMoveIn, OrgUnitUpdate
from bankcrm.identity.service import orgs
from bankcrm.identity.service import users as user_service
from bankcrm.identity.service.errors import OrgUnitNotFound, StaleEdit


def unit(db: Session, code: str):  # type: ignore[no-untyped-def]
    found = orgs.find_unit_by_code(db, code)
    assert found is not None
    return found


def test_units_get_materialised_paths_under_their_parent(db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    created = orgs.create_org_unit(
        db,
        as_user("admin"),
        data=OrgUnitCreate(code="BJ-XC", name="北京西城支行", kind="sub_branch", parent_id=unit(db, "BJ").id),
    )
    assert created.path == f"{unit(db, 'BJ').path}{created.id}/"
    assert created.depth == 2


@pytest.mark.parametrize(
    ("kind", "parent", "rule"),
    [
        ("branch", "BJ", "org.kind_under_parent"),  # a branch under a branch
        ("sub_branch", None, "org.parent_required"),
        ("team", "BJ-HD-T1", "org.kind_under_parent"),  # nothing sits under a team
    ],
)
def test_the_tree_keeps_its_shape(db: Session, as_user, kind: str, parent: str | None, rule: str) -> None:  # type: ignore[no-untyped-def]
    data = OrgUnitCreate(
        code="NEW-1", name="新机构", kind=kind, parent_id=unit(db, parent).id if parent else None
    )  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed) as caught:
        orgs.create_org_unit(db, as_user("admin"), data=data)
    assert caught.value.problems[0].rule == rule


def test_codes_are_unique_and_there_is_one_head_office(db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as caught:
        orgs.create_org_unit(
            db,
            as_user("admin"),
            data=OrgUnitCreate(code="BJ", name="x", kind="branch", parent_id=unit(db, "HO").id),
        )
    assert caught.value.problems[0].rule == "org.code_unique"
    with pytest.raises(ValidationFailed) as caught:
        orgs.create_org_unit(
            db, as_user("admin"), data=OrgUnitCreate(code="HO2", name="x", kind="head_office")
        )
    assert caught.value.problems[0].rule == "org.single_head_office"


def test_moving_a_sub_branch_moves_its_teams_and_staff(db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    admin = as_user("admin")
    haidian, shanghai = unit(db, "BJ-HD"), unit(db, "SH")
    move = orgs.move_org_unit(
        db,
        admin,
        unit_id=haidian.id,
        data=OrgUnitMoveIn(to_parent_id=shanghai.id, reason="regional restructuring"),
    )
    assert move.status == "applied"
    team = unit(db, "BJ-HD-T1")
    assert team.path == f"{shanghai.path}{haidian.id}/{team.id}/"
    assert team.depth == 3
    rm = user_service.find_user_by_username(db, "rm.zhang")
    assert rm is not None
    assert rm.org_path == team.path
    # Beijing's manager no longer sees Haidian; Shanghai's scope now includes it.
    with pytest.raises(OrgUnitNotFound):
        orgs.get_org_unit(db, as_user("bm.beijing"), unit_id=haidian.id)


def test_a_future_move_waits_for_its_date(db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    admin = as_user("admin")
    haidian = unit(db, "BJ-HD")
    effective = business_today() + timedelta(days=10)
    move = orgs.move_org_unit(
        db,
        admin,
        unit_id=haidian.id,
        data=OrgUnitMoveIn(
            to_parent_id=unit(db, "SH").id, effective_date=effective, reason="from next month"
        ),
    )
    assert move.status == "scheduled"
    assert unit(db, "BJ-HD").parent_id == unit(db, "BJ").id
    assert orgs.apply_due_moves(db, Actor.system("test"), today=effective - timedelta(days=1)) == 0
    assert orgs.apply_due_moves(db, Actor.system("test"), today=effective) == 1
    assert unit(db, "BJ-HD").parent_id == unit(db, "SH").id


def test_a_unit_cannot_move_under_its_own_subtree_or_into_the_past(db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    admin = as_user("admin")
    with pytest.raises(ValidationFailed) as caught:
        orgs.move_org_unit(
            db,
            admin,
            unit_id=unit(db, "BJ").id,
            data=OrgUnitMoveIn(to_parent_id=unit(db, "BJ-HD").id, reason="a loop"),
        )
    assert caught.value.problems[0].rule in {"org.move_cycle", "org.kind_under_parent"}
    with pytest.raises(ValidationFailed) as caught:
        orgs.move_org_unit(
            db,
            admin,
            unit_id=unit(db, "BJ-HD").id,
            data=OrgUnitMoveIn(
                to_parent_id=unit(db, "SH").id,
                effective_date=business_today() - timedelta(days=1),
                reason="late",
            ),
        )
    assert caught.value.problems[0].rule == "org.move_in_past"


def test_closing_needs_an_empty_unit(db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    admin = as_user("admin")
    with pytest.raises(ValidationFailed) as caught:
        orgs.set_org_unit_active(db, admin, unit_id=unit(db, "BJ-HD").id, active=False, reason="merge")
    assert caught.value.problems[0].rule == "org.close_children"
    with pytest.raises(ValidationFailed) as caught:
        orgs.set_org_unit_active(db, admin, unit_id=unit(db, "BJ-HD-T1").id, active=False, reason="merge")
    assert caught.value.problems[0].rule == "org.close_users"
    rm = user_service.find_user_by_username(db, "rm.zhang")
    assert rm is not None
    user_service.set_user_active(db, admin, user_id=rm.id, active=False, reason="left")
    closed = orgs.set_org_unit_active(
        db, admin, unit_id=unit(db, "BJ-HD-T1").id, active=False, reason="merge"
    )
    assert not closed.is_active


def test_renaming_checks_the_version(db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    admin = as_user("admin")
    current = orgs.get_org_unit(db, admin, unit_id=unit(db, "BJ").id)
    orgs.update_org_unit(
        db, admin, unit_id=current.id, data=OrgUnitUpdate(name="北京分行营业部", version=current.version)
    )
    with pytest.raises(StaleEdit):
        orgs.update_org_unit(
            db, admin, unit_id=current.id, data=OrgUnitUpdate(name="x", version=current.version)
        )


def test_scopes_limit_which_units_are_listed(db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    from bankcrm.core.pagination import PageRequest

    codes = {u.code for u in orgs.list_org_units(db, as_user("bm.beijing"), page=PageRequest(1, 50)).items}
    assert codes == {"BJ", "BJ-HD", "BJ-HD-T1", "BJ-CY", "BJ-CY-T1"}
