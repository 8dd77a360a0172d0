"""A small bank for the lists for relationship managers: customers made through the customers
service, then scored and tiered through the scoring service as the nightly run would.

rm.zhang (Beijing Haidian) owns six customers, one on no list; rm.chen (Beijing Chaoyang) owns one
that meets every rule, so any list that shows it to rm.zhang leaks another RM's customer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import count

import pyarrow as pa
from sqlalchemy.orm import Session

from bankcrm.core.context import Actor
from bankcrm.core.principal import Principal
from bankcrm.core.validation import resident_id_check_char
from bankcrm.customers.schemas import CustomerCreate
from bankcrm.customers.service import customers, scoring
from bankcrm.identity.service import users

AS_OF = date(2026, 10, 31)
LONG_NAME = "欧阳娜娜·阿卜杜热合曼·买买提江·司马相如"
_sequence = count(300)


@dataclass(frozen=True)
class Planted:
    name: str
    owner: str
    tier: str
    aum_mda: Decimal
    aum_change_3m: float | None = 0.0
    recency_days: int | None = 3
    frequency_12m: int = 40
    rfm: tuple[int, int, int, str] = (3, 3, 3, "general_value")


PLANTED = (
    # the richest of rm.zhang's six: private banking, RFM important value, top AUM
    Planted(LONG_NAME, "rm.zhang", "private", Decimal("7200000"), rfm=(5, 4, 5, "important_value")),
    # VIP whose AUM fell 42 %: high-value and at risk
    Planted("王建国", "rm.zhang", "vip", Decimal("800000"), aum_change_3m=-0.42),
    # ¥38,000 below the VIP threshold and up 12 %: potential
    Planted("李思远", "rm.zhang", "affluent", Decimal("462000"), aum_change_3m=0.12),
    # quiet for 75 days after 30 transactions: at risk
    Planted("赵敏", "rm.zhang", "affluent", Decimal("150000"), recency_days=75, frequency_12m=30),
    # still VIP but the month's average is below the VIP threshold: at risk
    Planted("孙立", "rm.zhang", "vip", Decimal("420000")),
    # nothing to say
    Planted("周平", "rm.zhang", "mass", Decimal("20000")),
    # another RM's customer on every list
    Planted(
        "陈外人",
        "rm.chen",
        "private",
        Decimal("5900000"),
        aum_change_3m=-0.5,
        rfm=(5, 5, 5, "important_value"),
    ),
)


def _resident_id() -> str:
    first17 = f"110108{date(1980, 1, 1):%Y%m%d}{next(_sequence) % 500 * 2 + 1:03d}"
    return first17 + resident_id_check_char(first17)


def plant(session: Session, principal_of: Callable[[str], Principal]) -> dict[str, int]:
    """Create the customers, score and tier them; returns their ids by name."""
    ids: dict[str, int] = {}
    for person in PLANTED:
        owner = users.find_user_by_username(session, person.owner)
        assert owner is not None
        created = customers.create_customer(
            session,
            principal_of(person.owner),
            data=CustomerCreate.model_validate(
                {
                    "kind": "individual",
                    "name": person.name,
                    "id_type": "resident_id",
                    "id_number": _resident_id(),
                    "mobile": f"137{next(_sequence):08d}",
                    "confirm_not_duplicate": True,
                    "primary_rm_id": owner.id,
                    "org_unit_id": owner.org_unit_id,
                }
            ),
        )
        ids[person.name] = created.id
    record(session, ids)
    return ids


def record(session: Session, ids: dict[str, int]) -> None:
    actor = Actor.system("test")
    rows = [(ids[person.name], person) for person in PLANTED if person.name in ids]
    scoring.record_scores(session, _scores(rows), as_of=AS_OF, actor=actor)
    changes = pa.table(
        {
            "customer_id": [cid for cid, person in rows if person.tier != "mass"],
            "from_tier": ["mass" for _cid, person in rows if person.tier != "mass"],
            "to_tier": [person.tier for _cid, person in rows if person.tier != "mass"],
            "reason": ["upgrade" for _cid, person in rows if person.tier != "mass"],
            "aum_mda": [person.aum_mda for _cid, person in rows if person.tier != "mass"],
            "balance_month": ["2026-10" for _cid, person in rows if person.tier != "mass"],
        }
    )
    scoring.apply_tier_changes(session, changes, as_of=AS_OF, actor=actor)


def _scores(rows: list[tuple[int, Planted]]) -> pa.Table:
    return pa.table(
        {
            "customer_id": [cid for cid, _p in rows],
            "aum_mda": [p.aum_mda for _cid, p in rows],
            "aum_qda": [p.aum_mda for _cid, p in rows],
            "recency_days": pa.array([p.recency_days for _cid, p in rows], pa.int64()),
            "frequency_12m": [p.frequency_12m for _cid, p in rows],
            "monetary_12m": [Decimal("1000.00") for _cid, _p in rows],
            "product_breadth": [2 for _cid, _p in rows],
            "digital_share_3m": [0.5 for _cid, _p in rows],
            "aum_change_3m": pa.array([p.aum_change_3m for _cid, p in rows], pa.float64()),
            "rfm_r": [p.rfm[0] for _cid, p in rows],
            "rfm_f": [p.rfm[1] for _cid, p in rows],
            "rfm_m": [p.rfm[2] for _cid, p in rows],
            "rfm_segment": [p.rfm[3] for _cid, p in rows],
            "clv_expected_transactions": [None for _row in rows],  # no lifetime value fitted
            "clv_probability_alive": [None for _row in rows],
            "clv_expected_value": [None for _row in rows],
        }
    )
