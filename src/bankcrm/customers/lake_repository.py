"""Customer history in the Parquet lake: transactions and month-end balances (DuckDB queries).

Layout (see core.lake): ``transactions/month=YYYY-MM/bucket=NN/<batch>.parquet`` with rows sorted
by customer and time inside each file, so a customer's history is read from one bucket per month
and DuckDB skips row groups by their customer-id statistics; ``balances/month=YYYY-MM/<batch>.parquet``
holds month-end balances per customer and product category.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bankcrm.core.formatting import BUSINESS_TZ
from bankcrm.core.lake import KeyedRows, Lake, PartitionAppender

TRANSACTIONS = "transactions"
BALANCES = "balances"
BUCKETS = 32


def bucket_of(customer_id: int) -> int:
    return customer_id % BUCKETS


@dataclass(frozen=True)
class TransactionQuery:
    customer_ids: tuple[int, ...]
    date_from: date | None = None
    date_to: date | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    direction: str | None = None
    category: str | None = None
    channel: str | None = None


def _filter(query: TransactionQuery) -> tuple[pc.Expression | None, tuple[str, ...]]:
    """The query's conditions beyond the customer as one Arrow expression, and the columns it reads."""
    conditions: list[tuple[str, pc.Expression]] = []
    if query.date_from:
        since = datetime.combine(query.date_from, time.min, BUSINESS_TZ)
        conditions.append(("booked_at", pc.field("booked_at") >= pa.scalar(since, _UTC_MICROS)))
    if query.date_to:
        # Business dates end at midnight Beijing time.
        until = datetime.combine(query.date_to + timedelta(days=1), time.min, BUSINESS_TZ)
        conditions.append(("booked_at", pc.field("booked_at") < pa.scalar(until, _UTC_MICROS)))
    if query.min_amount is not None:
        conditions.append(("amount", pc.field("amount") >= pa.scalar(query.min_amount)))
    if query.max_amount is not None:
        conditions.append(("amount", pc.field("amount") <= pa.scalar(query.max_amount)))
    for column in ("direction", "category", "channel"):
        value = getattr(query, column)
        if value is not None:
            conditions.append((column, pc.field(column) == pa.scalar(value, pa.string())))
    if not conditions:
        return None, ()
    combined = conditions[0][1]
    for _, condition in conditions[1:]:
        combined = combined & condition
    return combined, tuple(dict.fromkeys(column for column, _ in conditions))


_UTC_MICROS = pa.timestamp("us", tz="UTC")


def _months_kept(query: TransactionQuery) -> Callable[[Mapping[str, str]], bool] | None:
    """Which monthly folders can hold rows of the query's dates."""
    since = query.date_from.strftime("%Y-%m") if query.date_from else None
    until = query.date_to.strftime("%Y-%m") if query.date_to else None
    if since is None and until is None:
        return None

    def keep(partition: Mapping[str, str]) -> bool:
        month = partition["month"]
        return (since is None or month >= since) and (until is None or month <= until)

    return keep


