"""The customers the customer browser tests work with, created through the services as people would.

rm.zhang (Haidian wealth team 1) owns every customer here, so the sub-branch and branch managers above
the team see them too. Data a test changes comes in one copy per language, so the two runs of a test
never see each other's work. Transactions go to a lake of the server's own (see ``customer_server``):
the lake is a directory per test process, and another scratch database's customer 7 must not lend its
history to ours.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from playwright.sync_api import Locator, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from bankcrm.core.config import Settings
from bankcrm.core.context import Actor
from bankcrm.core.formatting import BUSINESS_TZ
from bankcrm.core.i18n import translate
from bankcrm.core.lake import Lake
from bankcrm.core.validation import resident_id_check_char, uscc_check_char
from bankcrm.customers import lake_repository
from bankcrm.customers.models import Customer, CustomerGroup, Tag
from bankcrm.customers.schemas import CustomerCreate, GroupIn, RelationshipIn, TagIn
from bankcrm.customers.service import customers, holdings, relationships, tags
from bankcrm.identity.service import users
from tests.conftest import principal_for
from tests.e2e.conftest import Browsing, LiveServer, running_server
from tests.e2e.test_i18n import chinese_in_chrome
from tests.e2e.test_tour import assert_fits_the_screen, assert_tables_fit
from tests.e2e.tour import user_data

OWNER = "rm.zhang"


@dataclass(frozen=True)
class Person:
    name: str
    mobile: str
    birth: date
    female: bool
    name_en: str | None = None
    email: str | None = None
    address: str | None = None
    occupation: str | None = None
    income_band: str | None = None


# Search: pinyin initials "smyt", the name, and "司马 5678" (the last four digits narrow the name).
SEARCHED = Person(
    "司马雨桐",
    "13812345678",
    date(1986, 3, 12),
    female=True,
    name_en="Sima Yutong",
    email="sima.yutong@example.com",
    address="北京市海淀区中关村南大街5号",
    occupation="软件工程师",
    income_band="300k-1m",
)
SAME_SURNAME = Person("司马光", "13900001111", date(1959, 8, 1), female=False)
SAME_LAST4 = Person("李娜", "13700005678", date(1990, 1, 1), female=True)
# A corporate whose name is as long as names at a bank get, also found by "司马".
LONG_CORPORATE = "司马家族办公室（北京）数字金融与财富管理综合服务有限责任公司中关村科技园区分公司"

# Two records of one person each, for the merge of each language's run.
DUPLICATES = {
    "zh_CN": (
        Person(
            "黄丽华",
            "13700001001",
            date(1975, 5, 20),
            female=True,
            email="lihua.huang@example.com",
            address="北京市海淀区中关村大街1号",
        ),
        Person(
            "黄丽华",
            "13700001002",
            date(1975, 5, 20),
            female=True,
            address="北京市海淀区学院路30号",
            occupation="中学教师",
            income_band="150k-300k",
        ),
    ),
    "en": (
        Person(
            "郭建国",
            "13700002001",
            date(1968, 11, 2),
            female=False,
            email="jianguo.guo@example.com",
            address="北京市海淀区北四环西路9号",
        ),
        Person(
            "郭建国",
            "13700002002",
            date(1968, 11, 2),
            female=False,
            address="北京市海淀区知春路6号",
            occupation="工程师",
            income_band="300k-1m",
        ),
    ),
}

# The tag and the list each language's run puts the searched customer in.
TAGS = {"zh_CN": ("e2e.steady", "稳健理财偏好"), "en": ("e2e.pension", "养老规划关注")}
LISTS = {"zh_CN": "年末重点回访客户", "en": "Private banking prospects 2027"}

# The customer with ten thousand transactions: one every 90 minutes from midnight, Beijing time,
# so every business day holds exactly 16, and every fourth one is money coming in.
BUSY = Person("钱多多", "13655550000", date(1980, 7, 7), female=False)
BUSY_ACCOUNT = "6222020200009876"
TRANSACTIONS = 10_000
FIRST_BOOKED = datetime(2025, 1, 1, tzinfo=BUSINESS_TZ)
STEP = timedelta(minutes=90)
PER_DAY = 16
IN_EVERY = 4
CATEGORIES = ("groceries", "dining", "transport", "shopping", "utilities", "health", "transfer")
COUNTERPARTIES = (
    "北京华联超市",
    "美团外卖",
    "北京市政交通一卡通",
    "国家电网北京市电力公司海淀供电中心营业厅",
    None,
)

_serial = iter(range(1, 10_000))


def _resident_id(person: Person) -> str:
    # The sequence digit's parity is the sex (odd for men), as on a real card.
    sequence = next(_serial) % 450 * 2 + (0 if person.female else 1)
    first17 = f"110108{person.birth:%Y%m%d}{sequence:03d}"
    return first17 + resident_id_check_char(first17)


def _uscc() -> str:
    first17 = f"91110108MA01E2E{next(_serial) % 100:02d}"
    return first17 + uscc_check_char(first17)


def _create(session: Session, settings: Settings, person: Person) -> int:
    owner = users.find_user_by_username(session, OWNER)
    assert owner is not None
    values: dict[str, object] = {
        "kind": "individual",
        "name": person.name,
        "name_en": person.name_en,
        "id_type": "resident_id",
        "id_number": _resident_id(person),
        "mobile": person.mobile,
        "email": person.email,
        "address": person.address,
        "occupation": person.occupation,
        "income_band": person.income_band,
        "primary_rm_id": owner.id,
        "org_unit_id": owner.org_unit_id,
        "confirm_not_duplicate": True,  # the duplicates are the point
    }
    created = customers.create_customer(
        session, principal_for(session, settings, OWNER), data=CustomerCreate.model_validate(values)
    )
    return created.id


def _transactions(customer_id: int) -> pa.Table:
    rows = [
        {
            "txn_id": f"E2E-{customer_id}-{number:05d}",
            "customer_id": customer_id,
            "account_no": BUSY_ACCOUNT,
            "booked_at": (FIRST_BOOKED + STEP * number).astimezone(UTC),
            "direction": "in" if number % IN_EVERY == 0 else "out",
            "amount": Decimal(f"{(number * 37) % 9_000 + 12}.{number % 100:02d}"),
            "currency": "CNY",
            "category": "salary" if number % IN_EVERY == 0 else CATEGORIES[number % len(CATEGORIES)],
            "channel": ("mobile", "pos", "online", "counter", "atm")[number % 5],
            "counterparty": COUNTERPARTIES[number % len(COUNTERPARTIES)],
            "description": None,
        }
        for number in range(TRANSACTIONS)
    ]
    return pa.Table.from_pylist(rows, schema=lake_repository.TRANSACTION_SCHEMA)


def build_world(session: Session, settings: Settings) -> None:
    for person in (SEARCHED, SAME_SURNAME, SAME_LAST4, *DUPLICATES["zh_CN"], *DUPLICATES["en"]):
        _create(session, settings, person)
    owner = users.find_user_by_username(session, OWNER)
    assert owner is not None
    customers.create_customer(
        session,
        principal_for(session, settings, OWNER),
        data=CustomerCreate.model_validate(
            {
                "kind": "corporate",
                "name": LONG_CORPORATE,
                "id_type": "uscc",
                "id_number": _uscc(),
                "mobile": "13811118888",
                "industry": "金融服务",
                "primary_rm_id": owner.id,
                "org_unit_id": owner.org_unit_id,
                "confirm_not_duplicate": True,
            }
        ),
    )
    catalogue = principal_for(session, settings, "mkt")
    for code, name in TAGS.values():
        tags.create_tag(session, catalogue, data=TagIn(code=code, name=name, category="preference"))
    rm = principal_for(session, settings, OWNER)
    for name in LISTS.values():
        tags.create_group(session, rm, data=GroupIn(name=name))

    busy = _create(session, settings, BUSY)
    # A spouse, so the 360° page draws a relationship graph for the busy customer.
    spouse = customer_id_by_name(session, SAME_LAST4.name)
    relationships.add_relationship(
        session, rm, customer_id=busy, data=RelationshipIn(to_customer_id=spouse, kind="spouse")
    )
    system = Actor.system("e2e")
    holdings.ensure_product(session, code="E2E-SAVINGS", name="活期储蓄", category="deposit")
    holdings.record_account(
        session,
        system,
        customer_id=busy,
        account_no=BUSY_ACCOUNT,
        product_code="E2E-SAVINGS",
        kind="savings",
        balance=Decimal("286000.00"),
        opened_on=date(2018, 4, 2),
        org_unit_id=owner.org_unit_id,
    )
    # The same writer the synthetic bank generator and the ingestion jobs use.
    lake_repository.write_transactions(
        Lake(settings.lake_root), _transactions(busy), batch_key=f"e2e-busy-{busy}"
    )


def customer_id_by_name(session: Session, name: str) -> int:
    found = session.scalars(select(Customer.id).where(Customer.name == name)).one()
    return int(found)


@contextmanager
def customer_server(settings: Settings, lake: Path) -> Iterator[LiveServer]:
    """A live server with the customers above, reading a lake nobody else writes to."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(settings, "lake_dir", lake)
        with running_server(
            settings, "e2e_customers", prepare=lambda session: build_world(session, settings)
        ) as server:
            yield server


