"""The Parquet lake: atomic, idempotent writes by file key, partitions readable by DuckDB."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ibis.common.exceptions import TableNotFound

from bankcrm.core.config import Settings
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


def _by_customer(customers: list[int], tag: str) -> pa.Table:
    return pa.table({"customer_id": customers, "note": [f"{tag}{c}" for c in customers]})


def test_rows_of_keys_reads_only_the_keys_with_their_partition_values(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    lake.write_file("history", _by_customer([1, 2, 3, 5], "a"), file_key="b1", partition={"month": "2026-10"})
    lake.write_file("history", _by_customer([2, 5, 8], "b"), file_key="b1", partition={"month": "2026-11"})
    lake.write_file("history", _by_customer([2], "c"), file_key="b1", partition={"month": "2026-12"})
    found = lake.rows_of_keys(
        "history",
        key="customer_id",
        values=[5, 2],
        columns=["note"],
        partitions=["month=*"],
        keep=lambda partition: partition["month"] <= "2026-11",
    )
    assert found.table is not None
    assert sorted(found.table.to_pylist(), key=lambda row: row["note"]) == [
        {"customer_id": 2, "note": "a2", "month": "2026-10"},
        {"customer_id": 5, "note": "a5", "month": "2026-10"},
        {"customer_id": 2, "note": "b2", "month": "2026-11"},
        {"customer_id": 5, "note": "b5", "month": "2026-11"},
    ]
    nothing = lake.rows_of_keys(
        "history", key="customer_id", values=[4], columns=["note"], partitions=["month=*"]
    )
    assert nothing.table is None
    assert nothing.num_rows == 0


def test_fetch_reads_the_chosen_rows_in_the_order_asked_across_row_groups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bankcrm.core.lake.ROW_GROUP_ROWS", 4)
    lake = Lake(tmp_path)
    customers = [c for c in range(1, 11) for _ in range(3)]  # ten row groups hold each customer's rows
    table = _by_customer(customers, "n").append_column("serial", pa.array(range(len(customers))))
    lake.write_file("history", table, file_key="b1", partition={"month": "2026-11"})
    found = lake.rows_of_keys("history", key="customer_id", values=[3, 7], columns=[], partitions=["month=*"])
    assert found.num_rows == 6
    rows = found.fetch([5, 0, 3], ["serial", "note"])
    assert rows == [
        {"serial": 20, "note": "n7"},
        {"serial": 6, "note": "n3"},
        {"serial": 18, "note": "n7"},
    ]


def test_a_file_replaced_after_it_was_read_is_read_again(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    lake.write_file("history", _by_customer([1, 2], "old"), file_key="b1", partition={"month": "2026-11"})
    first = lake.rows_of_keys(
        "history", key="customer_id", values=[2], columns=["note"], partitions=["month=*"]
    )
    assert first.table is not None
    assert first.table["note"].to_pylist() == ["old2"]
    lake.write_file("history", _by_customer([2, 9, 40], "new"), file_key="b1", partition={"month": "2026-11"})
    again = lake.rows_of_keys(
        "history", key="customer_id", values=[40], columns=["note"], partitions=["month=*"]
    )
    assert again.table is not None
    assert again.table["note"].to_pylist() == ["new40"]


def test_row_groups_without_statistics_are_read_rather_than_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "history" / "month=2026-11"
    folder.mkdir(parents=True)
    pq.write_table(_by_customer([1, 2, 3], "x"), folder / "outside.parquet", write_statistics=False)
    found = Lake(tmp_path).rows_of_keys(
        "history", key="customer_id", values=[3], columns=["note"], partitions=["month=*"]
    )
    assert found.table is not None
    assert found.table["note"].to_pylist() == ["x3"]


def test_rows_of_keys_refuses_a_partition_pattern_that_is_not_key_value(tmp_path: Path) -> None:
    with pytest.raises(LakeError, match="partition pattern"):
        Lake(tmp_path).rows_of_keys("history", key="customer_id", values=[1], columns=[], partitions=["../x"])


def test_fetch_gives_null_for_a_column_an_older_file_lacks(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    lake.write_file("history", _by_customer([1, 2], "old"), file_key="b1", partition={"month": "2026-10"})
    newer = _by_customer([2], "new").append_column("channel", pa.array(["mobile"]))
    lake.write_file("history", newer, file_key="b1", partition={"month": "2026-11"})
    found = lake.rows_of_keys("history", key="customer_id", values=[2], columns=[], partitions=["month=*"])
    assert found.fetch([0, 1], ["note", "channel"]) == [
        {"note": "old2", "channel": None},
        {"note": "new2", "channel": "mobile"},
    ]


@pytest.fixture
def lake_limits(settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Settings that bound DuckDB differently from the defaults, for one test. Changed on the
    settings object every test shares (not by clearing ``get_settings``' cache: a new object would
    leave other fixtures changing the old one, which the app no longer reads)."""
    spill = tmp_path / "spill"
    monkeypatch.setattr(settings, "lake_memory_limit", "512MB")
    monkeypatch.setattr(settings, "lake_threads", 1)
    monkeypatch.setattr(settings, "lake_temp_dir", spill)
    return spill


