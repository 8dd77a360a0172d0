"""Nothing outside a user's data scope is granted or hinted at: not through assistants, form
errors, the other party of a link, counts, the English name, or the audit trail of an export."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bankcrm.audit.models import AuditEvent
from bankcrm.core.errors import ValidationFailed
from bankcrm.core.pagination import PageRequest
from bankcrm.customers.schemas import CustomerCreate, CustomerFilter, HandoverIn, RelationshipIn
from bankcrm.customers.service import customers, portfolio, relationships
from bankcrm.customers.service.errors import CustomerNotFound
from tests.customers.conftest import resident_id, user_id


def _rule_of(raised: pytest.ExceptionInfo[ValidationFailed]) -> list[tuple[str, str]]:
    return [(p.field, p.rule) for p in raised.value.problems]


def test_an_rm_cannot_open_a_customer_to_an_rm_of_another_branch_by_naming_an_assistant(
    db: Session, as_user, make_customer
) -> None:  # type: ignore[no-untyped-def]
    theirs = make_customer("rm.liu", name="上海客户")
    with pytest.raises(ValidationFailed) as raised:
        portfolio.add_assistant(db, as_user("rm.liu"), customer_id=theirs.id, user_id=user_id(db, "rm.zhang"))
    assert _rule_of(raised) == [("user_id", "customer.assistant_unit")]
    with pytest.raises(CustomerNotFound):
        customers.get_customer(db, as_user("rm.zhang"), customer_id=theirs.id)


def test_an_assistant_may_work_above_the_customers_unit_or_within_a_managers_scope(
    db: Session, as_user, make_customer
) -> None:  # type: ignore[no-untyped-def]
    mine = make_customer("rm.zhang", name="海淀客户")
    portfolio.add_assistant(db, as_user("rm.zhang"), customer_id=mine.id, user_id=user_id(db, "sbm.haidian"))
    portfolio.add_assistant(db, as_user("bm.beijing"), customer_id=mine.id, user_id=user_id(db, "rm.chen"))
    names = {a.user_name for a in portfolio.assignments(db, as_user("rm.zhang"), customer_id=mine.id)}
    assert {"赵支行长", "陈思远"} <= names
    assert customers.get_customer(db, as_user("rm.chen"), customer_id=mine.id).id == mine.id


def test_a_customer_number_outside_the_scope_answers_like_an_unknown_one(
    db: Session, as_user, make_customer
) -> None:  # type: ignore[no-untyped-def]
    theirs = make_customer("rm.liu", name="上海客户")
    with pytest.raises(CustomerNotFound) as hidden:
        customers.find_by_number(db, as_user("rm.zhang"), customer_no=theirs.customer_no)
    with pytest.raises(CustomerNotFound) as unknown:
        customers.find_by_number(db, as_user("rm.zhang"), customer_no="C9999999999")
    assert hidden.value.params == {"id": theirs.customer_no}
    assert unknown.value.params == {"id": "C9999999999"}


def test_a_taken_id_names_its_customer_only_to_a_user_who_may_see_it(
    db: Session, as_user, make_customer
) -> None:  # type: ignore[no-untyped-def]
    number = resident_id(date(1979, 1, 2))
    theirs = make_customer("rm.zhang", name="海淀客户", id_number=number)

    def refusal(username: str) -> list[str]:
        data = CustomerCreate.model_validate(
            {
                "kind": "individual",
                "name": "重号",
                "id_type": "resident_id",
                "id_number": number,
                "confirm_not_duplicate": True,
            }
        )
        with pytest.raises(ValidationFailed) as raised:
            customers.create_customer(db, as_user(username), data=data)
        return [str(p.params) for p in raised.value.problems if p.rule == "customer.id_unique"]

    assert refusal("rm.chen") == ["{}"]
    assert refusal("sbm.haidian") == [str({"customer_no": theirs.customer_no})]


def test_the_other_party_of_a_link_outside_the_scope_is_not_identified(
    db: Session, as_user, make_customer
) -> None:  # type: ignore[no-untyped-def]
    mine = make_customer("rm.zhang", name="海淀客户")
    theirs = make_customer("rm.chen", name="朝阳客户")
    relationships.add_relationship(
        db,
        as_user("bm.beijing"),
        customer_id=mine.id,
        data=RelationshipIn(to_customer_id=theirs.id, kind="spouse"),
    )
    [link] = relationships.relationships(db, as_user("rm.zhang"), customer_id=mine.id)
    assert not link.other_visible
    assert (link.other_customer_id, link.from_customer_id, link.to_customer_id) == (None, mine.id, None)
    assert (link.other_name, link.other_customer_no) == ("—", "—")
    [seen] = relationships.relationships(db, as_user("bm.beijing"), customer_id=mine.id)
    assert (seen.other_customer_id, seen.to_customer_id) == (theirs.id, theirs.id)


def test_a_handover_refused_for_scope_does_not_count_the_hidden_customers(
    db: Session, as_user, make_customer
) -> None:  # type: ignore[no-untyped-def]
    for n in range(3):
        make_customer("rm.liu", name=f"上海客户{n}")
    with pytest.raises(ValidationFailed) as raised:
        portfolio.request_handover(
            db,
            as_user("sbm.haidian"),
            data=HandoverIn(
                from_rm_id=user_id(db, "rm.liu"), to_rm_id=user_id(db, "rm.zhang"), reason="调整客户经理"
            ),
        )
    [scope] = [p for p in raised.value.problems if p.rule == "handover.scope"]
    assert (scope.value, scope.params) == (None, {})


def test_the_english_name_is_masked_like_the_name(db: Session, as_user, make_customer) -> None:  # type: ignore[no-untyped-def]
    person = make_customer("rm.zhang", name="闫静颖", name_en="YAN JINGYING")
    assert customers.get_customer(db, as_user("rm.zhang"), customer_id=person.id).name_en == "YAN JINGYING"
    assert customers.get_customer(db, as_user("analyst"), customer_id=person.id).name_en == "Y** J*******"


def test_an_exports_search_text_is_masked_in_the_audit_trail(db: Session, as_user, make_customer) -> None:  # type: ignore[no-untyped-def]
    make_customer("rm.zhang", name="刘姥姥", mobile="13400006666")
    lines = customers.export_csv(db, as_user("sbm.haidian"), filters=CustomerFilter(q="13400006666"))
    assert "134****6666" in "".join(lines)
    event = db.execute(select(AuditEvent).where(AuditEvent.action == "export")).scalar_one()
    assert '"q": "1*********6"' in json.dumps(json.loads(event.changes), ensure_ascii=False)
    assert "13400006666" not in event.changes


def test_a_viewer_of_masked_names_finds_a_name_only_whole(db: Session, as_user, make_customer) -> None:  # type: ignore[no-untyped-def]
    person = make_customer("rm.zhang", name="闫静颖")

    def found(username: str, q: str) -> set[int]:
        page = customers.list_customers(
            db, as_user(username), filters=CustomerFilter(q=q), page=PageRequest(1, 10)
        )
        return {item.id for item in page.items}

    assert person.id in found("rm.zhang", "闫静")
    assert person.id in found("rm.zhang", "yanj")
    assert person.id not in found("analyst", "闫静")
    assert person.id not in found("analyst", "yanj")
    assert person.id in found("analyst", "闫静颖")
