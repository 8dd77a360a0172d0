"""What the segment routes of the matrix act on, made through the segmentation services.

The matrix's customers are scored once into a lake of the matrix's own (no transactions: every
figure is nought; only the lake's side of a run, so the scores the customer book planted for the
RM lists stay), then a branch manager defines two segments: ``segment:all`` (every scored
customer) and ``segment:none`` (nobody: AUM above a billion). Segments are the bank's definitions,
so every reader opens them; what each sees of their members is scoped (tested in
``tests/segmentation/test_segments.py``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from bankcrm.core.lake import Lake
from bankcrm.core.principal import Principal
from bankcrm.segmentation import service as segments
from bankcrm.segmentation.jobs import FEATURES, compute_features
from bankcrm.segmentation.schemas import SegmentIn

AS_OF = date(2026, 10, 31)
EVERYONE: dict[str, Any] = {"join": "and", "items": [{"field": "aum", "operator": "ge", "value": "0"}]}
NOBODY: dict[str, Any] = {"join": "and", "items": [{"field": "aum", "operator": "gt", "value": "1000000000"}]}


def build_segments(db: Session, manager: Principal, lake: Lake) -> dict[str, dict[str, int]]:
    # Only the lake's side of a run (features and the attributes taken with them): the scores the
    # customer book planted for the RM lists stay as they are.
    features = compute_features(db, lake, as_of=AS_OF)
    lake.write_file(FEATURES, features, file_key="features", partition={"as_of": AS_OF.isoformat()})
    segments.store_attributes(db, lake, as_of=AS_OF)
    everyone = segments.create_segment(db, manager, lake, data=SegmentIn(name="矩阵·全部客户", rule=EVERYONE))
    nobody = segments.create_segment(db, manager, lake, data=SegmentIn(name="矩阵·无人", rule=NOBODY))
    return {"segment": {"all": everyone.id, "none": nobody.id}}
