"""Customer history in the Parquet lake: transactions and month-end balances (DuckDB queries).

Layout (see core.lake): ``transactions/month=YYYY-MM/bucket=NN/<batch>.parquet`` with rows sorted
by customer and time inside each file, so a customer's history is read from one bucket per month
and DuckDB skips row groups by their customer-id statistics; ``balances/month=YYYY-MM/<batch>.parquet``
holds month-end balances per customer and product category.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bankcrm.core.formatting import BUSINESS_TZ
from bankcrm.core.lake import Lake, PartitionAppender

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


def _where(query: TransactionQuery) -> tuple[str, list[Any]]:
    ids = list(query.customer_ids)
    buckets = sorted({bucket_of(i) for i in ids})
    clauses = [
        f"bucket IN ({', '.join('?' * len(buckets))})",
        f"customer_id IN ({', '.join('?' * len(ids))})",
    ]
    params: list[Any] = [*buckets, *ids]
    if query.date_from:
        clauses.append("month >= ?")
        params.append(query.date_from.strftime("%Y-%m"))
        clauses.append("booked_at >= ?")
        params.append(datetime.combine(query.date_from, time.min, BUSINESS_TZ))
    if query.date_to:
        clauses.append("month <= ?")
        params.append(query.date_to.strftime("%Y-%m"))
        clauses.append("booked_at < ?")  # business dates end at midnight Beijing time
        params.append(datetime.combine(query.date_to + timedelta(days=1), time.min, BUSINESS_TZ))
    for column, value, op in (
        ("amount", query.min_amount, ">="),
        ("amount", query.max_amount, "<="),
        ("direction", query.direction, "="),
        ("category", query.category, "="),
        ("channel", query.channel, "="),
    ):
        if value is not None:
            clauses.append(f"{column} {op} ?")
            params.append(value)
    return " AND ".join(clauses), params


def transactions(
    lake: Lake, query: TransactionQuery, *, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """A page of transactions, newest first, and the total count (one query, one bucket per customer)."""
    if not query.customer_ids or not lake.has_dataset(TRANSACTIONS):
        return [], 0
    where, params = _where(query)
    buckets = sorted({bucket_of(i) for i in query.customer_ids})
    partitions = f"month=*/bucket={buckets[0]}" if len(buckets) == 1 else None
    if partitions and not lake.has_files(TRANSACTIONS, partitions=partitions):
        return [], 0  # no history was ever loaded for this customer's bucket
    source = lake.scan_expression(TRANSACTIONS, partitions=partitions)
    columns = (
        "txn_id",
        "customer_id",
        "account_no",
        "booked_at",
        "direction",
        "amount",
        "currency",
        "category",
        "channel",
        "counterparty",
        "description",
    )
    with lake.cursor() as duck:
        rows = duck.execute(
            # Only placeholders and our own column names go into the text; values are parameters.
            f"SELECT {', '.join(columns)}, count(*) OVER () AS total FROM {source} WHERE {where} "  # noqa: S608
            "ORDER BY booked_at DESC, txn_id DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        ).fetchall()
        if not rows and offset:
            counted = duck.execute(f"SELECT count(*) FROM {source} WHERE {where}", params).fetchone()  # noqa: S608
            return [], int(counted[0] if counted else 0)
    total = int(rows[0][-1]) if rows else 0
    return [dict(zip(columns, row[:-1], strict=True)) for row in rows], total


def monthly_balances(lake: Lake, customer_id: int, *, since_month: str) -> list[tuple[str, str, Decimal]]:
    """(month, category, month-end balance) rows from ``since_month`` on."""
    if not lake.has_dataset(BALANCES):
        return []
    source = lake.scan_expression(BALANCES)
    with lake.cursor() as duck:
        rows = duck.execute(
            f"SELECT month, category, sum(balance) FROM {source} WHERE customer_id = ? AND month >= ? "  # noqa: S608
            "GROUP BY month, category ORDER BY month",
            [customer_id, since_month],
        ).fetchall()
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
