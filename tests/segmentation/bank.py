"""A small scored bank for segment tests: five customers, A-E, with salaries, balances and a tag."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
from sqlalchemy.orm import Session

from bankcrm.core.context import Actor
from bankcrm.core.lake import Lake
from bankcrm.customers import lake_repository
from bankcrm.customers.schemas import TagIn
from bankcrm.customers.service import holdings, tags
from bankcrm.segmentation.jobs import compute_features, store_breakdown, store_features
from bankcrm.segmentation.studio import repository as studio_repo
from bankcrm.segmentation.studio.models import PropensityModel
from tests.customers.conftest import unit_id

AS_OF = date(2026, 10, 31)
SALARY_DAYS = {  # salary paid on these days; the rolling months end on Aug 31, Sep 30 and Oct 31
    "A": [date(2026, 8, 10), date(2026, 9, 10), date(2026, 10, 10)],
    "B": [date(2026, 9, 10), date(2026, 10, 10)],
    "C": [date(2026, 8, 10), date(2026, 9, 10), date(2026, 10, 10)],
    "D": [date(2026, 8, 10), date(2026, 9, 10), date(2026, 10, 10)],
    "E": [],
}
BALANCES = {  # October month-end, by product type
    "A": {"deposit": "400000"},
    "B": {"deposit": "400000"},
    "C": {"deposit": "600000"},
    "D": {"deposit": "350000", "wealth": "50000"},
    "E": {},
}


def salary_rows(customer_id: int, days: list[date]) -> list[dict[str, Any]]:
    return [
        {
            "txn_id": f"SAL-{customer_id}-{day.isoformat()}",
            "customer_id": customer_id,
            "account_no": f"62220202{customer_id:08d}",
            "booked_at": datetime(day.year, day.month, day.day, 1, 0, tzinfo=UTC),
            "direction": "in",
            "amount": Decimal("15000.00"),
            "currency": "CNY",
            "category": "salary",
            "channel": "online",
            "counterparty": None,
            "description": None,
        }
        for day in days
    ]


@pytest.fixture
def bank(db: Session, lake: Lake, make_customer, as_user) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Five customers, A-E, scored on AS_OF; E holds the manual tag "watch"."""
    ids = {label: make_customer(name=f"客户{label}").id for label in SALARY_DAYS}
    rows = [row for label, days in SALARY_DAYS.items() for row in salary_rows(ids[label], days)]
    lake_repository.write_transactions(
        lake, pa.Table.from_pylist(rows, schema=lake_repository.TRANSACTION_SCHEMA), batch_key="t1"
    )
    balance_rows = [
        (ids[label], category, Decimal(amount))
        for label, held in BALANCES.items()
        for category, amount in held.items()
    ]
    balances = pa.table(
        {
            "customer_id": [r[0] for r in balance_rows],
            "category": [r[1] for r in balance_rows],
            "balance": [r[2] for r in balance_rows],
        }
    )
    lake_repository.write_balances(lake, "2026-10", balances, batch_key="b1")
    marketing = as_user("mkt")
    tag = tags.create_tag(db, marketing, data=TagIn(code="watch", name="重点关注"))
    tags.tag_customers(db, as_user("rm.zhang"), tag_id=tag.id, customer_ids=[ids["E"]], add=True)
    store_breakdown(lake, as_of=AS_OF)
    store_features(db, lake, compute_features(db, lake, as_of=AS_OF), as_of=AS_OF)
    return ids


def active_churn_model(db: Session, scores: dict[int, tuple[float, str]]) -> int:
    """An active churn model with these (score, band) per customer, as its activation leaves them;
    stored through the studio's repository (training one is the studio tests' business)."""
    model = studio_repo.add_model(
        db,
        PropensityModel(
            name="流失模型",
            target="churn",
            target_definition="AUM falls by more than half within 3 months",
            features="[]",
            metrics="{}",
            training_data="test",
            status="active",
            author_name="test",
            model_text="",
        ),
    )
    rows = [
        {
            "model_id": model.id,
            "customer_id": cid,
            "score": score,
            "band": band,
            "factors": "[]",
            "as_of": AS_OF,
        }
        for cid, (score, band) in scores.items()
    ]
    studio_repo.replace_scores(db, model.id, rows)
    return model.id


def credit_account(  # type: ignore[no-untyped-def]
    db: Session, customer_id: int, number: str, kind: str, overdue: int, amount: str, status: str = "active"
) -> None:
    """A loan or credit card held by the customer with its overdue days and amount."""
    holdings.ensure_product(db, code="LOAN", name="个人住房贷款", category="loan")
    holdings.ensure_product(db, code="CARD", name="信用卡", category="card")
    holdings.record_account(
        db,
        Actor.system("test"),
        customer_id=customer_id,
        account_no=number,
        product_code="LOAN" if kind == "loan" else "CARD",
        kind=kind,
        balance=Decimal("-10000.00"),
        opened_on=date(2022, 5, 1),
        org_unit_id=unit_id(db, "BJ-HD"),
        overdue_days=overdue,
        overdue_amount=Decimal(amount),
        status=status,
    )
