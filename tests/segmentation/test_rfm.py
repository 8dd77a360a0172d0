"""RFM quintiles and the eight segments, on a table of customers with known ranks."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import duckdb
import ibis
import pyarrow as pa

from bankcrm.customers.pages.labels import LABELS
from bankcrm.segmentation.rfm import SEGMENTS, with_rfm


def _scored(rows: list[tuple[int, int | None, int, str]]) -> dict[int, dict[str, Any]]:
    table = pa.table(
        {
            "customer_id": pa.array([r[0] for r in rows], pa.int64()),
            "recency_days": pa.array([r[1] for r in rows], pa.int64()),
            "frequency_12m": pa.array([r[2] for r in rows], pa.int64()),
            "monetary_12m": pa.array([Decimal(r[3]) for r in rows], pa.decimal128(20, 2)),
        }
    )
    backend = ibis.duckdb.from_connection(duckdb.connect())
    return {row["customer_id"]: row for row in backend.to_pyarrow(with_rfm(ibis.memtable(table))).to_pylist()}


# Ten customers: recency improves, frequency and spending grow with the id (customer 0 never transacts).
TEN = [(i, None if i == 0 else 100 - i * 10, i * 3, f"{i * 1000}.00") for i in range(10)]


def test_scores_are_quintiles_with_recent_frequent_and_big_spenders_at_5() -> None:
    scored = _scored(TEN)
    assert [scored[i]["rfm_f"] for i in range(10)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert [scored[i]["rfm_m"] for i in range(10)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    # fewer days since the last transaction is better; no transaction at all is the worst
    assert [scored[i]["rfm_r"] for i in range(10)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_equal_values_share_a_score_and_the_lowest_tie_scores_1() -> None:
    rows = [(i, 5, 0 if i < 6 else i, "0.00" if i < 6 else "10.00") for i in range(10)]
    scored = _scored(rows)
    assert {scored[i]["rfm_f"] for i in range(6)} == {1}
    assert {scored[i]["rfm_r"] for i in range(10)} == {1}  # everyone five days ago


def test_segments_follow_which_of_r_f_and_m_are_high() -> None:
    scored = _scored(TEN)
    assert scored[9]["rfm_segment"] == "important_value"  # R5 F5 M5
    assert scored[1]["rfm_segment"] == "general_winback"  # R1 F1 M1
    assert scored[0]["rfm_segment"] == "dormant"  # no transaction in 12 months

    mixed = _scored(
        [
            *[(i, 1, 1, "1.00") for i in range(1, 6)],  # filler ranks
            (10, 1, 50, "9000.00"),  # recent, frequent, big: important value
            (11, 300, 50, "9000.00"),  # long ago, frequent, big: important to keep
            (12, 1, 1, "9000.00"),  # recent, rare, big: important to develop
            (13, 300, 1, "9000.00"),  # long ago, rare, big: important to win back
            (14, 1, 50, "1.00"),  # recent, frequent, small: general value
        ]
    )
    assert [mixed[i]["rfm_segment"] for i in range(10, 15)] == [
        "important_value",
        "important_keep",
        "important_develop",
        "important_winback",
        "general_value",
    ]


def test_every_segment_has_words_on_the_customer_pages() -> None:
    assert set(SEGMENTS) == set(LABELS["rfm_segment"])
