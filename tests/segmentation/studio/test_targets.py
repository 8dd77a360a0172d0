"""The churn target over the feature history, on customers worked out by hand."""

from __future__ import annotations

from datetime import date

import ibis
import pyarrow as pa

from bankcrm.segmentation.studio import targets

RUNS = [date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 31), date(2024, 4, 30)]


def test_add_months_clamps_to_the_months_end() -> None:
    assert targets.add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert targets.add_months(date(2024, 11, 30), 3) == date(2025, 2, 28)


def test_only_runs_whose_three_months_are_in_the_history_are_starts() -> None:
    windows = targets.churn_windows(RUNS)
    assert set(windows.column("start").to_pylist()) == {date(2024, 1, 31)}
    assert windows.column("run").to_pylist() == RUNS[1:]
    assert windows.column("is_end").to_pylist() == [False, False, True]


def test_churn_labels_on_hand_made_customers() -> None:
    # 1: AUM 100 -> 40 in February (below half) -> churned, though it recovers by April.
    # 2: steady -> not churned.   3: all products closed in February and gone in April -> churned.
    # 4: no AUM to fall from, still a customer -> not churned.   5: AUM 100 -> 50 (exactly half) -> not.
    # 6: present in January and February only, missing from the window's last run -> churned.
    rows = [
        (RUNS[0], [1, 2, 3, 4, 5, 6], [100, 100, 100, 0, 100, 100], [1, 1, 1, 1, 1, 1]),
        (RUNS[1], [1, 2, 3, 5, 6], [40, 100, 0, 50, 100], [1, 1, 0, 1, 1]),
        (RUNS[2], [1, 2, 4, 5], [100, 100, 0, 50], [1, 1, 1, 1]),
        (RUNS[3], [1, 2, 4, 5], [100, 100, 0, 50], [1, 1, 1, 1]),
    ]
    history = pa.concat_tables(
        pa.table(
            {
                "customer_id": pa.array(ids, pa.int64()),
                "as_of": pa.array([day] * len(ids), pa.date32()),
                "aum": pa.array(aum, pa.float64()),
                "product_count": pa.array(products, pa.int64()),
            }
        )
        for day, ids, aum, products in rows
    )
    expression = targets.churn_rows(ibis.memtable(history), targets.churn_windows(RUNS))
    labelled = ibis.duckdb.connect().to_pyarrow(expression.order_by("customer_id"))
    assert labelled.column("as_of").to_pylist() == [RUNS[0]] * 6
    assert dict(
        zip(labelled.column("customer_id").to_pylist(), labelled.column("churned").to_pylist(), strict=True)
    ) == {
        1: 1,
        2: 0,
        3: 1,
        4: 0,
        5: 0,
        6: 1,
    }
