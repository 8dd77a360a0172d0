"""A small synthetic book of customers for the demo: deterministic for a seed, valid identifiers,
accounts and holdings, relationships, interactions with follow-ups, and 24 months of transactions
and month-end balances in the lake.

Everything is created through the customers services, so the demo exercises the same validation,
search keys and audit trail as real use. (The full synthetic bank with source-system extracts is
the integration module's generator.)
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pyarrow as pa
from sqlalchemy.orm import Session

from bankcrm.core.context import Actor
from bankcrm.core.formatting import business_today
from bankcrm.core.lake import Lake
from bankcrm.core.validation import luhn_check_digit, resident_id_check_char, uscc_check_char
from bankcrm.customers import lake_repository
from bankcrm.customers.models import Customer
from bankcrm.customers.schemas import CustomerCreate
from bankcrm.customers.service import customers, holdings, loading
from bankcrm.identity.service import users

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤欧阳"
)
GIVEN = (
    "伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉斌宇浩凯"
    "健俊帆帅旭宁婷雪琳晨欣悦思远博文嘉怡梓涵子轩雨桐一诺"
)
CITIES = (
    ("110108", "北京市海淀区"),
    ("110105", "北京市朝阳区"),
    ("310115", "上海市浦东新区"),
    ("310104", "上海市徐汇区"),
    ("440305", "广东省深圳市南山区"),
    ("330106", "浙江省杭州市西湖区"),
)
STREETS = ("中关村大街", "学院路", "建国路", "世纪大道", "科技园路", "文三路", "人民路", "解放路")
OCCUPATIONS = (
    "教师",
    "工程师",
    "医生",
    "公务员",
    "企业管理人员",
    "个体经营者",
    "销售人员",
    "退休人员",
    "自由职业",
    "律师",
)
COMPANIES = ("科技", "贸易", "实业", "医药", "物流", "建设", "食品", "新材料")
INDUSTRIES = ("软件和信息技术服务业", "批发和零售业", "制造业", "医药制造业", "交通运输业", "建筑业")
PRODUCTS = (
    ("DEP-CUR", "活期储蓄", "deposit", None),
    ("TD-1Y", "一年期定期存款", "time_deposit", None),
    ("TD-3Y", "三年期定期存款", "time_deposit", None),
    ("WM-R1", "安心现金管理", "wealth", "R1"),
    ("WM-R2", "稳健增利90天", "wealth", "R2"),
    ("WM-R3", "平衡配置一年", "wealth", "R3"),
    ("FUND-BOND", "纯债债券基金", "fund", "R2"),
    ("FUND-IDX", "沪深300指数基金", "fund", "R4"),
    ("FUND-TECH", "科技成长混合基金", "fund", "R5"),
    ("INS-ANN", "养老年金保险", "insurance", "R1"),
    ("CARD-GOLD", "金卡信用卡", "card", None),
    ("LOAN-HOUSE", "个人住房贷款", "loan", None),
    ("LOAN-OPER", "经营性贷款", "loan", None),
)
SPENDING = (
    ("groceries", "超市", 80, 600),
    ("dining", "餐饮", 30, 400),
    ("transport", "交通出行", 5, 200),
    ("shopping", "网购", 50, 2000),
    ("utilities", "水电燃气", 100, 600),
    ("health", "医疗", 50, 1500),
)
CHANNELS = ("mobile", "pos", "online", "counter", "atm")
DEMO_TAGS = (
    ("pension-planning", "养老规划", "preference"),
    ("business-owner", "企业主", "basic"),
    ("wealth-upsell", "理财提升潜力", "value"),
    ("family-finance", "家庭理财", "lifecycle"),
)


@dataclass
class DemoBook:
    customers: int
    transactions: int


def _resident_id(rng: random.Random, region: str, birth: date, male: bool) -> str:
    sequence = rng.randrange(0, 499) * 2 + (1 if male else 0)
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return first17 + resident_id_check_char(first17)


def _uscc(rng: random.Random) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    first17 = (
        "91" + rng.choice(("110108", "310115", "440305")) + "".join(rng.choice(alphabet) for _ in range(9))
    )
    return first17 + uscc_check_char(first17)


def _card(rng: random.Random, prefix: str = "622202") -> str:
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(12))
    return body + luhn_check_digit(body)


def _name(rng: random.Random) -> str:
    surname = "欧阳" if rng.random() < 0.01 else rng.choice(SURNAMES[:-2])
    return surname + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def load_demo_customers(session: Session, lake: Lake, *, count: int = 400, seed: int = 20261129) -> DemoBook:
    """Create ``count`` customers over the demo RMs, with history. Deterministic for the seed."""
    rng = random.Random(seed)
    actor = Actor.system("demo")
    today = business_today()
    for code, name, category, risk in PRODUCTS:
        holdings.ensure_product(session, code=code, name=name, category=category, risk_level=risk)
    tag_ids = [loading.ensure_tag(session, actor, code=c, name=n, category=k) for c, n, k in DEMO_TAGS]
    owners = [
        u
        for u in (
            users.find_user_by_username(session, name)
            for name in ("rm.zhang", "rm.chen", "rm.liu", "sbm.haidian")
        )
        if u is not None
    ]
    rows: list[dict[str, object]] = []
    balances: dict[str, list[dict[str, object]]] = {}
    created = []
    for index in range(count):
        owner = owners[index % len(owners)]
        customer = _create_customer(
            session, actor, rng, owner.id, owner.org_unit_id, corporate=rng.random() < 0.08, today=today
        )
        created.append(customer)
        monthly_income = _give_products(session, actor, rng, customer, owner.org_unit_id, today)
        rows.extend(_transactions(rng, customer.id, monthly_income, today))
        for month, balance in _balance_history(rng, customer.aum, today):
            balances.setdefault(month, []).append(
                {"customer_id": customer.id, "category": "deposit", "balance": balance}
            )
        if rng.random() < 0.3:
            loading.log_interaction(session, user_id=owner.id, customer_id=customer.id, rng=rng, today=today)
        if rng.random() < 0.2:
            loading.record_consent(
                session,
                customer_id=customer.id,
                channel=rng.choice(("sms", "phone", "wechat")),
                granted=rng.random() < 0.8,
                recorded_on=today - timedelta(days=rng.randrange(400)),
            )
        if rng.random() < 0.15:
            loading.tag_customer(session, actor, tag_id=rng.choice(tag_ids), customer_id=customer.id)
    for first, second in zip(created[::7], created[3::7], strict=False):
        if first.kind == second.kind == "individual":
            loading.link_customers(session, from_id=first.id, to_id=second.id, kind="spouse", today=today)
    if rows:
        lake_repository.write_transactions(
            lake,
            pa.Table.from_pylist(rows, schema=lake_repository.TRANSACTION_SCHEMA),
            batch_key=f"demo-{seed}",
        )
    for month, month_rows in balances.items():
        lake_repository.write_balances(
            lake, month, pa.Table.from_pylist(month_rows), batch_key=f"demo-{seed}"
        )
    return DemoBook(customers=len(created), transactions=len(rows))


def _create_customer(
    session: Session,
    actor: Actor,
    rng: random.Random,
    rm_id: int,
    unit_id: int,
    *,
    corporate: bool,
    today: date,
) -> Customer:
    region, city = rng.choice(CITIES)
    address = f"{city}{rng.choice(STREETS)}{rng.randrange(1, 300)}号"
    mobile = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
    if corporate:
        data = CustomerCreate(
            kind="corporate",
            name=f"{city[:2]}{rng.choice(COMPANIES)}{rng.choice(GIVEN)}有限公司",
            id_type="uscc",
            id_number=_uscc(rng),
            industry=rng.choice(INDUSTRIES),
            mobile=mobile,
            address=address,
            registered_capital=Decimal(rng.randrange(100, 5000) * 10000),
        )
    else:
        age = rng.choice((rng.randrange(22, 40), rng.randrange(40, 64), rng.randrange(64, 85)))
        birth = today - timedelta(days=age * 365 + rng.randrange(365))
        assessed = today - timedelta(days=rng.randrange(30, 500))
        data = CustomerCreate(
            kind="individual",
            name=_name(rng),
            id_type="resident_id",
            id_number=_resident_id(rng, region, birth, rng.random() < 0.5),
            mobile=mobile,
            address=address,
            occupation="退休人员" if age >= 60 else rng.choice(OCCUPATIONS),
            income_band=rng.choice(("<50k", "50k-150k", "150k-300k", "300k-1m", ">1m")),
            risk_level=rng.choice(("C1", "C2", "C3", "C3", "C4", "C5")),
            risk_assessed_on=assessed,
        )
    return customers.load_customer(session, actor, data=data, org_unit_id=unit_id, primary_rm_id=rm_id)


def _give_products(
    session: Session,
    actor: Actor,
    rng: random.Random,
    customer: Customer,
    unit_id: int,
    today: date,
) -> Decimal:
    wealth = Decimal(int(rng.lognormvariate(11, 1.3)))  # median ~60k, a long tail of rich customers
    monthly_income = Decimal(rng.randrange(4000, 40000))
    holdings.record_account(
        session,
        actor,
        customer_id=customer.id,
        account_no=_card(rng),
        product_code="DEP-CUR",
        kind="savings",
        balance=(wealth * Decimal("0.3")).quantize(Decimal("0.01")),
        opened_on=today - timedelta(days=rng.randrange(400, 4000)),
        org_unit_id=unit_id,
        refresh=False,
    )
    if wealth > 50000:
        holdings.record_account(
            session,
            actor,
            customer_id=customer.id,
            account_no=_card(rng, "621700"),
            product_code=rng.choice(("TD-1Y", "TD-3Y")),
            kind="time_deposit",
            balance=(wealth * Decimal("0.3")).quantize(Decimal("0.01")),
            opened_on=today - timedelta(days=rng.randrange(30, 700)),
            maturity_date=today + timedelta(days=rng.randrange(5, 700)),
            org_unit_id=unit_id,
            refresh=False,
        )
        product = rng.choice(("WM-R1", "WM-R2", "WM-R3", "FUND-BOND", "FUND-IDX", "FUND-TECH", "INS-ANN"))
        cost = (wealth * Decimal("0.4")).quantize(Decimal("0.01"))
        holdings.record_holding(
            session,
            actor,
            customer_id=customer.id,
            product_code=product,
            units=cost,
            cost=cost,
            market_value=(cost * Decimal(str(rng.uniform(0.92, 1.12)))).quantize(Decimal("0.01")),
            valued_on=today,
            acquired_on=today - timedelta(days=200),
            maturity_date=today + timedelta(days=rng.randrange(10, 400)),
            refresh=False,
        )
    if rng.random() < 0.35:
        holdings.record_account(
            session,
            actor,
            customer_id=customer.id,
            account_no=_card(rng, "625800"),
            product_code="CARD-GOLD",
            kind="credit_card",
            balance=-Decimal(rng.randrange(0, 30000)),
            credit_limit=Decimal(50000),
            opened_on=today - timedelta(days=rng.randrange(100, 2000)),
            org_unit_id=unit_id,
            refresh=False,
        )
    if rng.random() < 0.15:
        overdue = rng.choice((0, 0, 0, 15, 45, 120))
        holdings.record_account(
            session,
            actor,
            customer_id=customer.id,
            account_no=_card(rng, "955880"),
            product_code="LOAN-HOUSE" if customer.kind == "individual" else "LOAN-OPER",
            kind="loan",
            balance=-Decimal(rng.randrange(200, 3000) * 1000),
            opened_on=today - timedelta(days=rng.randrange(200, 3000)),
            org_unit_id=unit_id,
            overdue_days=overdue,
            overdue_amount=Decimal(overdue * 120),
            refresh=False,
        )
    holdings.refresh_customer_figures(session, customer)
    return monthly_income


def _transactions(
    rng: random.Random, customer_id: int, income: Decimal, today: date
) -> list[dict[str, object]]:
    """Salary on the 10th, spending through the month, more around Spring Festival; some go quiet."""
    rows: list[dict[str, object]] = []
    dormant_after = today - timedelta(days=rng.randrange(90, 300)) if rng.random() < 0.08 else None
    day = today - timedelta(days=730)
    account = _card(rng)
    serial = 0
    while day <= today:
        if dormant_after and day > dormant_after:
            break
        stamp = datetime(day.year, day.month, day.day, 1, tzinfo=UTC)
        if day.day == 10:
            serial += 1
            rows.append(
                _txn(customer_id, serial, account, stamp, "in", income, "salary", "online", "工资代发")
            )
        festive = 2.0 if day.month in (1, 2) else 1.0
        for _ in range(rng.choices((0, 1, 2), weights=(3, 4, 2))[0]):
            category, label, low, high = rng.choice(SPENDING)
            amount = Decimal(str(round(rng.uniform(low, high) * festive, 2)))
            serial += 1
            rows.append(
                _txn(
                    customer_id,
                    serial,
                    account,
                    stamp + timedelta(hours=rng.randrange(1, 14)),
                    "out",
                    amount,
                    category,
                    rng.choice(CHANNELS),
                    label,
                )
            )
        day += timedelta(days=1)
    return rows


def _txn(
    customer_id: int,
    serial: int,
    account: str,
    at: datetime,
    direction: str,
    amount: Decimal,
    category: str,
    channel: str,
    counterparty: str,
) -> dict[str, object]:
    return {
        "txn_id": f"D{customer_id:08d}{serial:06d}",
        "customer_id": customer_id,
        "account_no": account,
        "booked_at": at,
        "direction": direction,
        "amount": amount.quantize(Decimal("0.01")),
        "currency": "CNY",
        "category": category,
        "channel": channel,
        "counterparty": counterparty,
        "description": None,
    }


def _balance_history(rng: random.Random, aum_now: Decimal, today: date) -> list[tuple[str, Decimal]]:
    history = []
    value = aum_now
    for back in range(12):
        total = today.year * 12 + today.month - 1 - back
        history.append((f"{total // 12:04d}-{total % 12 + 1:02d}", value.quantize(Decimal("0.01"))))
        value = value * Decimal(str(rng.uniform(0.9, 1.05)))
    return history
