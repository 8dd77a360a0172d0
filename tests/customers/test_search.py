"""One search box: Chinese name, full pinyin, initials, mobile (or last four with a name), ID, numbers."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from bankcrm.core.pagination import PageRequest
from bankcrm.customers.keys import parse_query
from bankcrm.customers.schemas import CustomerFilter
from bankcrm.customers.service import customers
from tests.customers.conftest import resident_id


@pytest.fixture
def people(make_customer):  # type: ignore[no-untyped-def]
    return {
        "zhangsan": make_customer(name="张三", mobile="13812345678", id_number=resident_id(date(1980, 2, 3))),
        "zhangsanfeng": make_customer(name="张三丰", mobile="13911115678"),
        "zengguang": make_customer(name="曾广", mobile="13700001111"),
        "lisi": make_customer(name="李四", mobile="13600002222"),
        "other_rm": make_customer("rm.liu", name="张三", mobile="13500003333"),
    }


def found(db: Session, principal, query: str) -> set[int]:  # type: ignore[no-untyped-def]
    page = customers.list_customers(db, principal, filters=CustomerFilter(q=query), page=PageRequest(1, 50))
    return {c.id for c in page.items}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("张三", {"zhangsan", "zhangsanfeng"}),
        ("张三丰", {"zhangsanfeng"}),
        ("zhangsan", {"zhangsan", "zhangsanfeng"}),
        ("ZhangSanFeng", {"zhangsanfeng"}),
        ("zs", {"zhangsan", "zhangsanfeng"}),
        ("zsf", {"zhangsanfeng"}),
        ("zeng", {"zengguang"}),  # 曾 as a surname reads zeng
        ("13812345678", {"zhangsan"}),
        ("138 1234 5678", {"zhangsan"}),
        ("张三 5678", {"zhangsan", "zhangsanfeng"}),
        ("张三丰5678", {"zhangsanfeng"}),
        ("李四 5678", set()),
    ],
)
def test_search_by_every_kind_of_key(db: Session, as_user, people, query: str, expected: set[str]) -> None:  # type: ignore[no-untyped-def]
    assert found(db, as_user("rm.zhang"), query) == {people[name].id for name in expected}


def test_last_four_digits_narrow_a_name_before_the_result_limit(  # type: ignore[no-untyped-def]
    db: Session, as_user, people, make_customer, monkeypatch
) -> None:
    # A common name can have more matches than the limit: the digits must narrow it first.
    another = make_customer(name="张三", mobile="13744444321")
    monkeypatch.setattr("bankcrm.customers.repository.SEARCH_LIMIT", 1)
    assert found(db, as_user("rm.zhang"), "张三 4321") == {another.id}
    assert found(db, as_user("rm.zhang"), "zs 4321") == {another.id}


def test_search_by_id_number_is_exact(db: Session, as_user, people) -> None:  # type: ignore[no-untyped-def]
    rm = as_user("rm.zhang")
    number = customers.readable_customer(db, customers.scope_of(db, rm), people["zhangsan"].id).id_number
    assert found(db, rm, number) == {people["zhangsan"].id}
    assert found(db, rm, number.lower()) == {people["zhangsan"].id}
    assert found(db, rm, number[:-1]) == set()


def test_search_by_customer_number(db: Session, as_user, people) -> None:  # type: ignore[no-untyped-def]
    assert found(db, as_user("rm.zhang"), people["lisi"].customer_no) == {people["lisi"].id}
    assert found(db, as_user("rm.zhang"), people["lisi"].customer_no.lower()) == {people["lisi"].id}


def test_search_never_crosses_the_data_scope(db: Session, as_user, people) -> None:  # type: ignore[no-untyped-def]
    assert people["other_rm"].id not in found(db, as_user("rm.zhang"), "张三")
    assert people["other_rm"].id in found(db, as_user("exec"), "张三")
    assert found(db, as_user("rm.zhang"), "13500003333") == set()


def test_results_are_masked_for_the_viewer(db: Session, as_user, people) -> None:  # type: ignore[no-untyped-def]
    page = customers.list_customers(
        db, as_user("rm.zhang"), filters=CustomerFilter(q="13812345678"), page=PageRequest(1, 10)
    )
    (row,) = page.items
    assert row.mobile == "138****5678"
    assert "*" in row.id_number


def test_filters_and_sorting(db: Session, as_user, people) -> None:  # type: ignore[no-untyped-def]
    rm = as_user("rm.zhang")
    by_name = customers.list_customers(db, rm, filters=CustomerFilter(sort="name"), page=PageRequest(1, 10))
    names = [c.name for c in by_name.items]
    assert names == sorted(names)
    corporate = customers.list_customers(
        db, rm, filters=CustomerFilter(kind="corporate"), page=PageRequest(1, 10)
    )
    assert corporate.total == 0
    mine = customers.list_customers(db, rm, filters=CustomerFilter(mine=True), page=PageRequest(1, 10))
    assert mine.total == 4


@pytest.mark.parametrize("query", ["%", "_", "' OR 1=1 --", "\\"])
def test_odd_queries_are_just_text(db: Session, as_user, people, query: str) -> None:  # type: ignore[no-untyped-def]
    assert found(db, as_user("exec"), query) == set()


def test_a_blank_query_lists_everything_in_scope(db: Session, as_user, people) -> None:  # type: ignore[no-untyped-def]
    assert found(db, as_user("rm.zhang"), "   ") == {p.id for k, p in people.items() if k != "other_rm"}


def test_query_parser_reads_mobile_tails_with_names() -> None:
    parsed = parse_query("王小明 1234")
    assert parsed.last4 == "1234"
    assert any(part.key == "n:王小明" for part in parsed.alternatives)
    assert parse_query("110101199003071234").id_number == "110101199003071234"


def test_heteronyms_only_add_the_surname_reading() -> None:
    from bankcrm.customers.keys import name_keys

    assert name_keys("董帅") == {"n:董帅", "p:dongshuai", "i:ds"}  # no stray readings of 董
    assert {"p:zengguang", "i:zg"} <= name_keys("曾广")
