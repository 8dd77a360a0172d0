"""The synthetic bank at any size: relationship managers, customers, accounts, holdings, and
about a hundred transactions per customer over 24 months in the lake. Deterministic for a seed.

Customers go through the customers module's bulk loader (the same validation as the create form)
in batches; each loaded batch's transactions are generated and written to the lake by a second
process meanwhile (``demo.history``), so memory stays bounded whatever the size and both cores work.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from bankcrm.core.context import Actor
from bankcrm.core.db import Database
from bankcrm.core.formatting import business_today
from bankcrm.core.lake import Lake
from bankcrm.core.validation import resident_id_check_char, uscc_check_char
from bankcrm.customers.service import bulk, holdings, loading
from bankcrm.demo import history, seed
from bankcrm.identity.service import orgs, roles, users

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
DEMO_TAGS = (
    ("pension-planning", "养老规划", "preference"),
    ("business-owner", "企业主", "basic"),
    ("wealth-upsell", "理财提升潜力", "value"),
    ("family-finance", "家庭理财", "lifecycle"),
)


def random_name(rng: random.Random) -> str:
    surname = "欧阳" if rng.random() < 0.01 else rng.choice(SURNAMES[:-2])
    return surname + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


REGIONS = (
    "110101",
    "110105",
    "110108",
    "120101",
    "310101",
    "310104",
    "310115",
    "320102",
    "320505",
    "330102",
    "330106",
    "340104",
    "350203",
    "370202",
    "410105",
    "420106",
    "430103",
    "440104",
    "440305",
    "440606",
    "500103",
    "510107",
    "610113",
    "210102",
    "230103",
)
TEAMS = ("BJ-HD-T1", "BJ-CY-T1", "SH-PD-T1")
CUSTOMERS_PER_RM = 2000
BATCH = 20_000
Progress = Callable[[str], None]


@dataclass
class BankSummary:
    relationship_managers: int
    customers: int
    rejected: int
    accounts: int
    transactions: int


def generate_bank(
    database: Database,
    lake: Lake,
    *,
    customers: int,
    seed_value: int,
    progress: Progress = lambda _message: None,
) -> BankSummary:
    rng = random.Random(seed_value)
    actor = Actor.system("demo.generate")
    with database.transaction() as session:
        roles.sync_roles(session, actor)
        seed.load_demo(session, only_if_empty=False)
        for code, name, category, risk in PRODUCTS:
            holdings.ensure_product(session, code=code, name=name, category=category, risk_level=risk)
        rm_ids, team_units = _relationship_managers(session, actor, max(3, customers // CUSTOMERS_PER_RM))
    progress(f"relationship managers: {len(rm_ids)}")
    loaded: list[int] = []
    rejected = 0
    accounts = 0
    issued: set[str] = set()  # resident ID numbers given out so far (17 digits, without the check)
    plan = history.HistoryPlan(lake_root=lake.root, seed_value=seed_value, today=business_today())
    with history.writer_for(plan, batches=-(-customers // BATCH)) as lake_writer:
        for start in range(0, customers, BATCH):
            count = min(BATCH, customers - start)
            records, wealth = _customer_records(rng, count, rm_ids, team_units, issued)
            with database.transaction() as session:
                result = bulk.load_customers(
                    session, actor, records, batch_label=f"generate-{seed_value}-{start}"
                )
                rejected += len(result.rejected)
                new_customers = _loaded_customers(records, wealth, result)
                accounts += holdings.bulk_record_products(session, customers=new_customers, rng=rng)
                loaded.extend(result.loaded_ids)
            # Only committed customers go to the lake: the worker writes while the next batch loads.
            lake_writer.add([c.id for c in new_customers], [c.wealth for c in new_customers])
            progress(f"customers: {len(loaded)} loaded, {rejected} rejected")
        with database.transaction() as session:
            _sample_activity(session, actor, rng, loaded[: min(len(loaded), 3000)], rm_ids)
        transactions = lake_writer.finish()
    progress(f"transactions: {transactions}")
    return BankSummary(
        relationship_managers=len(rm_ids),
        customers=len(loaded),
        rejected=rejected,
        accounts=accounts,
        transactions=transactions,
    )


def _relationship_managers(session, actor: Actor, wanted: int) -> tuple[list[int], dict[int, int]]:  # type: ignore[no-untyped-def]
    """The demo RMs plus synthetic ones (who cannot sign in) until there are ``wanted``."""
    ids: list[int] = []
    units: dict[int, int] = {}
    for username in ("rm.zhang", "rm.chen", "rm.liu"):
        user = users.find_user_by_username(session, username)
        if user is not None:
            ids.append(user.id)
            units[user.id] = user.org_unit_id
    number = 0
    while len(ids) < wanted:
        number += 1
        username = f"rm.gen{number:05d}"
        user = users.find_user_by_username(session, username)
        if user is None:
            unit = orgs.find_unit_by_code(session, TEAMS[number % len(TEAMS)])
            assert unit is not None
            user = users.bootstrap_user(
                session,
                actor,
                username=username,
                display_name=f"客户经理{number:05d}",
                password=None,
                unit=unit,
                role_code="relationship_manager",
            )
        ids.append(user.id)
        units[user.id] = user.org_unit_id
    return ids, units


def _resident_id(rng: random.Random, today: date, issued: set[str]) -> tuple[str, int]:
    """A valid resident ID number nobody in the bank holds yet: two people never share one (drawn
    freely, about 700 of a million customers repeated a number and were turned away)."""
    age = rng.choice((rng.randrange(20, 40), rng.randrange(40, 60), rng.randrange(60, 88)))
    birth = today - timedelta(days=age * 365 + rng.randrange(365))
    prefix = f"{rng.choice(REGIONS)}{birth:%Y%m%d}"
    first17 = f"{prefix}{rng.randrange(1000):03d}"
    while first17 in issued:
        first17 = f"{prefix}{rng.randrange(1000):03d}"
    issued.add(first17)
    return first17 + resident_id_check_char(first17), age


def _uscc(rng: random.Random) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    first17 = "91" + rng.choice(REGIONS) + "".join(rng.choice(alphabet) for _ in range(9))
    return first17 + uscc_check_char(first17)


def _customer_records(
    rng: random.Random, count: int, rm_ids: list[int], units: dict[int, int], issued: set[str]
) -> tuple[list[bulk.CustomerRecord], list[float]]:
    today = business_today()
    records = []
    wealth = []
    for _ in range(count):
        rm = rng.choice(rm_ids)
        mobile = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
        city = rng.choice(CITIES)[1]
        address = f"{city}{rng.choice(STREETS)}{rng.randrange(1, 500)}号"
        if rng.random() < 0.1:
            fields: dict[str, object] = {
                "kind": "corporate",
                "id_type": "uscc",
                "id_number": _uscc(rng),
                "mobile": mobile,
                "address": address,
                "name": f"{city[:2]}{rng.choice(COMPANIES)}{rng.choice(GIVEN)}{rng.choice(GIVEN)}有限公司",
                "industry": rng.choice(INDUSTRIES),
            }
        else:
            number, age = _resident_id(rng, today, issued)
            fields = {
                "kind": "individual",
                "id_type": "resident_id",
                "id_number": number,
                "name": random_name(rng),
                "mobile": mobile if rng.random() < 0.97 else None,
                "address": address,
                "occupation": "退休人员" if age >= 60 else rng.choice(OCCUPATIONS),
                "income_band": rng.choice(("<50k", "50k-150k", "150k-300k", "300k-1m", ">1m")),
                "risk_level": rng.choice(("C1", "C2", "C3", "C3", "C4", "C5")),
                "risk_assessed_on": today - timedelta(days=rng.randrange(10, 600)),
            }
        amount = rng.lognormvariate(11, 1.4)
        aum = holdings.split_wealth(amount).aum
        records.append(bulk.CustomerRecord(fields=fields, org_unit_id=units[rm], primary_rm_id=rm, aum=aum))
        wealth.append(amount)
    return records, wealth


def _loaded_customers(
    records: list[bulk.CustomerRecord], wealth: list[float], result: bulk.BulkResult
) -> list[holdings.NewCustomer]:
    """The records the loader kept, in its order, with the ids it gave them."""
    turned_away = {r.index for r in result.rejected}
    kept = [i for i in range(len(records)) if i not in turned_away]
    return [
        holdings.NewCustomer(
            id=customer_id,
            kind=str(records[i].fields["kind"]),
            org_unit_id=records[i].org_unit_id,
            wealth=wealth[i],
        )
        for customer_id, i in zip(result.loaded_ids, kept, strict=True)
    ]


def _sample_activity(session, actor: Actor, rng: random.Random, ids: list[int], rm_ids: list[int]) -> None:  # type: ignore[no-untyped-def]
    """Interactions, tags, consents and family links for a sample, so every page has something to show."""
    today = business_today()
    tag_ids = [loading.ensure_tag(session, actor, code=c, name=n, category=k) for c, n, k in DEMO_TAGS]
    owners = users.display_names(session, rm_ids)
    del owners
    for customer_id in ids:
        if rng.random() < 0.3:
            loading.log_interaction(
                session, user_id=rng.choice(rm_ids[:3]), customer_id=customer_id, rng=rng, today=today
            )
        if rng.random() < 0.3:
            loading.record_consent(
                session,
                customer_id=customer_id,
                channel=rng.choice(("sms", "phone", "wechat")),
                granted=rng.random() < 0.8,
                recorded_on=today - timedelta(days=rng.randrange(500)),
            )
        if rng.random() < 0.1:
            loading.tag_customer(session, actor, tag_id=rng.choice(tag_ids), customer_id=customer_id)
    for first, second in zip(ids[::11], ids[5::11], strict=False):
        loading.link_customers(session, from_id=first, to_id=second, kind="spouse", today=today)
