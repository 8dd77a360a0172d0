"""User administration: validation, optimistic locking, disable, reveal with audit, data scopes."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bankcrm.audit.models import AuditEvent
from bankcrm.core.context import Origin
from bankcrm.core.errors import ValidationFailed
from bankcrm.core.pagination import PageRequest
from bankcrm.core.security import Argon2Cost, PasswordHashing
from bankcrm.demo import seed
from bankcrm.identity.schemas import RevealIn, UserCreate, UserUpdate
from bankcrm.identity.service import auth, orgs
from bankcrm.identity.service import users as user_service
from bankcrm.identity.service.errors import StaleEdit, UserNotFound


def unit_id(db: Session, code: str) -> int:
    unit = orgs.find_unit_by_code(db, code)
    assert unit is not None
    return unit.id


def user_id(db: Session, username: str) -> int:
    user = user_service.find_user_by_username(db, username)
    assert user is not None
    return user.id


def new_user(db: Session, **overrides: object) -> UserCreate:
    values: dict[str, object] = {
        "username": "rm.wang",
        "display_name": "王小二",
        "org_unit_id": unit_id(db, "BJ-HD-T1"),
        "role": "relationship_manager",
        "password": "Blue-river-stone-88",
        "mobile": "+86 139-1111-2222",
        "email": "Wang@Bank.cn",
        "employee_no": "E1001",
    }
    values.update(overrides)
    return UserCreate.model_validate(values)


def test_admin_creates_a_user_with_normalised_contacts_who_must_change_password(db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    created = user_service.create_user(db, as_user("admin"), data=new_user(db))
    assert created.mobile == "139****2222"  # masked on the way out
    assert created.email == "wang@bank.cn"
    assert created.must_change_password
    stored = user_service.find_user_by_username(db, "rm.wang")
    assert stored is not None
    assert stored.mobile == "13911112222"
    assert stored.password_hash
    assert stored.password_hash.startswith("$argon2id$")
    event = db.execute(
        select(AuditEvent).where(AuditEvent.entity_type == "user", AuditEvent.entity_id == str(created.id))
    ).scalar_one()
    assert "13911112222" not in event.changes
    assert "139****2222" in event.changes


def test_all_problems_of_a_form_are_reported_together_and_nothing_is_saved(db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    data = new_user(
        db,
        username="rm.zhang",
        mobile="12345",
        email="not-an-email",
        password="password1234",
        org_unit_id=999_999,
        role="wizard",
    )
    with pytest.raises(ValidationFailed) as caught:
        user_service.create_user(db, as_user("admin"), data=data)
    found = {(p.field, p.rule) for p in caught.value.problems}
    assert found == {
        ("username", "user.username_unique"),
        ("mobile", "mobile.format"),
        ("email", "email.format"),
        ("org_unit_id", "user.org_unit_exists"),
        ("role", "user.role_exists"),
    }
    assert user_service.count_all_users(db) == 12


def test_weak_initial_password_is_refused(db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as caught:
        user_service.create_user(db, as_user("admin"), data=new_user(db, password="password1234"))
    assert caught.value.problems[0].rule == "password.common"


def test_api_clients_need_no_password(db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    created = user_service.create_user(
        db,
        as_user("admin"),
        data=new_user(
            db, username="wealth.system", role="api_client", password=None, mobile=None, employee_no=None
        ),
    )
    assert not created.must_change_password


def test_a_stale_edit_is_refused_and_changes_nothing(db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    admin = as_user("admin")
    target = user_service.get_user(db, admin, user_id=user_id(db, "rm.zhang"))
    first = UserUpdate(
        display_name="张晓明（主管）",
        org_unit_id=target.org_unit_id,
        role=target.role,
        version=target.version,
    )
    user_service.update_user(db, admin, user_id=target.id, data=first)
    late = UserUpdate(
        display_name="张小明", org_unit_id=target.org_unit_id, role=target.role, version=target.version
    )
    with pytest.raises(StaleEdit):
        user_service.update_user(db, admin, user_id=target.id, data=late)
    assert user_service.get_user(db, admin, user_id=target.id).display_name == "张晓明（主管）"


def test_signing_in_leaves_the_version_so_an_open_edit_form_stays_valid(
    db: Session, as_user, settings
) -> None:  # type: ignore[no-untyped-def]
    """Sign-in bookkeeping (last sign-in, failed count) is no edit: an administrator who opened the
    user's form before the user signed in can still save it."""
    admin = as_user("admin")
    opened = user_service.get_user(db, admin, user_id=user_id(db, "rm.zhang"))
    wrong = auth.login(db, username="rm.zhang", password="not-it", origin=Origin(ip="t"), settings=settings)
    right = auth.login(
        db, username="rm.zhang", password=seed.DEMO_PASSWORD, origin=Origin(ip="t"), settings=settings
    )
    assert not wrong.ok
    assert right.ok
    stored = user_service.find_user_by_username(db, "rm.zhang")
    assert stored is not None
    assert stored.last_login_at is not None
    assert stored.failed_logins == 0
    assert user_service.get_user(db, admin, user_id=opened.id).version == opened.version
    saved = user_service.update_user(
        db,
        admin,
        user_id=opened.id,
        data=UserUpdate(
            display_name="张晓明（组长）",
            org_unit_id=opened.org_unit_id,
            role=opened.role,
            version=opened.version,
        ),
    )
    assert saved.display_name == "张晓明（组长）"


