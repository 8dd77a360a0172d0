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
    windows = targets.label_windows(RUNS)
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
    expression = targets.churn_rows(ibis.memtable(history), targets.label_windows(RUNS))
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


def _history(columns: list[str], rows: list[tuple[date, dict[int, tuple[float, ...]]]]) -> ibis.Table:
    """A feature history from (run date, {customer: values of ``columns``}) pairs."""
    return ibis.memtable(
        pa.concat_tables(
            pa.table(
                {
                    "customer_id": pa.array(list(values), pa.int64()),
                    "as_of": pa.array([day] * len(values), pa.date32()),
                    **{
                        name: pa.array([row[index] for row in values.values()], pa.float64())
                        for index, name in enumerate(columns)
                    },
                }
            )
            for day, values in rows
        )
    )


def _labels(expression: ibis.Table, label: str) -> dict[tuple[int, date], int]:
    table = ibis.duckdb.connect().to_pyarrow(expression)
    keys = zip(table.column("customer_id").to_pylist(), table.column("as_of").to_pylist(), strict=True)
    return dict(zip(keys, table.column(label).to_pylist(), strict=True))


PURCHASE_RUNS = [*RUNS, date(2024, 5, 31)]


def test_purchase_labels_customers_without_the_product_by_the_next_three_months() -> None:
    # 1: no wealth in January and February, wealth in March -> bought, from both starts.
    # 2: never holds wealth -> 0.   3: holds wealth in January -> no row then; sold it in February,
    # bought again in April -> 1 from February.   4: gone after January -> 0 (nothing shows a purchase).
    # 5: wealth only in May: outside January's window and February's (to 29 May) -> 0 from both.
    # March is no start: its window (to 30 June) is not in the history.
    jan, feb, mar, apr, may = PURCHASE_RUNS
    history = _history(
        ["balance_wealth"],
        [
            (jan, {1: (0,), 2: (0,), 3: (500,), 4: (0,), 5: (0,)}),
            (feb, {1: (0,), 2: (0,), 3: (0,), 5: (0,)}),
            (mar, {1: (100,), 2: (0,), 3: (0,), 5: (0,)}),
            (apr, {1: (100,), 2: (0,), 3: (300,), 5: (0,)}),
            (may, {1: (100,), 2: (0,), 3: (300,), 5: (80,)}),
        ],
    )
    windows = targets.label_windows(PURCHASE_RUNS, targets.PURCHASE_MONTHS)
    labels = _labels(targets.purchase_rows(history, windows, product="wealth"), "purchased")
    assert labels == {
        (1, jan): 1,
        (2, jan): 0,
        (4, jan): 0,
        (5, jan): 0,
        (1, feb): 1,
        (2, feb): 0,
        (3, feb): 1,
        (5, feb): 0,
    }


def test_each_product_type_is_its_own_target() -> None:
    purchase = {key for key in targets.HISTORY_TARGETS if key.startswith("purchase:")}
    assert purchase == {f"purchase:{product}" for product in targets.PURCHASE_PRODUCTS}
    wealth = targets.HISTORY_TARGETS["purchase:wealth"]
    assert (wealth.label, wealth.months, wealth.not_inputs) == ("purchased", 3, {"balance_wealth"})
    assert "no wealth" in wealth.definition


DEFAULT_RUNS = [
    date(2024, 1, 31),
    date(2024, 6, 30),
    date(2024, 12, 31),
    date(2025, 1, 31),
    date(2025, 2, 28),
]


def test_default_labels_borrowers_not_in_default_by_the_next_twelve_months() -> None:
    # Columns: loans and cards held, largest overdue days. Only January 2024 is a start (June's
    # twelve months reach past February 2025).
    # 1: current, 120 days overdue in December -> 1.   2: 30 days overdue, never past 90 -> 0.
    # 3: exactly 90 days later: not more than 90 -> 0.   4: no loan or card -> no row.
    # 5: 100 days overdue already -> no row (in default).   6: gone after January -> 0.
    # 7: 91 days only in February 2025, after the window -> 0.
    start, jun, dec, jan, feb = DEFAULT_RUNS
    history = _history(
        ["credit_products", "overdue_days_max"],
        [
            (start, {1: (1, 0), 2: (2, 30), 3: (1, 0), 4: (0, 0), 5: (1, 100), 6: (1, 0), 7: (1, 0)}),
            (jun, {1: (1, 40), 2: (2, 60), 3: (1, 60), 4: (0, 0), 5: (1, 130), 7: (1, 0)}),
            (dec, {1: (1, 120), 2: (2, 0), 3: (1, 90), 4: (0, 0), 5: (1, 0), 7: (1, 30)}),
            (jan, {1: (1, 150), 2: (2, 0), 3: (1, 0), 4: (0, 0), 5: (1, 0), 7: (1, 60)}),
            (feb, {1: (1, 0), 2: (2, 0), 3: (1, 0), 4: (0, 0), 5: (1, 0), 7: (1, 91)}),
        ],
    )
    windows = targets.label_windows(DEFAULT_RUNS, targets.DEFAULT_MONTHS)
    labels = _labels(targets.default_rows(history, windows), "defaulted")
    assert labels == {(1, start): 1, (2, start): 0, (3, start): 0, (6, start): 0, (7, start): 0}


def test_the_default_target_keeps_its_own_overdue_columns_out_of_the_inputs() -> None:
    default = targets.HISTORY_TARGETS[targets.DEFAULT]
    assert default.not_inputs == {"overdue_days_max", "overdue_amount"}
    assert "more than 90 days overdue" in default.definition
    assert "12 months" in default.definition