def test_analytical_connections_are_bounded_by_the_settings(lake_limits: Path, tmp_path: Path) -> None:
    with Lake(tmp_path / "lake").connect() as duck:
        limit, threads, spill = duck.execute(
            "SELECT current_setting('memory_limit'), current_setting('threads'), "
            "current_setting('temp_directory')"
        ).fetchone()
    assert (limit, threads, spill) == ("488.2 MiB", 1, str(lake_limits))
    assert lake_limits.is_dir()


def test_a_query_written_by_duckdb_keeps_its_declared_types_and_order(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    lake.write_file(
        "transactions",
        transactions([(2, "2026-11", 100), (1, "2026-11", 250), (2, "2026-11", 50)]),
        file_key="t",
        partition={},
    )
    backend = lake.ibis_backend()
    source = backend.table("transactions")
    # A sum of integers: DuckDB makes it a 128-bit integer, which Parquet would store as a double.
    totals = source.group_by("customer_id").aggregate(
        total=source.amount_fen.sum(), rows=(source.amount_fen > 0).sum()
    )
    written = lake.write_query(
        "totals", backend, totals, order_by=["customer_id"], file_key="all", partition={"as_of": "2026-11-29"}
    )
    stored = pq.read_table(tmp_path / "totals" / "as_of=2026-11-29" / "all.parquet")
    assert written == 2
    assert stored.to_pylist() == [
        {"customer_id": 1, "total": 250, "rows": 1},
        {"customer_id": 2, "total": 150, "rows": 2},
    ]
    assert [stored.schema.field(name).type for name in ("total", "rows")] == [pa.int64(), pa.int64()]
    assert [p.name for p in (tmp_path / "totals").rglob("*") if p.is_file()] == ["all.parquet"]


def test_a_connection_can_open_only_the_datasets_it_needs(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    lake.write_file("history", _by_customer([1], "a"), file_key="b1", partition={"month": "2026-10"})
    lake.write_file("other", _by_customer([2], "b"), file_key="b1", partition={"month": "2026-10"})
    with lake.connect(only={"other"}) as duck:
        views = {
            row[0]
            for row in duck.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
        }
    assert views == {"other"}


def test_a_connection_can_bind_a_dataset_over_chosen_folders_only(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    for number, month in enumerate(("2026-08", "2026-09", "2026-10"), start=1):
        lake.write_file("history", _by_customer([number], month), file_key="b1", partition={"month": month})
    lake.write_file("other", _by_customer([9], "x"), file_key="b1", partition={"month": "2026-10"})
    chosen = {"history": ["month=2026-09", "month=2026-10"], "other": []}
    with lake.connect(partitions=chosen) as duck:
        rows = duck.execute("SELECT customer_id, month FROM history ORDER BY customer_id").fetchall()
        views = {
            row[0]
            for row in duck.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
        }
    assert rows == [(2, "2026-09"), (3, "2026-10")]
    assert views == {"history"}  # a dataset given no folder is not bound at all


def test_scan_expression_refuses_a_folder_pattern_that_is_not_key_value(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    with pytest.raises(LakeError, match="not of the form"):
        lake.scan_expression("history", partitions=["month=2026-10", "../secrets"])


def test_an_interactive_backend_binds_its_own_views_on_the_shared_duckdb(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    lake.write_file("history", _by_customer([1, 2], "a"), file_key="b1", partition={"month": "2026-10"})
    lake.write_file("other", _by_customer([9], "x"), file_key="b1", partition={"month": "2026-10"})
    first = lake.interactive_backend(only={"history"})
    second = lake.interactive_backend(partitions={"history": [], "other": ["month=2026-10"]})
    history = first.table("history")
    assert first.to_pyarrow(history.customer_id.sum()).as_py() == 3
    # Each request's views are its own: the second sees only what it bound.
    assert second.to_pyarrow(second.table("other").count()).as_py() == 1
    with pytest.raises(TableNotFound):
        first.table("other")
    with pytest.raises(TableNotFound):
        second.table("history")
