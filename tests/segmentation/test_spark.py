"""Scale-out (issue 5): the feature pipeline runs unchanged on Spark and gives the DuckDB results.

A small generated bank (``spark.py``) is scored on the lake's DuckDB, as the scoring run does, and
on local Spark reading the same Parquet files; the two results must be equal row by row.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import ibis.expr.types as ir
import pyarrow as pa
from ibis.backends import BaseBackend

from bankcrm.core.config import get_settings
from bankcrm.segmentation.features import balance_month, transaction_breakdown
from bankcrm.segmentation.studio import targets
from bankcrm.segmentation.tiers import tier_decisions
from tests.segmentation.spark import BankTables, SmallBank, assert_same_rows, on_both

HISTORY_COLUMNS = ("customer_id", "balance_month", "as_of", "aum_mda")
TARGET_COLUMNS = ("aum", "product_count", "balance_wealth", "credit_products", "overdue_days_max")


def _features(as_of: date) -> Callable[[BankTables], ir.Table]:
    return lambda tables: tables.features(as_of)


def test_features_with_rfm_on_spark_equal_duckdb_at_a_month_end(
    small_bank: SmallBank, spark: BaseBackend
) -> None:
    duckdb_rows, spark_rows = on_both(small_bank, spark, _features(small_bank.month_end))
    assert duckdb_rows.num_rows == small_bank.profile.num_rows
    # The credit status is compared too, with customers in default among them.
    assert max(duckdb_rows["overdue_days_max"].to_pylist()) > targets.DEFAULT_OVERDUE_DAYS
    assert_same_rows(duckdb_rows, spark_rows, key="customer_id")


def test_features_with_rfm_on_spark_equal_duckdb_in_the_middle_of_a_month(
    small_bank: SmallBank, spark: BaseBackend
) -> None:
    # The balance month is the one before (30 or 31 days), the windows end mid-month.
    duckdb_rows, spark_rows = on_both(small_bank, spark, _features(small_bank.mid_month))
    assert_same_rows(duckdb_rows, spark_rows, key="customer_id")


def test_transaction_breakdown_on_spark_equals_duckdb(small_bank: SmallBank, spark: BaseBackend) -> None:
    as_of = small_bank.month_end
    duckdb_rows, spark_rows = on_both(
        small_bank, spark, lambda tables: transaction_breakdown(tables.transactions, as_of=as_of)
    )
    assert "" in duckdb_rows["value"].to_pylist()  # transactions without a category or channel
    assert_same_rows(duckdb_rows, spark_rows, key=("customer_id", "dimension", "value"))


def _feature_history(small_bank: SmallBank, columns: tuple[str, ...] = HISTORY_COLUMNS) -> pa.Table:
    """Four month-end runs, as the scoring run keeps them (computed once, on DuckDB)."""
    duckdb = small_bank.duckdb()
    tables = small_bank.tables(duckdb)
    last = balance_month(small_bank.month_end)
    runs = [
        duckdb.to_pyarrow(tables.features(last.minus(back).last_day).select(*columns)) for back in range(4)
    ]
    return pa.concat_tables(runs)


def test_studio_target_labels_on_spark_equal_duckdb(small_bank: SmallBank, spark: BaseBackend) -> None:
    history = _feature_history(small_bank, (*HISTORY_COLUMNS, *TARGET_COLUMNS))
    # Three months of runs: the first run is a start for each target (default's twelve months
    # would need a year of runs here; the expression is the same whatever the window).
    windows = targets.label_windows(sorted(set(history["as_of"].to_pylist())), 3)
    labels = {
        "churned": lambda table: targets.churn_rows(table, windows),
        "purchased": lambda table: targets.purchase_rows(table, windows, product="wealth"),
        "defaulted": lambda table: targets.default_rows(table, windows),
    }
    for label, rows in labels.items():

        def labelled(backend: BaseBackend, rows: Callable[[ir.Table], ir.Table] = rows) -> pa.Table:
            table = backend.create_table("target_history", history, overwrite=True)
            return backend.to_pyarrow(rows(table))

        duckdb_rows, spark_rows = labelled(small_bank.duckdb()), labelled(spark)
        assert duckdb_rows.num_rows > 0, label
        assert_same_rows(duckdb_rows, spark_rows, key=("customer_id", "as_of"))


def test_tier_decisions_on_spark_equal_duckdb(small_bank: SmallBank, spark: BaseBackend) -> None:
    settings = get_settings()
    history = _feature_history(small_bank)

    def decide(backend: BaseBackend) -> pa.Table:
        decisions = tier_decisions(
            backend.create_table("tier_history", history, overwrite=True),
            backend.create_table("tier_now", small_bank.tiers, overwrite=True),
            month=balance_month(small_bank.month_end),
            grace_months=settings.tier_grace_months,
            thresholds=settings.tier_thresholds,
        )
        return backend.to_pyarrow(decisions)

    duckdb_rows, spark_rows = decide(small_bank.duckdb()), decide(spark)
    assert set(duckdb_rows["reason"].to_pylist()) == {"upgrade", "downgrade"}
    assert_same_rows(duckdb_rows, spark_rows, key="customer_id")