def transactions(
    lake: Lake, query: TransactionQuery, *, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """A page of transactions, newest first (ties by id, descending), and the total count.

    Only the booking times (and any filtered column) of the customer's rows are read from the
    bucket's monthly files, to filter, count and find the page; whole rows are then read only for
    the page and the rows that share its first or last booking time, which decide the order of ties.
    """
    if not query.customer_ids or not lake.has_dataset(TRANSACTIONS):
        return [], 0
    condition, filter_columns = _filter(query)
    buckets = sorted({bucket_of(i) for i in query.customer_ids})
    found = lake.rows_of_keys(
        TRANSACTIONS,
        key="customer_id",
        values=query.customer_ids,
        columns=("booked_at", *filter_columns),
        partitions=[f"month=*/bucket={bucket}" for bucket in buckets],
        keep=_months_kept(query),
    )
    if found.table is None:
        return [], 0
    table = found.table.append_column("position", pa.array(np.arange(found.num_rows)))
    if condition is not None:
        table = table.filter(condition)
    total = int(table.num_rows)
    by_time = table.sort_by([("booked_at", "descending")]).slice(offset, limit)
    if by_time.num_rows == 0:
        return [], total
    return _page_in_exact_order(found, table, by_time, offset=offset, limit=limit), total


def _page_in_exact_order(
    found: KeyedRows, matching: pa.Table, by_time: pa.Table, *, offset: int, limit: int
) -> list[dict[str, Any]]:
    """The rows of positions ``offset``… in (booked_at, txn_id) descending order, given the page as
    ordered by time alone: rows outside it may share its edge times and outrank its rows by id."""
    newest, oldest = by_time["booked_at"][0], by_time["booked_at"][-1]
    times = matching["booked_at"]
    before = int(pc.sum(pc.greater(times, newest)).as_py() or 0)  # rows certainly ahead of the page
    candidates = matching.filter(pc.and_(pc.less_equal(times, newest), pc.greater_equal(times, oldest)))
    rows = found.fetch(candidates["position"].to_pylist(), TRANSACTION_COLUMNS)
    rows.sort(key=lambda row: (row["booked_at"], row["txn_id"]), reverse=True)
    return rows[offset - before : offset - before + limit]


def monthly_balances(lake: Lake, customer_id: int, *, since_month: str) -> list[tuple[str, str, Decimal]]:
    """(month, category, month-end balance) rows from ``since_month`` on."""
    if not lake.has_dataset(BALANCES):
        return []
    found = lake.rows_of_keys(
        BALANCES,
        key="customer_id",
        values=[customer_id],
        columns=("category", "balance"),
        partitions=["month=*"],
        keep=lambda partition: partition["month"] >= since_month,
    )
    if found.table is None:
        return []
    sums = found.table.group_by(["month", "category"], use_threads=False).aggregate([("balance", "sum")])
    rows = sorted(
        zip(
            sums["month"].to_pylist(),
            sums["category"].to_pylist(),
            sums["balance_sum"].to_pylist(),
            strict=True,
        ),
        key=lambda row: (row[0], row[1]),
    )
    return [(str(month), str(category), Decimal(str(balance))) for month, category, balance in rows]


TRANSACTION_SCHEMA = pa.schema(
    [
        ("txn_id", pa.string()),
        ("customer_id", pa.int64()),
        ("account_no", pa.string()),
        ("booked_at", pa.timestamp("us", tz="UTC")),
        ("direction", pa.string()),
        ("amount", pa.decimal128(20, 2)),
        ("currency", pa.string()),
        ("category", pa.string()),
        ("channel", pa.string()),
        ("counterparty", pa.string()),
        ("description", pa.string()),
    ]
)
TRANSACTION_COLUMNS = tuple(TRANSACTION_SCHEMA.names)
BALANCE_SCHEMA = pa.schema(
    [("customer_id", pa.int64()), ("category", pa.string()), ("balance", pa.decimal128(20, 2))]
)


def business_months(booked_at: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """The business month (Beijing time) of each booking time, as the lake partitions them."""
    earliest = pc.min(booked_at.cast(pa.timestamp("us"))).as_py()
    if earliest is not None and np.datetime64(earliest, "us") < _FIXED_OFFSET_SINCE:
        return pc.strftime(booked_at.cast(pa.timestamp("us", tz="Asia/Shanghai")), format="%Y-%m")
    # Formatting with a time zone costs about a microsecond a row: months as numbers, and text
    # only for the few distinct ones, are a tenth of that.
    numbers = business_month_numbers(booked_at)
    distinct = np.unique(numbers)
    labels = pa.array([month_label(int(number)) for number in distinct], pa.string())
    return pc.take(labels, pa.array(np.searchsorted(distinct, numbers)))


def loaded_transaction_ids(
    lake: Lake, txn_ids: pa.Array | list[str], months: set[str], *, except_delivery: str
) -> set[str]:
    """Which of ``txn_ids`` the lake already holds in those months, from files other than those of
    the delivery ``except_delivery`` (named ``<key>.parquet`` or ``<key>-<batch>.parquet``): a
    re-run of a killed delivery replaces its own files, so they do not count.

    Reads only the txn_id column of the months concerned; a daily delivery touches one or two.
    """
    folder = lake.dataset_dir(TRANSACTIONS)
    files = [
        path.as_posix()
        for month in sorted(months)
        for path in sorted((folder / f"month={month}").glob("*/*.parquet"))
        if not _of_delivery(path.name, except_delivery)
    ]
    if not len(txn_ids) or not files:
        return set()
    ids = txn_ids if isinstance(txn_ids, pa.Array) else pa.array(txn_ids, pa.string())
    incoming = pa.table({"txn_id": ids})
    cursor = lake.cursor()
    try:
        cursor.register("incoming", incoming)
        found = cursor.execute(
            "SELECT DISTINCT l.txn_id FROM read_parquet(?) AS l JOIN incoming AS i ON i.txn_id = l.txn_id",
            [files],
        ).fetchall()
    finally:
        cursor.close()
    return {str(row[0]) for row in found}


def remove_delivery(lake: Lake, key: str) -> int:
    """Delete the transaction files of one delivery (what a killed load left behind)."""
    return lake.remove_file_key_and_parts(TRANSACTIONS, key)


def _of_delivery(file_name: str, key: str) -> bool:
    return file_name == f"{key}.parquet" or (
        file_name.startswith(f"{key}-") and file_name.endswith(".parquet")
    )


def write_transactions(lake: Lake, table: pa.Table, *, batch_key: str, workers: int = 1) -> int:
    """Add a batch of transactions: partitioned by month and customer bucket, sorted for fast lookups.

    Writing the same ``batch_key`` again replaces that batch's files, so a re-run is exactly-once.
    """
    table = table.cast(TRANSACTION_SCHEMA)
    # Months are business months (Beijing time), the same as the filters that prune by them.
    months = business_months(table["booked_at"])
    buckets = pc.cast(pc.bit_wise_and(table["customer_id"], BUCKETS - 1), pa.int32())
    enriched = table.append_column("month", months).append_column("bucket", buckets)
    # Sorted by partition first, so the partitioned write finds its rows in order (one reordering
    # of the table instead of two).
    enriched = enriched.sort_by(
        [
            ("month", "ascending"),
            ("bucket", "ascending"),
            ("customer_id", "ascending"),
            ("booked_at", "ascending"),
        ]
    )
    lake.write_partitioned(
        TRANSACTIONS, enriched, partition_columns=["month", "bucket"], file_key=batch_key, workers=workers
    )
    return int(table.num_rows)


# China has kept UTC+8 without daylight saving since 1991; from then on a business month is the
# UTC time plus eight hours, computed on integers instead of through a time-zone conversion.
_FIXED_OFFSET_SINCE = np.datetime64("1992-01-01T00:00:00", "us")
_BEIJING_OFFSET = np.timedelta64(8, "h")


def business_month_numbers(booked_at: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """The business month of each booking time as months since 1970-01 (``month_label`` names them)."""
    times = booked_at.cast(pa.timestamp("us")).to_numpy().astype("datetime64[us]")
    if len(times) and times.min() < _FIXED_OFFSET_SINCE:
        labels = business_months(booked_at).to_numpy(zero_copy_only=False)
        return np.array([(int(label[:4]) - 1970) * 12 + int(label[5:]) - 1 for label in labels])
    numbers: np.ndarray = (times + _BEIJING_OFFSET).astype("datetime64[M]").astype(np.int64)
    return numbers


def month_label(month_number: int) -> str:
    return f"{1970 + month_number // 12:04d}-{month_number % 12 + 1:02d}"


def _in_order(*keys: np.ndarray) -> bool:
    """Whether the rows are sorted by ``keys`` (the first the most significant). A run generated
    in file order is then split without sorting and copying it (which cost a third as much as
    writing it)."""
    if len(keys[0]) < 2:
        return True
    tied = np.ones(len(keys[0]) - 1, dtype=bool)  # rows whose earlier keys equal the next row's
    for key in keys:
        step = np.diff(key)
        if np.any(tied & (step < 0)):
            return False
        tied &= step == 0
    return True


class TransactionAppender:
    """Transactions written run by run, by a job that produces them in runs of growing customer ids
    (the synthetic bank, batch by batch), into one file per month and bucket under ``batch_key``.

    The files come out as ``write_transactions`` leaves them, sorted by customer and time, but a
    million customers' history never has to be in memory at once, and a bucket's month is one file
    instead of one per batch, so the 360° page reads as few footers as ever.
    """

    def __init__(self, lake: Lake, *, batch_key: str) -> None:
        self._files = PartitionAppender(lake, TRANSACTIONS, file_key=batch_key, schema=TRANSACTION_SCHEMA)
        self._last_customer = -1
        self.rows = 0

    def append(self, table: pa.Table) -> int:
        """Add a run of transactions whose customer ids are all above those of earlier runs."""
        table = table.cast(TRANSACTION_SCHEMA)
        if table.num_rows == 0:
            return 0
        customers = table["customer_id"].to_numpy()
        if int(customers.min()) <= self._last_customer:
            raise ValueError("each run of transactions must follow the customers of the one before")
        months = business_month_numbers(table["booked_at"])
        buckets = customers & (BUCKETS - 1)
        booked = table["booked_at"].cast(pa.int64()).to_numpy()
        partition = buckets * 1_000_000 + months
        if not _in_order(partition, customers, booked):
            order = np.lexsort((booked, customers, partition))
            table, partition = table.take(pa.array(order)), partition[order]
            months, buckets = months[order], buckets[order]
        starts = np.flatnonzero(np.diff(partition, prepend=-1))
        ends = [*starts[1:].tolist(), len(partition)]
        for start, end in zip(starts.tolist(), ends, strict=True):
            where = {"month": month_label(int(months[start])), "bucket": str(int(buckets[start]))}
            self._files.append(where, table.slice(start, end - start))
        self._last_customer = int(customers.max())
        self.rows += table.num_rows
        return int(table.num_rows)

    def close(self) -> int:
        """Put every file in place; returns the rows written."""
        self._files.close()
        return self.rows

    def abort(self) -> None:
        self._files.abort()


def write_balances(lake: Lake, month: str, table: pa.Table, *, batch_key: str) -> int:
    """Month-end balances per customer and category for one month."""
    table = table.cast(BALANCE_SCHEMA).sort_by([("customer_id", "ascending")])
    lake.write_file(BALANCES, table, file_key=batch_key, partition={"month": month})
    return int(table.num_rows)