def customer_id(server: LiveServer, name: str, *, mobile: str | None = None) -> int:
    """The id of one customer of the world, read straight from the live server's database."""
    statement = select(Customer.id).where(Customer.name == name)
    if mobile is not None:
        statement = statement.where(Customer.mobile == mobile)
    with server.database.transaction(write=False) as session:
        found = list(session.scalars(statement))
    assert len(found) == 1, f"{name}: {len(found)} customers"
    return int(found[0])


def typed_data(server: LiveServer) -> list[str]:
    """What people typed in (names, addresses, tags, lists): Chinese on any page. Longest first."""
    with server.database.transaction(write=False) as session:
        values: list[str] = list(session.scalars(select(Customer.name)))
        values += list(session.scalars(select(Tag.name)))
        values += list(session.scalars(select(CustomerGroup.name)))
    people = [SEARCHED, SAME_SURNAME, SAME_LAST4, BUSY, *DUPLICATES["zh_CN"], *DUPLICATES["en"]]
    values += [text for person in people for text in (person.address, person.occupation) if text]
    values += [name for name in COUNTERPARTIES if name] + ["活期储蓄", "金融服务"]
    values += user_data(server)
    return sorted(set(values), key=len, reverse=True)


# What the tests do on the pages of these customers.

SECTIONS = (
    "assets",
    "holdings",
    "accounts",
    "transactions",
    "timeline",
    "tags",
    "relationships",
    "contacts",
    "sources",
    "scores",
)


