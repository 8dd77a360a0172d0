"""Customer information management: validation, create/edit/deactivate, duplicates, scopes, masking."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bankcrm.audit.models import AuditEvent
from bankcrm.core.errors import PermissionDenied, ValidationFailed
from bankcrm.core.formatting import business_today
from bankcrm.core.pagination import PageRequest
from bankcrm.customers import repository
from bankcrm.customers.schemas import CustomerCreate, CustomerFilter, CustomerUpdate, RevealIn
from bankcrm.customers.service import customers, portfolio
from bankcrm.customers.service.errors import CustomerNotFound, LikelyDuplicates, StaleCustomerEdit
from tests.customers.conftest import resident_id, unit_id, uscc, user_id


def rules(error: ValidationFailed) -> set[tuple[str, str]]:
    return {(p.field, p.rule) for p in error.problems}


def test_individual_gets_birth_date_and_gender_from_the_id(make_customer) -> None:  # type: ignore[no-untyped-def]
    created = make_customer(id_number=resident_id(date(1950, 3, 2), male=False), name="李秀英")
    assert created.birth_date == date(1950, 3, 2)
    assert created.gender == "F"
    assert created.customer_no.startswith("C")
    assert "senior" in created.flags  # 65+ gets extra care
    assert created.id_number.startswith("110")
    assert "*" in created.id_number


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"id_number": "110108198506150019"}, ("id_number", "id.checksum")),
        ({"id_number": "110108198502300010"}, ("id_number", "id.birth_date")),
        ({"id_number": "11010820990101001X"}, ("id_number", "id.birth_date")),
        ({"mobile": "2345"}, ("mobile", "mobile.format")),
        ({"email": "not-an-address"}, ("email", "email.format")),
        ({"id_type": "uscc"}, ("id_type", "customer.id_type_for_kind")),
        ({"risk_level": "C3"}, ("risk_assessed_on", "risk.date_required")),
    ],
)
def test_invalid_input_names_field_and_rule_and_saves_nothing(
    db: Session,
    make_customer,
    fields: dict[str, object],  # type: ignore[no-untyped-def]
    expected: tuple[str, str],
    as_user,
) -> None:
    as_user("rm.zhang")  # signed in before counting
    before = db.execute(select(AuditEvent.id)).all()
    with pytest.raises(ValidationFailed) as caught:
        make_customer(**fields)
    assert expected in rules(caught.value)
    assert db.execute(select(AuditEvent.id)).all() == before


def test_birth_date_that_contradicts_the_id_is_refused(make_customer) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as caught:
        make_customer(id_number=resident_id(date(1985, 6, 15)), birth_date=date(1985, 6, 16))
    assert ("birth_date", "id.birth_date_mismatch") in rules(caught.value)


def test_corporate_customer_needs_a_valid_uscc(make_customer) -> None:  # type: ignore[no-untyped-def]
    created = make_customer(
        kind="corporate",
        name="北京星辰科技有限公司",
        id_type="uscc",
        id_number=uscc(),
        industry="软件和信息技术服务业",
        mobile=None,
    )
    assert created.kind == "corporate"
    with pytest.raises(ValidationFailed) as caught:
        make_customer(
            kind="corporate", name="坏代码公司", id_type="uscc", id_number=uscc()[:-1] + "0", mobile=None
        )
    assert ("id_number", "uscc.checksum") in rules(caught.value) or (
        "id_number",
        "customer.id_unique",
    ) in rules(caught.value)


def test_the_same_id_cannot_belong_to_two_customers(make_customer) -> None:  # type: ignore[no-untyped-def]
    number = resident_id(date(1990, 1, 1))
    make_customer(id_number=number)
    with pytest.raises(ValidationFailed) as caught:
        make_customer(id_number=number, name="另一个人")
    assert ("id_number", "customer.id_unique") in rules(caught.value)


def test_likely_duplicates_are_shown_before_saving(make_customer) -> None:  # type: ignore[no-untyped-def]
    first = make_customer(name="王建国", mobile="13811112222")
    with pytest.raises(LikelyDuplicates) as caught:
        make_customer(name="王建国", mobile="13811112222", confirm_not_duplicate=False)
    problem = caught.value.problems[0]
    assert problem.rule == "customer.likely_duplicate"
    assert problem.params["customer_no"] == first.customer_no
    assert "same mobile number" in problem.params["reasons"]
    confirmed = make_customer(name="王建国", mobile="13811112222", confirm_not_duplicate=True)
    assert confirmed.id != first.id


def test_duplicates_outside_the_scope_are_counted_not_shown(make_customer) -> None:  # type: ignore[no-untyped-def]
    make_customer("rm.liu", name="赵敏", mobile="13822223333")
    with pytest.raises(LikelyDuplicates) as caught:
        make_customer("rm.zhang", name="赵敏", mobile="13822223333", confirm_not_duplicate=False)
    assert [p.rule for p in caught.value.problems] == ["customer.likely_duplicate_hidden"]


def test_an_edit_that_leaves_the_mobile_out_needs_no_duplicate_confirmation(
    make_customer, as_user, db: Session
) -> None:  # type: ignore[no-untyped-def]
    """A namesake with another mobile is no new duplicate when only the occupation changes."""
    make_customer(name="周杰", mobile="13833334444")
    second = make_customer(name="周杰", mobile="13833335555")
    rm = as_user("rm.zhang")
    edited = customers.update_customer(
        db,
        rm,
        customer_id=second.id,
        data=CustomerUpdate(name="周杰", occupation="教师", version=second.version),
    )
    assert edited.occupation == "教师"
    assert edited.mobile == second.mobile  # left out = kept
    with pytest.raises(LikelyDuplicates):  # a new mobile is still checked
        customers.update_customer(
            db,
            rm,
            customer_id=second.id,
            data=CustomerUpdate(name="周杰", mobile="13833334444", version=edited.version),
        )


def test_a_stale_edit_is_refused_and_changes_nothing(db: Session, make_customer, as_user) -> None:  # type: ignore[no-untyped-def]
    created = make_customer()
    rm = as_user("rm.zhang")
    base = {
        "name": created.name,
        "id_type": "resident_id",
        "id_number": customers.readable_customer(db, customers.scope_of(db, rm), created.id).id_number,
    }
    customers.update_customer(
        db,
        rm,
        customer_id=created.id,
        data=CustomerUpdate(**base, occupation="教师", version=created.version),
    )
    with pytest.raises(StaleCustomerEdit):
        customers.update_customer(
            db,
            rm,
            customer_id=created.id,
            data=CustomerUpdate(**base, occupation="医生", version=created.version),
        )
    assert customers.get_customer(db, rm, customer_id=created.id).occupation == "教师"


def test_changing_the_mobile_keeps_the_old_one_in_history(db: Session, make_customer, as_user) -> None:  # type: ignore[no-untyped-def]
    from bankcrm.customers.service import view360

    created = make_customer(mobile="13855556666")
    rm = as_user("rm.zhang")
    stored = customers.readable_customer(db, customers.scope_of(db, rm), created.id)
    customers.update_customer(
        db,
        rm,
        customer_id=created.id,
        data=CustomerUpdate(
            name=created.name,
            id_type="resident_id",
            id_number=stored.id_number,
            mobile="13877778888",
            version=created.version,
            confirm_not_duplicate=True,
        ),
    )
    contacts = view360.contact_points(db, rm, customer_id=created.id)
    assert [(c.value, c.valid_to is None) for c in contacts if c.kind == "mobile"] == [
        ("138****8888", True),
        ("138****6666", False),
    ]


def test_deactivation_needs_the_right_and_a_reason_and_deletes_nothing(
    db: Session, make_customer, as_user
) -> None:  # type: ignore[no-untyped-def]
    created = make_customer()
    with pytest.raises(PermissionDenied):
        customers.set_active(
            db, as_user("rm.zhang"), customer_id=created.id, active=False, reason="moved abroad"
        )
    manager = as_user("sbm.haidian")
    done = customers.set_active(db, manager, customer_id=created.id, active=False, reason="moved abroad")
    assert done.status == "deactivated"
    assert "deactivated" in done.flags
    with pytest.raises(ValidationFailed):
        customers.update_customer(
            db,
            as_user("rm.zhang"),
            customer_id=created.id,
            data=CustomerUpdate(name="x", id_type="resident_id", id_number="x", version=done.version),
        )
    back = customers.set_active(db, manager, customer_id=created.id, active=True, reason="returned")
    assert back.status == "active"


def test_rms_see_their_own_portfolio_and_managers_their_subtree(make_customer, db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    mine = make_customer("rm.zhang", name="甲客户")
    colleague = make_customer("rm.chen", name="乙客户")
    shanghai = make_customer("rm.liu", name="丙客户")
    everything = CustomerFilter(status=None)
    seen = {
        name: {
            c.id
            for c in customers.list_customers(
                db, as_user(name), filters=everything, page=PageRequest(1, 100)
            ).items
        }
        for name in ("rm.zhang", "sbm.haidian", "bm.beijing", "exec")
    }
    assert seen["rm.zhang"] == {mine.id}
    assert seen["sbm.haidian"] == {mine.id}
    assert seen["bm.beijing"] == {mine.id, colleague.id}
    assert {mine.id, colleague.id, shanghai.id} <= seen["exec"]
    with pytest.raises(CustomerNotFound):
        customers.get_customer(db, as_user("rm.zhang"), customer_id=colleague.id)


def test_analysts_see_names_and_identifiers_masked(make_customer, db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    created = make_customer("rm.zhang", name="欧阳娜娜")
    seen = customers.get_customer(db, as_user("analyst"), customer_id=created.id)
    assert seen.name == "欧阳**"
    assert seen.mobile
    assert "****" in seen.mobile
    assert not seen.can_reveal


def test_a_section_header_is_scoped_and_masked_like_the_full_record(
    make_customer, db: Session, as_user
) -> None:  # type: ignore[no-untyped-def]
    created = make_customer("rm.zhang", name="欧阳娜娜")
    assert customers.get_customer_header(db, as_user("rm.zhang"), customer_id=created.id).name == "欧阳娜娜"
    assert customers.get_customer_header(db, as_user("analyst"), customer_id=created.id).name == "欧阳**"
    with pytest.raises(CustomerNotFound):
        customers.get_customer_header(db, as_user("rm.chen"), customer_id=created.id)


def test_access_checks_reused_in_a_transaction_follow_its_writes(make_customer, db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    created = make_customer("rm.zhang")
    zhang, chen = as_user("rm.zhang"), as_user("rm.chen")
    with pytest.raises(CustomerNotFound):
        customers.get_customer_header(db, chen, customer_id=created.id)
    portfolio.add_assistant(db, as_user("bm.beijing"), customer_id=created.id, user_id=chen.user_id)
    assert customers.get_customer_header(db, chen, customer_id=created.id).id == created.id
    assert customers.get_customer_header(db, zhang, customer_id=created.id).id == created.id
    repository.end_primary_assignment(db, created.id, business_today())  # a bulk UPDATE, no flush
    with pytest.raises(CustomerNotFound):
        customers.get_customer_header(db, zhang, customer_id=created.id)


def test_reveal_is_audited_and_only_for_one_field(make_customer, db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    created = make_customer("rm.zhang", mobile="13966667777")
    revealed = customers.reveal(
        db,
        as_user("rm.zhang"),
        customer_id=created.id,
        data=RevealIn(field="mobile", reason="confirming an appointment"),
    )
    assert revealed.value == "13966667777"
    event = db.execute(
        select(AuditEvent).where(AuditEvent.action == "unmask", AuditEvent.entity_type == "customer")
    ).scalar_one()
    assert event.reason == "confirming an appointment"
    with pytest.raises(PermissionDenied):
        customers.reveal(
            db, as_user("analyst"), customer_id=created.id, data=RevealIn(field="mobile", reason="curiosity")
        )


def test_placement_must_be_in_scope_and_owner_an_active_rm(db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    data = {
        "kind": "individual",
        "name": "测试",
        "id_type": "resident_id",
        "id_number": resident_id(date(1980, 1, 1)),
        "confirm_not_duplicate": True,
        "org_unit_id": unit_id(db, "SH-PD"),
        "primary_rm_id": user_id(db, "mkt"),
    }
    with pytest.raises(ValidationFailed) as caught:
        customers.create_customer(db, as_user("rm.zhang"), data=CustomerCreate.model_validate(data))
    assert rules(caught.value) >= {
        ("org_unit_id", "customer.org_unit"),
        ("primary_rm_id", "customer.rm_role"),
    }


def test_risk_assessment_older_than_a_year_is_flagged(make_customer) -> None:  # type: ignore[no-untyped-def]
    old = make_customer(risk_level="C3", risk_assessed_on=business_today() - timedelta(days=400))
    fresh = make_customer(risk_level="C3", risk_assessed_on=business_today() - timedelta(days=10))
    assert "risk_assessment_expired" in old.flags
    assert fresh.risk_assessment_valid


def test_a_customer_never_assessed_is_flagged_as_missing_not_expired(make_customer) -> None:  # type: ignore[no-untyped-def]
    never = make_customer()
    assert "risk_assessment_missing" in never.flags
    assert "risk_assessment_expired" not in never.flags
