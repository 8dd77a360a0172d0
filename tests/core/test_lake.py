"""The Parquet lake: atomic, idempotent writes by file key, partitions readable by DuckDB."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bankcrm.core.lake import ROW_GROUP_ROWS, Lake, LakeError


def transactions(rows: list[tuple[int, str, int]]) -> pa.Table:
    return pa.table(
        {
            "customer_id": [r[0] for r in rows],
            "month": [r[1] for r in rows],
            "amount_fen": [r[2] for r in rows],
        }
    )


def test_partitioned_write_is_read_back_with_partition_columns(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    lake.write_partitioned(
        "transactions",
        transactions([(1, "2026-10", 100), (2, "2026-11", 250), (1, "2026-11", 50)]),
        partition_columns=["month"],
        file_key="batch-1",
    )
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.parquet")) == [
        "transactions/month=2026-10/batch-1.parquet",
        "transactions/month=2026-11/batch-1.parquet",
    ]
    with lake.connect() as duck:
        rows = duck.execute(
            "SELECT month, sum(amount_fen) FROM transactions GROUP BY month ORDER BY month"
        ).fetchall()
    assert rows == [("2026-10", 100), ("2026-11", 300)]


def test_writing_the_same_file_key_again_replaces_instead_of_duplicating(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    table = transactions([(1, "2026-11", 100)])
    for _ in range(3):  # e.g. a batch re-run after a crash
        lake.write_partitioned("transactions", table, partition_columns=["month"], file_key="batch-7")
    assert lake.query("SELECT count(*) AS n FROM transactions").to_pylist() == [{"n": 1}]


def test_no_temporary_file_is_left_behind_or_visible(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    lake.write_file(
        "balances", pa.table({"x": [1]}), file_key="b1", partition={"as_of": str(date(2026, 11, 29))}
    )
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file() and not p.name.endswith(".parquet")]
    assert leftovers == []


def test_removing_a_file_key_undoes_a_batch(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    lake.write_partitioned(
        "t",
        transactions([(1, "2026-10", 1), (1, "2026-11", 2)]),
        partition_columns=["month"],
        file_key="bad-batch",
    )
    assert lake.remove_file_key("t", "bad-batch") == 2
    assert not lake.has_dataset("t")


def test_partitions_keep_their_rows_in_order_whoever_writes_them(tmp_path: Path) -> None:
    rows = [(i % 7, f"2026-{i % 3 + 10:02d}", i) for i in range(200)]
    for workers in (1, 2):
        lake = Lake(tmp_path / str(workers))
        lake.write_partitioned(
            "t", transactions(rows), partition_columns=["month"], file_key="b", workers=workers
        )
        for month in ("2026-10", "2026-11", "2026-12"):
            written = pq.read_table(tmp_path / str(workers) / "t" / f"month={month}" / "b.parquet")
            assert written["amount_fen"].to_pylist() == [r[2] for r in rows if r[1] == month]


def test_removing_a_delivery_removes_every_part_of_it_and_nothing_else(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    table = transactions([(1, "2026-10", 1), (1, "2026-11", 2)])
    for key in ("d1", "d1-00000", "d1-00001", "d10-00000", "d2"):
        lake.write_partitioned("t", table, partition_columns=["month"], file_key=key)
    assert lake.remove_file_key_and_parts("t", "d1") == 6
    assert sorted({p.name for p in tmp_path.rglob("*.parquet")}) == ["d10-00000.parquet", "d2.parquet"]


@pytest.mark.parametrize("name", ["../escape", "a/b", "", "x;DROP"])
def test_unsafe_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(LakeError):
        Lake(tmp_path).dataset_dir(name)


def test_connect_without_datasets_gives_an_empty_engine(tmp_path: Path) -> None:
    with Lake(tmp_path / "missing").connect() as duck:
        assert duck.execute("SELECT 42").fetchone() == (42,)


def test_large_files_are_split_into_row_groups_a_customer_query_can_skip(tmp_path: Path) -> None:
    rows = ROW_GROUP_ROWS * 3
    table = pa.table({"customer_id": list(range(rows)), "amount_fen": [1] * rows})
    path = Lake(tmp_path).write_file("balances", table, file_key="b", partition={"month": "2026-11"})
    metadata = pq.ParquetFile(path).metadata
    assert metadata.num_row_groups == 3
    first = metadata.row_group(0).column(0).statistics
    assert (first.min, first.max) == (0, ROW_GROUP_ROWS - 1)