def look(ui: Browsing, what: str) -> None:
    """Photograph the page, and check what a person would notice first."""
    ui.screenshot(what)
    assert_fits_the_screen(ui, what)
    assert_tables_fit(ui, what)
    if ui.locale == "en":
        found = chinese_in_chrome(ui, typed_data(ui.server))
        assert not found, f"{what}: Chinese on an English page: {found}"


def t(ui: Browsing, message: str, **params: object) -> str:
    return translate(ui.locale, message, params or None)


HTMX_BUSY = re.compile(r"\bhtmx-(request|swapping|settling)\b")


def settled(part: Locator) -> None:
    """Wait until HTMX has finished with what it swapped into ``part``.

    New content shows before HTMX wires it up (its buttons and forms answer only after the settle
    step), so a click straight after new text appears could do nothing.
    """
    expect(part).not_to_have_class(HTMX_BUSY)


def wait_for_sections(ui: Browsing) -> None:
    for name in SECTIONS:
        section = ui.page.locator(f"#section-{name}")
        expect(section.locator(".card-header")).to_be_visible()
        expect(section.locator(".skeleton")).to_have_count(0)
        settled(section)


def open_360(ui: Browsing, name: str, *, mobile: str | None = None) -> int:
    number = customer_id(ui.server, name, mobile=mobile)
    ui.goto(f"/customers/{number}")
    wait_for_sections(ui)
    return number
