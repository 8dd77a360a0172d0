"""The analytical store: a Parquet lake on disk and the DuckDB connection that reads it.

This is the one place that knows the file layout::

    <lake>/<dataset>/<key>=<value>/.../<file_key>.parquet

Hive-style partition folders let DuckDB (and later Spark or Trino) prune by partition. Writes are
atomic: each file is written to a hidden temporary name in the same folder, flushed to disk and
renamed, so a reader or a crash never sees half a file. A file is named by a caller-chosen key
(for example the ingestion batch id), so writing the same key again replaces the file instead of
adding a second copy; that makes re-running a load after a crash exactly-once.
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from ibis.backends import BaseBackend
from ibis.backends.sql.datatypes import DuckDBType

from bankcrm.core.config import get_settings

_SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_PARTITION_GLOB = re.compile(r"[A-Za-z0-9_]+=(\*|[A-Za-z0-9_.-]+)(/[A-Za-z0-9_]+=(\*|[A-Za-z0-9_.-]+))*")
# Rows per Parquet row group. Files are sorted by customer, so each row group covers a narrow range of
# customer ids and a one-customer query skips the others by their statistics; pyarrow's default (a
# million rows) made every month of balances one group, read whole for each customer. A customer's
# transactions are one group in each of 24 monthly files, so the group's size is what such a query
# decodes: 2,048 rows took half the time of 8,192 on the 100,000-customer bank; 1,024 gained nothing.
ROW_GROUP_ROWS = 2048
_connection_lock = threading.Lock()
_connection: duckdb.DuckDBPyConnection | None = None


def _shared_connection() -> duckdb.DuckDBPyConnection:
    global _connection
    with _connection_lock:
        if _connection is None:
            # Bounded as jobs' connections are: a page's query must not take the server's memory.
            _connection = duckdb.connect(database=":memory:", config=_analytics_config(None, None))
            # Keep each file's footer (schema, row-group statistics) in memory: a customer's history
            # touches one small file per month, and reading 24 footers again on every request cost
            # more than the rows themselves. DuckDB re-reads a footer when the file has changed.
            _connection.execute("SET parquet_metadata_cache = true")
        return _connection


def _analytics_config(threads: int | None, memory_limit: str | None) -> dict[str, Any]:
    """DuckDB's limits for a job's connection: the arguments, else the settings."""
    settings = get_settings()
    temp_dir = settings.lake_temp_dir or settings.var_dir / "duckdb-tmp"
    temp_dir.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {
        "memory_limit": memory_limit or settings.lake_memory_limit,
        "temp_directory": str(temp_dir),
    }
    chosen = threads or settings.lake_threads
    if chosen:
        config["threads"] = chosen
    return config


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class LakeError(ValueError):
    pass


def _check_name(kind: str, value: str) -> str:
    if not _SAFE_NAME.fullmatch(value) or ".." in value:
        raise LakeError(f"{kind} {value!r} may use letters, digits, '_', '-' and '.' only")
    return value


def _checked_pattern(pattern: str) -> str:
    """A partition pattern (``month=*/bucket=7``) checked before it becomes part of a path or SQL."""
    if not _PARTITION_GLOB.fullmatch(pattern):
        raise LakeError(f"partition pattern {pattern!r} is not of the form key=value/key=*")
    return pattern


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Lake:
    def __init__(self, root: Path) -> None:
        self.root = root

    def dataset_dir(self, dataset: str) -> Path:
        return self.root / _check_name("dataset", dataset)

    def has_dataset(self, dataset: str) -> bool:
        directory = self.dataset_dir(dataset)
        return directory.exists() and any(directory.rglob("*.parquet"))

    def datasets(self) -> list[str]:
        if not self.root.exists():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and self.has_dataset(p.name))

    def partition_dir(self, dataset: str, partition: Mapping[str, str]) -> Path:
        directory = self.dataset_dir(dataset)
        for key, value in partition.items():
            directory = (
                directory / f"{_check_name('partition key', key)}={_check_name('partition value', value)}"
            )
        return directory

    def write_file(
        self, dataset: str, table: pa.Table, *, file_key: str, partition: Mapping[str, str]
    ) -> Path:
        """Write one Parquet file atomically; the same ``file_key`` in the same partition replaces it."""
        return self.write_with(
            dataset,
            lambda path: pq.write_table(table, path, compression="zstd", row_group_size=ROW_GROUP_ROWS),
            file_key=file_key,
            partition=partition,
        )

    def write_with(
        self,
        dataset: str,
        write: Callable[[Path], None],
        *,
        file_key: str,
        partition: Mapping[str, str],
    ) -> Path:
        """``write_file`` for a file another writer makes: ``write`` writes the Parquet file at the
        path it is given (a hidden temporary name), which is then put in place atomically. For a
        result too large to hold in memory, such as a DuckDB ``COPY`` of a query."""
        directory = self.partition_dir(dataset, partition)
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / f"{_check_name('file key', file_key)}.parquet"
        temporary = directory / f".{file_key}.{uuid.uuid4().hex}.tmp"
        try:
            write(temporary)
            with temporary.open("rb") as handle:
                os.fsync(handle.fileno())
            os.replace(temporary, target)
            _fsync_directory(directory)
        finally:
            temporary.unlink(missing_ok=True)
        return target

    def write_query(
        self,
        dataset: str,
        backend: BaseBackend,
        expression: ir.Table,
        *,
        order_by: Sequence[str],
        file_key: str,
        partition: Mapping[str, str],
    ) -> int:
        """The rows of an Ibis expression on ``ibis_backend()``'s DuckDB, written by DuckDB straight
        into one file as ``write_file`` would write them (atomically, zstd, its row groups), never
        held whole in this process; returns how many rows.

        Each column is cast to the type the expression declares: DuckDB sums integers into 128-bit
        integers, which Parquet would get as doubles, where Ibis's own results have 64-bit ones.
        """
        columns = ", ".join(
            f"CAST({_quoted(name)} AS {DuckDBType.to_string(dtype)}) AS {_quoted(name)}"
            for name, dtype in expression.schema().items()
        )
        order = ", ".join(_quoted(name) for name in order_by)
        query = f"SELECT {columns} FROM ({backend.compile(expression)}) ORDER BY {order}"  # noqa: S608

        def copy(path: Path) -> None:
            target = path.as_posix().replace("'", "''")
            backend.raw_sql(
                f"COPY ({query}) TO '{target}' "
                f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP_ROWS})"
            ).close()

        path = self.write_with(dataset, copy, file_key=file_key, partition=partition)
        return int(pq.read_metadata(path).num_rows)

    def write_partitioned(
        self,
        dataset: str,
        table: pa.Table,
        *,
        partition_columns: Iterable[str],
        file_key: str,
        workers: int = 1,
    ) -> list[Path]:
        """Split ``table`` by the values of ``partition_columns`` and write one file per partition,
        ``workers`` files at a time (Parquet encoding and fsync release the GIL).

        The partition columns are dropped from the files, as Hive layout keeps them in folder names.
        """
        columns = list(partition_columns)
        if not columns:
            return [self.write_file(dataset, table, file_key=file_key, partition={})]
        # One stable sort by the partition columns, then a slice per partition (rows keep their
        # order inside it): filtering the whole table once per partition cost rows x partitions.
        order = pc.sort_indices(table, sort_keys=[(column, "ascending") for column in columns])
        in_order = pc.all(pc.equal(order, pa.array(range(table.num_rows), order.type))).as_py()
        grouped = table if in_order is not False else table.take(order)
        # Without threads, groups come out in order of first appearance: the sorted order.
        counts = grouped.select(columns).group_by(columns, use_threads=False).aggregate([([], "count_all")])
        parts = []
        start = 0
        for key in counts.to_pylist():
            size = int(key["count_all"])
            parts.append(({column: str(key[column]) for column in columns}, grouped.slice(start, size)))
            start += size

        def write(partition: dict[str, str], part: pa.Table) -> Path:
            return self.write_file(
                dataset, part.drop_columns(columns), file_key=file_key, partition=partition
            )

        if workers <= 1:
            return [write(partition, part) for partition, part in parts]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lake-write") as pool:
            return list(pool.map(lambda item: write(*item), parts))

    def remove_file_key(self, dataset: str, file_key: str) -> int:
        """Delete every file written under ``file_key`` (undoing a batch); returns how many."""
        removed = 0
        directory = self.dataset_dir(dataset)
        if directory.exists():
            for path in directory.rglob(f"{_check_name('file key', file_key)}.parquet"):
                path.unlink()
                removed += 1
        return removed

    def remove_file_key_and_parts(self, dataset: str, file_key: str) -> int:
        """Delete every file written under ``file_key`` or ``<file_key>-<part>``; returns how many."""
        removed = 0
        directory = self.dataset_dir(dataset)
        key = _check_name("file key", file_key)
        if directory.exists():
            for pattern in (f"{key}.parquet", f"{key}-*.parquet"):
                for path in directory.rglob(pattern):
                    path.unlink()
                    removed += 1
        return removed

    def scan_expression(self, dataset: str, *, partitions: str | Sequence[str] | None = None) -> str:
        """The DuckDB table function reading a dataset (or only some partition folders) with its
        partition columns. ``partitions`` narrows the folders read: one pattern such as
        ``"month=*/bucket=7"`` or several (``["month=2026-09/bucket=*", "month=2026-10/bucket=*"]``)."""
        folder = self.dataset_dir(dataset)
        if partitions is None:
            patterns = [(folder / "**" / "*.parquet").as_posix()]
        else:
            chosen = [partitions] if isinstance(partitions, str) else list(partitions)
            if not chosen:
                raise LakeError(f"no partition of {dataset} chosen to read")
            patterns = [(folder / _checked_pattern(pattern) / "*.parquet").as_posix() for pattern in chosen]
        files = ", ".join("'" + pattern.replace("'", "''") + "'" for pattern in patterns)
        return f"read_parquet([{files}], hive_partitioning = true, union_by_name = true)"

    def rows_of_keys(
        self,
        dataset: str,
        *,
        key: str,
        values: Sequence[int],
        columns: Sequence[str],
        partitions: Sequence[str],
        keep: Callable[[Mapping[str, str]], bool] | None = None,
    ) -> KeyedRows:
        """The rows whose integer column ``key`` is one of ``values``, found through the row-group
        statistics of the files in the folders ``partitions`` (patterns such as ``"month=*/bucket=7"``)
        whose partition values ``keep`` accepts. Only ``key`` and ``columns`` are read; the table also
        carries each partition value as text. ``KeyedRows.fetch`` reads more columns of chosen rows.

        For a few keys in files sorted by that key (a customer's history), this reads a few row groups
        where a DuckDB scan would weigh every group's statistics of every file on each request.
        """
        wanted = np.unique(np.asarray(values, dtype=np.int64))
        files: list[pq.ParquetFile] = []
        partition_values: list[dict[str, str]] = []
        groups_read: list[list[int]] = []
        rows_per_group: list[np.ndarray] = []
        tables: list[pa.Table] = []
        for path, partition in self._files_in(dataset, partitions):
            if keep is not None and not keep(partition):
                continue
            footer = _footers.get(path, key)
            groups = footer.groups_holding(wanted)
            if groups:
                file = _open(path, footer)
                files.append(file)
                partition_values.append(partition)
                groups_read.append(groups)
                rows_per_group.append(footer.group_rows[groups])
                tables.append(_read_groups(file, groups, [key, *columns]))
        if not tables:
            return KeyedRows(None, [], np.empty((0, 3), dtype=np.int64))
        # Everything per row at once: Python work per file was most of the time of a 24-file read.
        read = pa.concat_tables(tables)
        group_sizes = np.concatenate(rows_per_group)
        rows_per_file = np.array([table.num_rows for table in tables])
        file_of_rows = np.repeat(np.arange(len(files)), rows_per_file)
        group_of_rows = np.repeat(np.concatenate(groups_read), group_sizes)
        group_starts = np.cumsum(group_sizes) - group_sizes
        row_in_group = np.arange(read.num_rows) - np.repeat(group_starts, group_sizes)
        holds = np.isin(read[key].to_numpy(), wanted)
        if not holds.any():
            return KeyedRows(None, [], np.empty((0, 3), dtype=np.int64))
        table = read.filter(pa.array(holds))
        for name in partition_values[0]:
            per_file = np.array([values[name] for values in partition_values], dtype=object)
            table = table.append_column(name, pa.array(per_file[file_of_rows[holds]], pa.string()))
        places = np.column_stack([file_of_rows[holds], group_of_rows[holds], row_in_group[holds]])
        return KeyedRows(table, files, places)

    def _files_in(self, dataset: str, partitions: Sequence[str]) -> list[tuple[Path, dict[str, str]]]:
        folder = self.dataset_dir(dataset)
        found: list[tuple[Path, dict[str, str]]] = []
        for pattern in partitions:
            for path in sorted(folder.glob(f"{_checked_pattern(pattern)}/*.parquet")):
                names = path.relative_to(folder).parts[:-1]
                found.append((path, dict(name.split("=", 1) for name in names)))
        return found

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor on one process-wide in-memory DuckDB: cheap per request, safe per thread.

        Queries name their files through ``scan_expression``, so no views (and no directory walk
        over every dataset) are needed for each request.
        """
        return _shared_connection().cursor()

    def connect(
        self,
        *,
        threads: int | None = None,
        memory_limit: str | None = None,
        only: Collection[str] | None = None,
        partitions: Mapping[str, Sequence[str]] | None = None,
    ) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB with one view per dataset (or per dataset of ``only``), named after it.

        Creating a view reads the footers of every file of its dataset (their columns are united by
        name), about two seconds for a million customers' transactions: an interactive caller that
        needs a few datasets names them in ``only``, and a caller that needs a few folders of one
        names them in ``partitions`` (dataset -> patterns as ``scan_expression`` takes them; a
        dataset given no pattern gets no view).

        For analytical jobs over the whole lake: its memory is bounded (``Settings.lake_memory_limit``
        unless given) and what does not fit spills to ``Settings.lake_temp_dir``; without a bound
        DuckDB takes up to 80% of the machine's memory, which a million-customer run did reach for.
        """
        connection = duckdb.connect(database=":memory:", config=_analytics_config(threads, memory_limit))
        connection.execute("SET enable_progress_bar = false")  # a job's log, not a terminal
        self._bind_views(connection, only=only, partitions=partitions, temporary=False)
        return connection

    def _bind_views(
        self,
        connection: duckdb.DuckDBPyConnection,
        *,
        only: Collection[str] | None,
        partitions: Mapping[str, Sequence[str]] | None,
        temporary: bool,
    ) -> None:
        for dataset in self.datasets():
            if only is not None and dataset not in only:
                continue
            folders = None if partitions is None else partitions.get(dataset)
            if folders is not None and not folders:
                continue
            source = self.scan_expression(dataset, partitions=folders)
            kind = "TEMP VIEW" if temporary else "VIEW"
            # Dataset names are checked against a strict pattern, so the f-string cannot inject SQL.
            connection.execute(f'CREATE {kind} "{dataset}" AS SELECT * FROM {source}')  # noqa: S608

    def interactive_backend(
        self,
        *,
        only: Collection[str] | None = None,
        partitions: Mapping[str, Sequence[str]] | None = None,
    ) -> BaseBackend:
        """What ``ibis_backend`` gives, for a person waiting on a page: the views are temporary ones
        on a cursor of the process-wide DuckDB, whose cache keeps the files' footers between
        requests, so binding the same files again (each change in the segment builder) costs
        little; the first binding of a million customers' 3 months of transactions took 0.7 s."""
        cursor = _shared_connection().cursor()
        self._bind_views(cursor, only=only, partitions=partitions, temporary=True)
        return ibis.duckdb.from_connection(cursor)

    def ibis_backend(
        self,
        *,
        threads: int | None = None,
        memory_limit: str | None = None,
        only: Collection[str] | None = None,
        partitions: Mapping[str, Sequence[str]] | None = None,
    ) -> BaseBackend:
        """An Ibis backend on ``connect()``'s DuckDB: each dataset is a table of that name. Analytics
        code written against Ibis tables runs here unchanged from how it runs on Spark."""
        return ibis.duckdb.from_connection(
            self.connect(threads=threads, memory_limit=memory_limit, only=only, partitions=partitions)
        )

    def query(self, sql: str, parameters: list[Any] | None = None) -> pa.Table:
        with self.connect() as connection:
            return connection.sql(sql, params=parameters or None).to_arrow_table()


class PartitionAppender:
    """One Parquet file per partition, filled run by run over a long job, so a dataset far larger
    than memory is written as few large files (the synthetic bank's million customers' history).

    Rows wait until a whole row group of ``ROW_GROUP_ROWS`` is there, so the files have the row
    groups ``write_file`` gives them. Each file grows under a hidden temporary name; ``close``
    flushes it to disk and renames it over ``<file_key>.parquet`` (replacing a file of that key, as
    ``write_file`` does), and ``abort`` removes it, so a reader or a crash never sees half a file.
    """

    def __init__(self, lake: Lake, dataset: str, *, file_key: str, schema: pa.Schema) -> None:
        self._lake = lake
        self._dataset = dataset
        self._file_key = _check_name("file key", file_key)
        self._schema = schema
        self._files: dict[tuple[tuple[str, str], ...], _GrowingFile] = {}

    def append(self, partition: Mapping[str, str], table: pa.Table) -> None:
        """Add ``table``'s rows after those already appended to ``partition``'s file."""
        key = tuple(partition.items())
        file = self._files.get(key)
        if file is None:
            directory = self._lake.partition_dir(self._dataset, partition)
            file = self._files[key] = _GrowingFile(directory, self._file_key, self._schema)
        file.append(table)

    def close(self) -> list[Path]:
        """Finish every file and put it in place; returns their paths."""
        try:
            return [file.commit() for file in self._files.values()]
        finally:
            self.abort()

    def abort(self) -> None:
        """Forget everything not yet put in place."""
        for file in self._files.values():
            file.discard()
        self._files.clear()


class _GrowingFile:
    def __init__(self, directory: Path, file_key: str, schema: pa.Schema) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.target = directory / f"{file_key}.parquet"
        self.temporary = directory / f".{file_key}.{uuid.uuid4().hex}.tmp"
        self.writer: pq.ParquetWriter | None = pq.ParquetWriter(self.temporary, schema, compression="zstd")
        self.waiting: list[pa.Table] = []
        self.waiting_rows = 0

    def append(self, table: pa.Table) -> None:
        self.waiting.append(table)
        self.waiting_rows += table.num_rows
        if self.waiting_rows >= ROW_GROUP_ROWS:
            rows = pa.concat_tables(self.waiting)
            whole_groups = rows.num_rows - rows.num_rows % ROW_GROUP_ROWS
            self._write(rows.slice(0, whole_groups))
            rest = rows.slice(whole_groups)
            self.waiting = [rest] if rest.num_rows else []
            self.waiting_rows = rest.num_rows

    def _write(self, table: pa.Table) -> None:
        assert self.writer is not None, "the file was already finished"
        self.writer.write_table(table, row_group_size=ROW_GROUP_ROWS)

    def commit(self) -> Path:
        if self.waiting_rows:
            self._write(pa.concat_tables(self.waiting))
        self.waiting = []
        assert self.writer is not None, "the file was already finished"
        self.writer.close()
        self.writer = None
        with self.temporary.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(self.temporary, self.target)
        _fsync_directory(self.directory)
        return self.target

    def discard(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
        self.temporary.unlink(missing_ok=True)


# Footers of the files read by ``Lake.rows_of_keys``, per process, with each row group's key range.
# pyarrow holds about half a megabyte per history file of a million-customer bank (450 MiB for its
# 800 files; DuckDB's footer cache held as much when it read them). Parsing a footer again instead
# cost 0.45 ms per file, 11 ms per 360° transactions page: the memory buys the speed.
_FOOTER_CACHE_FILES = 4096


@dataclass(frozen=True)
class _Footer:
    stamp: tuple[int, int]  # (modification time in ns, size): a replaced file is read again
    metadata: pq.FileMetaData
    low: np.ndarray  # per row group, the smallest and largest key (the widest range when unknown)
    high: np.ndarray
    group_rows: np.ndarray

    def groups_holding(self, keys: np.ndarray) -> list[int]:
        """The row groups whose key range contains one of ``keys`` (sorted)."""
        # For each group, the first key not below its low end; the group holds a key when that key
        # exists and is not above its high end.
        first = np.searchsorted(keys, self.low)
        inside = first < len(keys)
        inside[inside] = keys[first[inside]] <= self.high[inside]
        return np.flatnonzero(inside).tolist()


class _FooterCache:
    """Footers by file and key column, the least recently used dropped first."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str], _Footer] = OrderedDict()

    def get(self, path: Path, key: str) -> _Footer:
        status = path.stat()
        stamp = (status.st_mtime_ns, status.st_size)
        entry = (path.as_posix(), key)
        with self._lock:
            footer = self._entries.get(entry)
            if footer is not None and footer.stamp == stamp:
                self._entries.move_to_end(entry)
                return footer
        footer = _read_footer(path, key, stamp)
        with self._lock:
            self._entries[entry] = footer
            self._entries.move_to_end(entry)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)
        return footer


def _read_footer(path: Path, key: str, stamp: tuple[int, int]) -> _Footer:
    metadata = pq.read_metadata(path)
    groups = metadata.num_row_groups
    low = np.full(groups, np.iinfo(np.int64).min, dtype=np.int64)
    high = np.full(groups, np.iinfo(np.int64).max, dtype=np.int64)
    names = metadata.schema.names
    if key not in names:
        raise LakeError(f"{path.name} has no column {key!r}")
    column = names.index(key)
    for group in range(groups):
        statistics = metadata.row_group(group).column(column).statistics
        if statistics is not None and statistics.has_min_max:
            low[group], high[group] = int(statistics.min), int(statistics.max)
    group_rows = np.array([metadata.row_group(group).num_rows for group in range(groups)], dtype=np.int64)
    return _Footer(stamp, metadata, low, high, group_rows)


_footers = _FooterCache(_FOOTER_CACHE_FILES)


def _open(path: Path, footer: _Footer) -> pq.ParquetFile:
    # No pre-buffering: a request reads a few small groups, and it cost more than it saved (24
    # groups of two columns: 10.3 ms with it, 6.3 ms without).
    return pq.ParquetFile(path, metadata=footer.metadata, pre_buffer=False)


def _read_groups(file: pq.ParquetFile, groups: Sequence[int], columns: Sequence[str]) -> pa.Table:
    # One thread: a thread pool per small read cost more than it saved.
    return file.read_row_groups(list(groups), columns=list(dict.fromkeys(columns)), use_threads=False)


class KeyedRows:
    """What ``Lake.rows_of_keys`` found: ``table`` (None when no row) and where each of its rows
    lies, so that ``fetch`` reads further columns of the rows chosen, from their groups only. The
    files stay open while this lives, so both reads see the same files."""

    def __init__(self, table: pa.Table | None, files: list[pq.ParquetFile], places: np.ndarray) -> None:
        self.table = table
        self._files = files
        self._places = places  # per row of ``table``: file index, row group, row within the group

    @property
    def num_rows(self) -> int:
        return 0 if self.table is None else int(self.table.num_rows)

    def fetch(self, rows: Sequence[int], columns: Sequence[str]) -> list[dict[str, Any]]:
        """``columns`` of the rows at positions ``rows`` of ``table``, in that order, as dicts."""
        chosen = self._places[np.asarray(rows, dtype=np.int64)]
        found: dict[int, dict[str, Any]] = {}
        for file_index, group in sorted({(int(f), int(g)) for f, g, _ in chosen.tolist()}):
            in_group = np.flatnonzero((chosen[:, 0] == file_index) & (chosen[:, 1] == group))
            file = self._files[file_index]
            # A file written before a column existed has none: its rows read as null there, as
            # DuckDB's union by name gave them.
            present = [name for name in columns if name in file.schema_arrow.names]
            read = _read_groups(file, [group], present)
            taken = read.take(pa.array(chosen[in_group, 2])).to_pylist()
            found.update(
                (position, {name: row.get(name) for name in columns})
                for position, row in zip(in_group.tolist(), taken, strict=True)
            )
        return [found[position] for position in range(len(chosen))]


def money_from_cents(cents: Any) -> pa.Array:
    """An exact DECIMAL(20, 2) column from integer fen/cents (any integer sequence or array).

    Money is generated and summed as integers and turned into decimals in one vectorised step,
    never through binary floating point.
    """
    whole = pa.array(cents, pa.int64()).cast(pa.decimal128(19, 0))
    return pc.multiply(whole, pa.scalar(Decimal("0.01"), pa.decimal128(2, 2))).cast(pa.decimal128(20, 2))