def test_a_hash_of_older_cost_is_upgraded_at_sign_in_without_a_version_bump(
    db: Session, settings, demo
) -> None:  # type: ignore[no-untyped-def]
    stored = user_service.find_user_by_username(db, "rm.zhang")
    assert stored is not None
    stored.password_hash = PasswordHashing(Argon2Cost(time_cost=2, memory_kib=1024, parallelism=1)).hash(
        seed.DEMO_PASSWORD
    )
    db.flush()
    old_hash, version = stored.password_hash, stored.version
    assert auth.login(
        db, username="rm.zhang", password=seed.DEMO_PASSWORD, origin=Origin(ip="t"), settings=settings
    ).ok
    db.refresh(stored)
    assert stored.password_hash != old_hash
    assert stored.version == version
    assert auth.login(
        db, username="rm.zhang", password=seed.DEMO_PASSWORD, origin=Origin(ip="t"), settings=settings
    ).ok


def test_an_edit_that_omits_the_mobile_keeps_it(db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    admin = as_user("admin")
    target = user_service.get_user(db, admin, user_id=user_id(db, "rm.zhang"))
    user_service.update_user(
        db,
        admin,
        user_id=target.id,
        data=UserUpdate(
            display_name="张晓明", org_unit_id=target.org_unit_id, role=target.role, version=target.version
        ),
    )
    stored = user_service.find_user_by_username(db, "rm.zhang")
    assert stored is not None
    assert stored.mobile == "13912345678"


def test_moving_a_user_to_another_unit_moves_their_data_scope(db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    admin = as_user("admin")
    target = user_service.get_user(db, admin, user_id=user_id(db, "rm.zhang"))
    user_service.update_user(
        db,
        admin,
        user_id=target.id,
        data=UserUpdate(
            display_name="张晓明",
            org_unit_id=unit_id(db, "SH-PD-T1"),
            role=target.role,
            version=target.version,
        ),
    )
    with pytest.raises(UserNotFound):
        user_service.get_user(db, as_user("bm.beijing"), user_id=target.id)


def test_administrators_cannot_disable_themselves_or_change_their_own_role(db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    admin = as_user("admin")
    with pytest.raises(ValidationFailed) as caught:
        user_service.set_user_active(db, admin, user_id=admin.user_id, active=False, reason="oops")
    assert caught.value.problems[0].rule == "user.disable_self"
    me = user_service.get_user(db, admin, user_id=admin.user_id)
    with pytest.raises(ValidationFailed) as caught:
        user_service.update_user(
            db,
            admin,
            user_id=me.id,
            data=UserUpdate(
                display_name=me.display_name, org_unit_id=me.org_unit_id, role="analyst", version=me.version
            ),
        )
    assert caught.value.problems[0].rule == "user.own_role"


def test_revealing_a_mobile_number_needs_a_reason_and_is_audited(db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    manager = as_user("sbm.haidian")
    target = user_id(db, "rm.zhang")
    revealed = user_service.reveal(
        db, manager, user_id=target, data=RevealIn(field="mobile", reason="arranging a client visit")
    )
    assert revealed.value == "13912345678"
    event = db.execute(select(AuditEvent).where(AuditEvent.action == "unmask")).scalar_one()
    assert (event.actor_name, event.entity_id, event.reason) == (
        "sbm.haidian",
        str(target),
        "arranging a client visit",
    )


def test_out_of_scope_users_do_not_exist_for_the_reader(db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    branch = as_user("bm.beijing")
    with pytest.raises(UserNotFound):
        user_service.get_user(db, branch, user_id=user_id(db, "rm.liu"))
    with pytest.raises(UserNotFound):
        user_service.reveal(
            db, branch, user_id=user_id(db, "rm.liu"), data=RevealIn(field="mobile", reason="curious")
        )
    visible = {u.username for u in user_service.list_users(db, branch, page=PageRequest(1, 100)).items}
    assert visible == {"bm.beijing", "sbm.haidian", "rm.zhang", "rm.chen"}


def test_list_search_filter_sort_and_page(db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    admin = as_user("admin")
    found = user_service.list_users(db, admin, page=PageRequest(1, 25), search="rm.")
    assert {u.username for u in found.items} == {"rm.zhang", "rm.chen", "rm.liu"}
    by_role = user_service.list_users(
        db, admin, page=PageRequest(1, 25), role="relationship_manager", sort="username", descending=True
    )
    assert [u.username for u in by_role.items] == ["rm.zhang", "rm.liu", "rm.chen"]
    paged = user_service.list_users(db, admin, page=PageRequest(2, 5))
    assert paged.total == 12
    assert len(paged.items) == 5
    assert paged.pages == 3


def test_search_treats_sql_wildcards_and_quotes_as_text(db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    admin = as_user("admin")
    for term in ("%", "_", "' OR 1=1 --", "\\"):
        assert user_service.list_users(db, admin, page=PageRequest(1, 25), search=term).total == 0


def test_listed_users_read_exactly_as_each_user_does_on_its_own(db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    admin = as_user("admin")
    listed = user_service.list_users(db, admin, page=PageRequest(1, 100))
    assert listed.total == len(listed.items) > 0
    for item in listed.items:
        assert item == user_service.get_user(db, admin, user_id=item.id)
    assert any(item.mobile and "****" in item.mobile for item in listed.items)  # masked in the list too


def test_a_scoped_list_counts_only_what_the_reader_sees_even_past_the_last_page(db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    branch = as_user("bm.beijing")
    first = user_service.list_users(db, branch, page=PageRequest(1, 3))
    beyond = user_service.list_users(db, branch, page=PageRequest(5, 3))
    assert (first.total, len(first.items)) == (4, 3)
    assert (beyond.total, beyond.items) == (4, [])


def test_list_statements_built_once_still_follow_each_readers_scope_and_filters(db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    admin, branch, sub_branch = as_user("admin"), as_user("bm.beijing"), as_user("sbm.haidian")

    def names(principal, **filters) -> set[str]:  # type: ignore[no-untyped-def]
        return {
            u.username
            for u in user_service.list_users(db, principal, page=PageRequest(1, 100), **filters).items
        }

    for _ in range(2):  # the second round runs the statements the first one built
        assert user_service.list_users(db, admin, page=PageRequest(1, 100)).total == 12
        assert names(branch) == {"bm.beijing", "sbm.haidian", "rm.zhang", "rm.chen"}
        assert names(sub_branch) == {"sbm.haidian", "rm.zhang"}
        assert names(branch, search="chen") == {"rm.chen"}
        assert names(sub_branch, search="chen") == set()
        assert names(sub_branch, search="zhang") == {"rm.zhang"}
        assert names(admin, role="relationship_manager", search="rm.") == {"rm.zhang", "rm.chen", "rm.liu"}


def test_the_largest_ids_filter_the_list_to_nothing_instead_of_failing(db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    largest = 2**63 - 2  # ids are 64-bit on PostgreSQL: a bound filter must not be cast to 32 bits
    found = user_service.list_users(db, as_user("admin"), page=PageRequest(1, 25), org_unit_id=largest)
    assert (found.items, found.total) == ([], 0)
