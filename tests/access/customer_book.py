"""The customers of the matrix's bank, and everything around them, made through the customers services.

Who owns what (every customer is created by its relationship manager, as in the branch):

==========  =========  =========  ==========================================================
key         RM         unit       what it is for
==========  =========  =========  ==========================================================
zh          rm.zhang   BJ-HD-T1   the own customer: tagged ``vip``, in ``list:zh``, with an
                                  account, a follow-up (``interaction:zh``) and a spouse (zh2)
zh2         rm.zhang   BJ-HD-T1   a second customer of the same name, free to merge with zh
zh3 ← zh4   rm.zhang   BJ-HD-T1   ``merge:zh``, pending, requested by rm.zhang
zh5 ← zh6   rm.zhang   BJ-HD-T1   ``merge:done``, requested by rm.zhang, approved by sbm.haidian
zhx         rm.zhang   BJ-HD-T1   deactivated
zhco        rm.zhang   BJ-HD-T1   a corporate customer with a legal representative
                                  (``contact:zhco``)
ch          rm.chen    BJ-CY-T1   another RM's customer in the same branch; in ``list:bm``
ch2 ← ch3   rm.chen    BJ-CY-T1   ``merge:ch``, pending, requested by bm.beijing
liu         rm.liu     SH-PD-T1   another branch's customer, with ``interaction:agt`` (logged
                                  by the service agent) and a household link to liu2
liu2 ← liu3 rm.liu     SH-PD-T1   ``merge:liu``, pending, requested by rm.liu
==========  =========  =========  ==========================================================

Pending handovers: ``handover:zh`` (rm.zhang's zh to rm.wang, asked by rm.zhang),
``handover:ch`` (rm.chen's ch to rm.wang, asked by bm.beijing) and ``handover:liu`` (rm.liu's liu
to rm.wang, asked by rm.liu). ``rm.wang`` is an extra RM in BJ-HD-T1 who is no column.

Scores: zh, ch and liu carry a scoring run's scores (``SCORED``) whose AUM fell by half in three
months, so each is on its RM's at-risk list (the lists for relationship managers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import pyarrow as pa
from sqlalchemy.orm import Session

from bankcrm.core.context import Actor
from bankcrm.core.formatting import business_today
from bankcrm.core.principal import Principal
from bankcrm.core.validation import resident_id_check_char, uscc_check_char
from bankcrm.customers.schemas import (
    CorporateContactIn,
    CustomerCreate,
    GroupIn,
    HandoverIn,
    InteractionIn,
    MergeRequestIn,
    RelationshipIn,
    TagIn,
)
from bankcrm.customers.service import (
    contacts,
    customers,
    holdings,
    interactions,
    merge,
    portfolio,
    relationships,
    scoring,
    tags,
)


def resident_id(birth: date, sequence: int) -> str:
    first17 = f"110108{birth:%Y%m%d}{sequence:03d}"
    return first17 + resident_id_check_char(first17)


def uscc(body: str) -> str:
    return body + uscc_check_char(body)


@dataclass(frozen=True)
class CustomerSpec:
    key: str
    owner: str  # the primary RM, who also creates the customer
    name: str
    id_number: str
    mobile: str
    kind: str = "individual"


SPECS = (
    CustomerSpec("zh", "rm.zhang", "张伟", resident_id(date(1980, 3, 12), 11), "13900000101"),
    CustomerSpec("zh2", "rm.zhang", "张伟", resident_id(date(1980, 3, 12), 13), "13900000102"),
    CustomerSpec("zh3", "rm.zhang", "王芳", resident_id(date(1975, 8, 1), 22), "13900000103"),
    CustomerSpec("zh4", "rm.zhang", "王芳", resident_id(date(1975, 8, 1), 24), "13900000104"),
    CustomerSpec("zh5", "rm.zhang", "李娜", resident_id(date(1990, 1, 20), 32), "13900000105"),
    CustomerSpec("zh6", "rm.zhang", "李娜", resident_id(date(1990, 1, 20), 34), "13900000106"),
    CustomerSpec("zhx", "rm.zhang", "赵磊", resident_id(date(1968, 5, 5), 41), "13900000107"),
    CustomerSpec(
        "zhco", "rm.zhang", "北京矩阵科技有限公司", uscc("91110108MA01MTRX1"), "13900000108", "corporate"
    ),
    CustomerSpec("ch", "rm.chen", "陈静", resident_id(date(1985, 11, 30), 52), "13900000201"),
    CustomerSpec("ch2", "rm.chen", "刘洋", resident_id(date(1988, 2, 14), 61), "13900000202"),
    CustomerSpec("ch3", "rm.chen", "刘洋", resident_id(date(1988, 2, 14), 63), "13900000203"),
    CustomerSpec("liu", "rm.liu", "刘敏", resident_id(date(1979, 7, 7), 71), "13900000301"),
    CustomerSpec("liu2", "rm.liu", "杨帆", resident_id(date(1982, 9, 9), 81), "13900000302"),
    CustomerSpec("liu3", "rm.liu", "杨帆", resident_id(date(1982, 9, 9), 83), "13900000303"),
)
BY_KEY = {spec.key: spec for spec in SPECS}
# merge:<name> -> (requested by, survivor, merged)
MERGES = {
    "zh": ("rm.zhang", "zh3", "zh4"),
    "ch": ("bm.beijing", "ch2", "ch3"),
    "liu": ("rm.liu", "liu2", "liu3"),
    "done": ("rm.zhang", "zh5", "zh6"),
}
# handover:<name> -> (requested by, from RM, to RM, customers)
HANDOVERS = {
    "zh": ("rm.zhang", "rm.zhang", "rm.wang", ("zh",)),
    "ch": ("bm.beijing", "rm.chen", "rm.wang", ("ch",)),
    "liu": ("rm.liu", "rm.liu", "rm.wang", ("liu",)),
}
TAG_CODE = "matrix-vip"
REASON = "access matrix set-up"


@dataclass
class CustomerBook:
    """Ids of what was made, by kind and key: ``ids["customer"]["zh"]``."""

    ids: dict[str, dict[str, int]] = field(default_factory=dict)

    def put(self, kind: str, key: str, ident: int) -> None:
        self.ids.setdefault(kind, {})[key] = ident

    def id(self, kind: str, key: str) -> int:
        return self.ids[kind][key]


def build_customers(
    db: Session, principals: dict[str, Principal], user_ids: dict[str, int], unit_ids: dict[str, int]
) -> CustomerBook:
    """``principals`` by username: the people who do the set-up, each acting within their own rights."""
    book = CustomerBook()
    today = business_today()
    for spec in SPECS:
        created = customers.create_customer(
            db,
            principals[spec.owner],
            data=CustomerCreate(
                kind=spec.kind,  # type: ignore[arg-type]
                name=spec.name,
                id_type="resident_id" if spec.kind == "individual" else "uscc",
                id_number=spec.id_number,
                mobile=spec.mobile,
                confirm_not_duplicate=True,
            ),
        )
        book.put("customer", spec.key, created.id)
    cid = book.ids["customer"]
    zhang, liu = principals["rm.zhang"], principals["rm.liu"]

    customers.set_active(db, principals["bm.beijing"], customer_id=cid["zhx"], active=False, reason=REASON)

    holdings.ensure_product(db, code="MX-SAV", name="矩阵储蓄", category="deposit")
    holdings.record_account(
        db,
        Actor.system("access-matrix"),
        customer_id=cid["zh"],
        account_no="6222020000000000101",
        product_code="MX-SAV",
        kind="savings",
        balance=Decimal("88000.00"),
        opened_on=date(2020, 1, 1),
        org_unit_id=unit_ids["BJ-HD"],
    )

    tag = tags.create_tag(db, principals["admin"], data=TagIn(code=TAG_CODE, name="矩阵贵宾"))
    book.put("tag", "vip", tag.id)
    tags.tag_customers(db, zhang, tag_id=tag.id, customer_ids=[cid["zh"]], add=True)
    own_list = tags.create_group(db, zhang, data=GroupIn(name="张的重点客户"))
    tags.set_group_membership(db, zhang, group_id=own_list.id, customer_ids=[cid["zh"]], add=True)
    book.put("list", "zh", own_list.id)
    branch_list = tags.create_group(db, principals["bm.beijing"], data=GroupIn(name="分行重点客户"))
    tags.set_group_membership(
        db, principals["bm.beijing"], group_id=branch_list.id, customer_ids=[cid["ch"]], add=True
    )
    book.put("list", "bm", branch_list.id)

    follow_up = today + timedelta(days=2)
    logged = interactions.log_interaction(
        db,
        zhang,
        customer_id=cid["zh"],
        data=InteractionIn(kind="call", channel="phone", summary="回访理财到期", follow_up_on=follow_up),
    )
    book.put("interaction", "zh", logged.id)
    logged = interactions.log_interaction(
        db,
        principals["agent"],
        customer_id=cid["liu"],
        data=InteractionIn(kind="call", channel="phone", summary="客户来电咨询", follow_up_on=follow_up),
    )
    book.put("interaction", "agt", logged.id)

    link = relationships.add_relationship(
        db, zhang, customer_id=cid["zh"], data=RelationshipIn(to_customer_id=cid["zh2"], kind="spouse")
    )
    book.put("relationship", "zh", link.id)
    link = relationships.add_relationship(
        db, liu, customer_id=cid["liu"], data=RelationshipIn(to_customer_id=cid["liu2"], kind="household")
    )
    book.put("relationship", "liu", link.id)

    contact = contacts.add_contact(
        db, zhang, customer_id=cid["zhco"], data=CorporateContactIn(role="legal_rep", name="张法人")
    )
    book.put("contact", "zhco", contact.id)

    for name, (maker, survivor, merged) in MERGES.items():
        filed = merge.request_merge(
            db,
            principals[maker],
            data=MergeRequestIn(survivor_id=cid[survivor], merged_ids=[cid[merged]], reason=REASON),
        )
        book.put("merge", name, filed.id)
        if name == "done":
            merge.approve_merge(db, principals["sbm.haidian"], merge_id=filed.id, version=filed.version)

    for name, (maker, source, target, keys) in HANDOVERS.items():
        asked = portfolio.request_handover(
            db,
            principals[maker],
            data=HandoverIn(
                from_rm_id=user_ids[source],
                to_rm_id=user_ids[target],
                customer_ids=[cid[key] for key in keys],
                reason=REASON,
            ),
        )
        book.put("handover", name, asked.id)
    _score(db, [cid[key] for key in SCORED])
    return book


SCORED = ("zh", "ch", "liu")


def _score(db: Session, customer_ids: list[int]) -> None:
    """A scoring run's latest scores for these customers: AUM down 50 % over three months."""
    rows = len(customer_ids)
    table = pa.table(
        {
            "customer_id": customer_ids,
            "aum_mda": [Decimal("100000.00")] * rows,
            "aum_qda": [Decimal("150000.00")] * rows,
            "recency_days": [3] * rows,
            "frequency_12m": [20] * rows,
            "monetary_12m": [Decimal("5000.00")] * rows,
            "product_breadth": [1] * rows,
            "digital_share_3m": [0.5] * rows,
            "aum_change_3m": [-0.5] * rows,
            "rfm_r": [3] * rows,
            "rfm_f": [3] * rows,
            "rfm_m": [3] * rows,
            "rfm_segment": ["general_value"] * rows,
            "clv_expected_transactions": [None] * rows,  # too little history for a fit
            "clv_probability_alive": [None] * rows,
            "clv_expected_value": [None] * rows,
        }
    )
    scoring.record_scores(
        db, table, as_of=business_today() - timedelta(days=1), actor=Actor.system("access-matrix")
    )
