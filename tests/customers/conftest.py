"""Customer fixtures, created through the services like a user would."""

from __future__ import annotations

from datetime import date
from itertools import count

import pytest
from sqlalchemy.orm import Session

from bankcrm.core.validation import resident_id_check_char, uscc_check_char
from bankcrm.customers.schemas import CustomerCreate, CustomerDetail
from bankcrm.customers.service import customers
from bankcrm.identity.service import orgs
from bankcrm.identity.service import users as user_service

_sequence = count(100)


def resident_id(birth: date, *, male: bool = True, region: str = "110108") -> str:
    seq = next(_sequence) % 500 * 2 + (1 if male else 0)
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    return first17 + resident_id_check_char(first17)


def uscc(body: str = "91110108MA01ABCD1") -> str:
    return body + uscc_check_char(body)


def user_id(db: Session, username: str) -> int:
    user = user_service.find_user_by_username(db, username)
    assert user is not None
    return user.id


def unit_id(db: Session, code: str) -> int:
    unit = orgs.find_unit_by_code(db, code)
    assert unit is not None
    return unit.id


@pytest.fixture
def make_customer(db: Session, as_user):  # type: ignore[no-untyped-def]
    """Create an individual (by default) owned by an RM, through the customers service."""

    def _make(owner: str = "rm.zhang", *, creator: str | None = None, **fields: object) -> CustomerDetail:
        values: dict[str, object] = {
            "kind": "individual",
            "name": "张三",
            "id_type": "resident_id",
            "id_number": resident_id(date(1985, 6, 15)),
            "mobile": f"139{next(_sequence):08d}",
            "confirm_not_duplicate": True,
            "primary_rm_id": user_id(db, owner),
            "org_unit_id": user_service.find_user_by_username(db, owner).org_unit_id,  # type: ignore[union-attr]
        }
        values.update(fields)
        return customers.create_customer(
            db, as_user(creator or owner), data=CustomerCreate.model_validate(values)
        )

    return _make
