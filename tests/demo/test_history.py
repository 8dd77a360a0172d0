"""The synthetic bank's history: written batch by batch into one sorted file per month and bucket,
the same for the same seed, and readable as the 360° page reads it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bankcrm.core.lake import ROW_GROUP_ROWS, Lake
from bankcrm.customers import lake_repository
from bankcrm.customers.lake_repository import TransactionQuery
from bankcrm.demo import history
from bankcrm.demo.history import BatchHistory, HistoryFailed, HistoryPlan, HistoryWriter, InlineHistoryWriter

TODAY = date(2026, 11, 29)


def _history(root: Path, batches: list[np.ndarray], seed_value: int = 11) -> int:
    history = BatchHistory(HistoryPlan(lake_root=root, seed_value=seed_value, today=TODAY))
    for ids in batches:
        history.add(ids, np.linspace(1_000, 900_000, len(ids)))
    return history.finish()


def _all_transactions(root: Path) -> pa.Table:
    files = sorted((root / "transactions").rglob("*.parquet"))
    return pa.concat_tables([pq.read_table(path) for path in files])


def test_history_batches_land_in_one_file_per_month_and_bucket_sorted_by_customer_and_time(
    tmp_path: Path,
) -> None:
    total = _history(tmp_path, [np.arange(1, 201), np.arange(205, 400)])
    files = sorted((tmp_path / "transactions").rglob("*.parquet"))
    folders = {path.parent for path in files}
    assert len(files) == len(folders)  # one file per month and bucket, whatever the batches
    assert {path.parent.name for path in files} == {f"bucket={b}" for b in range(lake_repository.BUCKETS)}
    assert len({path.parent.parent.name for path in files}) in (24, 25)
    assert sum(pq.ParquetFile(path).metadata.num_rows for path in files) == total
    for path in files:
        table = pq.read_table(path)
        keys = list(zip(table["customer_id"].to_pylist(), table["booked_at"].to_pylist(), strict=True))
        assert keys == sorted(keys)
        bucket = int(path.parent.name.removeprefix("bucket="))
        assert all(customer % lake_repository.BUCKETS == bucket for customer, _at in keys)
    assert not list(tmp_path.rglob("*.tmp"))


def test_history_files_have_row_groups_of_the_lake_size_but_the_last(tmp_path: Path) -> None:
    # Few buckets hold many rows when every customer is in the same one.
    _history(tmp_path, [np.arange(32, 32 * 400, 32), np.arange(32 * 400, 32 * 900, 32)])
    for path in (tmp_path / "transactions").rglob("*.parquet"):
        metadata = pq.ParquetFile(path).metadata
        sizes = [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)]
        assert all(size == ROW_GROUP_ROWS for size in sizes[:-1])
        assert 0 < sizes[-1] <= ROW_GROUP_ROWS


def test_the_same_seed_and_customers_give_the_same_history(tmp_path: Path) -> None:
    batches = [np.arange(1, 301), np.arange(301, 500)]
    assert _history(tmp_path / "a", batches) == _history(tmp_path / "b", batches)
    assert _all_transactions(tmp_path / "a").equals(_all_transactions(tmp_path / "b"))
    _history(tmp_path / "c", batches, seed_value=12)
    assert not _all_transactions(tmp_path / "c").equals(_all_transactions(tmp_path / "a"))


def test_generated_transactions_are_realistic_and_uniquely_numbered(tmp_path: Path) -> None:
    _history(tmp_path, [np.arange(1, 301), np.arange(301, 601)])
    table = _all_transactions(tmp_path)
    assert len(set(table["txn_id"].to_pylist())) == table.num_rows
    salaries = table.filter(pa.compute.equal(table["category"], "salary"))
    assert set(salaries["direction"].to_pylist()) == {"in"}
    assert set(salaries["channel"].to_pylist()) == {"online"}
    assert set(salaries["counterparty"].to_pylist()) == {"工资代发"}
    assert {at.day for at in salaries["booked_at"].to_pylist()} == {10}
    assert min(table["amount"].to_pylist()) > 0
    first = table.filter(pa.compute.equal(table["customer_id"], 7))
    assert set(first["account_no"].to_pylist()) == {"6222000000000007"}
    assert all(txn.endswith("-7") for txn in first["txn_id"].to_pylist())


def test_the_360_page_finds_a_customers_history_and_balances(tmp_path: Path) -> None:
    _history(tmp_path, [np.arange(1, 101), np.arange(101, 201)])
    lake = Lake(tmp_path)
    expected = _all_transactions(tmp_path).filter(
        pa.compute.equal(_all_transactions(tmp_path)["customer_id"], 150)
    )
    rows, total = lake_repository.transactions(
        lake, TransactionQuery(customer_ids=(150,)), offset=0, limit=500
    )
    assert total == expected.num_rows == len(rows)
    assert sorted(r["txn_id"] for r in rows) == sorted(expected["txn_id"].to_pylist())
    balances = lake_repository.monthly_balances(lake, 150, since_month="2025-01")
    assert len(balances) == 12


def test_a_run_of_earlier_customers_is_refused(tmp_path: Path) -> None:
    history = BatchHistory(HistoryPlan(lake_root=tmp_path, seed_value=1, today=TODAY))
    history.add(np.arange(100, 200), np.full(100, 1e4))
    with pytest.raises(ValueError, match="follow the customers"):
        history.add(np.arange(150, 160), np.full(10, 1e4))
    history.abort()
    assert not list(tmp_path.rglob("*.parquet"))
    assert not list(tmp_path.rglob("*.tmp"))


def test_business_month_numbers_agree_with_the_time_zone_conversion() -> None:
    base = datetime(2024, 1, 1, tzinfo=UTC)
    moments = [base + timedelta(hours=h) for h in range(0, 3 * 365 * 24, 7)]
    moments += [datetime(2025, 3, 31, 15, 59, 59, tzinfo=UTC), datetime(2025, 3, 31, 16, 0, tzinfo=UTC)]
    booked = pa.array(moments, pa.timestamp("us", tz="UTC"))
    numbers = lake_repository.business_month_numbers(booked)
    assert [lake_repository.month_label(int(n)) for n in numbers] == lake_repository.business_months(
        booked
    ).to_pylist()
    old = pa.array([datetime(1988, 6, 30, 15, 30, tzinfo=UTC)], pa.timestamp("us", tz="UTC"))
    assert [lake_repository.month_label(int(n)) for n in lake_repository.business_month_numbers(old)] == (
        lake_repository.business_months(old).to_pylist()
    )


def test_transactions_appended_out_of_order_are_sorted_into_their_files(tmp_path: Path) -> None:
    at = [datetime(2026, 3, d, tzinfo=UTC) for d in (5, 1, 3)] + [datetime(2026, 2, 27, 20, tzinfo=UTC)]
    table = pa.table(
        {
            "txn_id": ["t1", "t2", "t3", "t4"],
            "customer_id": [33, 1, 1, 1],
            "account_no": ["a"] * 4,
            "booked_at": pa.array(at, pa.timestamp("us", tz="UTC")),
            "direction": ["out"] * 4,
            "amount": pa.array([Decimal("1.00")] * 4, pa.decimal128(20, 2)),
            "currency": ["CNY"] * 4,
            "category": ["dining"] * 4,
            "channel": ["pos"] * 4,
            "counterparty": ["餐饮"] * 4,
            "description": pa.nulls(4, pa.string()),
        }
    )
    appender = lake_repository.TransactionAppender(Lake(tmp_path), batch_key="unsorted")
    assert appender.append(table) == 4
    assert appender.close() == 4
    folder = tmp_path / "transactions"
    # 20:00 UTC on 27 February is 28 February in Beijing; 33 and 1 share bucket 1.
    assert pq.read_table(folder / "month=2026-02/bucket=1/unsorted.parquet")["txn_id"].to_pylist() == ["t4"]
    assert pq.read_table(folder / "month=2026-03/bucket=1/unsorted.parquet")["txn_id"].to_pylist() == [
        "t2",
        "t3",
        "t1",
    ]


def _write_history_of_49_customers(
    plan: HistoryPlan, *, then_fail: bool = False, writer_type: type = HistoryWriter
) -> int:
    with writer_type(plan) as writer:
        writer.add(list(range(1, 50)), [1e4] * 49)
        if then_fail:
            raise RuntimeError("loading failed")
        return writer.finish()


def test_the_history_process_reports_its_failure_to_the_loader(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the lake should be", encoding="utf-8")
    plan = HistoryPlan(lake_root=blocked, seed_value=1, today=TODAY)
    with pytest.raises(HistoryFailed, match=r"NotADirectoryError|FileExistsError"):
        _write_history_of_49_customers(plan)


def test_leaving_the_history_writer_by_an_error_leaves_no_files(tmp_path: Path) -> None:
    plan = HistoryPlan(lake_root=tmp_path, seed_value=1, today=TODAY)
    with pytest.raises(RuntimeError, match="loading failed"):
        _write_history_of_49_customers(plan, then_fail=True)
    assert not list(tmp_path.rglob("*.parquet"))
    assert not list(tmp_path.rglob("*.tmp"))


def test_the_history_process_writes_what_it_was_given(tmp_path: Path) -> None:
    plan = HistoryPlan(lake_root=tmp_path, seed_value=1, today=TODAY)
    total = _write_history_of_49_customers(plan)
    assert total == sum(
        pq.ParquetFile(p).metadata.num_rows for p in (tmp_path / "transactions").rglob("*.parquet")
    )
    assert len(list((tmp_path / "balances").rglob("*.parquet"))) == 12


def test_a_bank_of_one_batch_writes_its_history_in_process_the_same_as_the_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    by_worker, in_process = tmp_path / "worker", tmp_path / "inline"
    _write_history_of_49_customers(HistoryPlan(lake_root=by_worker, seed_value=1, today=TODAY))
    monkeypatch.setattr(history.multiprocessing, "get_context", _no_processes)
    writer = history.writer_for(HistoryPlan(lake_root=in_process, seed_value=1, today=TODAY), batches=1)
    assert isinstance(writer, InlineHistoryWriter)
    _write_history_of_49_customers(
        HistoryPlan(lake_root=in_process, seed_value=1, today=TODAY), writer_type=InlineHistoryWriter
    )
    assert _all_transactions(in_process).equals(_all_transactions(by_worker))
    for month in sorted(p.name for p in (by_worker / "balances").iterdir()):
        assert pq.read_table(in_process / "balances" / month).equals(
            pq.read_table(by_worker / "balances" / month)
        )


def test_leaving_the_in_process_writer_by_an_error_leaves_no_files(tmp_path: Path) -> None:
    plan = HistoryPlan(lake_root=tmp_path, seed_value=1, today=TODAY)
    with pytest.raises(RuntimeError, match="loading failed"):
        _write_history_of_49_customers(plan, then_fail=True, writer_type=InlineHistoryWriter)
    assert not list(tmp_path.rglob("*.parquet"))
    assert not list(tmp_path.rglob("*.tmp"))


def test_a_bank_of_several_batches_overlaps_its_history_in_a_worker(tmp_path: Path) -> None:
    plan = HistoryPlan(lake_root=tmp_path, seed_value=1, today=TODAY)
    assert isinstance(history.writer_for(plan, batches=2), HistoryWriter)


def _no_processes(*_args: object, **_kwargs: object) -> None:
    raise AssertionError("a bank of one batch must not start a process")
