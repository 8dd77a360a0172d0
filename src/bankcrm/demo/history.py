"""The synthetic bank's history in the lake: about a hundred transactions per customer over 24 months
and twelve month-end balances, written by a second process while the first loads the customers.

The customers go into the operational store in batches (``bank.generate_bank``); each batch's ids
and wealth are handed to a worker process, which generates that batch's transactions column-wise
with NumPy and Arrow and appends them to one Parquet file per month and bucket. Customer ids grow
from batch to batch, so appending keeps every file sorted by customer and time. The machine's
second core does this work instead of waiting for the customers to be loaded.

Deterministic for a seed: the worker's one random generator sees the same batches in the same order.
"""

from __future__ import annotations

import multiprocessing
import queue
import traceback
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bankcrm.core.lake import Lake, money_from_cents
from bankcrm.customers import lake_repository

# Spending kinds by index; salaries are the last ("salary", 工资代发) and always come online.
CATEGORIES = pa.array(
    ["groceries", "dining", "transport", "shopping", "utilities", "health", "transfer", "salary"]
)
LABELS = pa.array(["超市", "餐饮", "交通出行", "网购", "水电燃气", "医疗", "转账", "工资代发"])
SALARY = len(CATEGORIES) - 1
ONLINE = 2
CHANNELS = pa.array(["mobile", "pos", "online", "counter", "atm"])
HISTORY_MONTHS = 24
BALANCE_MONTHS = 12
# Batches waiting for the worker: enough to keep it busy, few enough to bound the memory they hold.
WAITING_BATCHES = 2


@dataclass(frozen=True)
class HistoryPlan:
    """What the worker needs to know, sent to it once (it shares nothing else with the loader)."""

    lake_root: Path
    seed_value: int
    today: date

    @property
    def batch_key(self) -> str:
        return f"gen-{self.seed_value}"


def _payday(start: datetime, month: int) -> datetime:
    """The salary time (the 10th, 01:00 UTC) of the ``month``-th month from ``start``'s."""
    months = start.month - 1 + month
    return datetime(start.year + months // 12, months % 12 + 1, 10, 1, tzinfo=UTC)


@dataclass(frozen=True)
class _Window:
    """The 730 days of history ending today, and when in them the monthly salaries are paid."""

    start: datetime
    end: datetime
    salary_seconds: np.ndarray = field(repr=False)

    @classmethod
    def ending(cls, today: date) -> _Window:
        end = datetime(today.year, today.month, today.day, tzinfo=UTC)
        start = end - timedelta(days=730)
        # Every 10th inside the window: the month the window starts in only when its 10th is still
        # ahead, and this month's once it has passed (a rule such as "salary in each of the last
        # three months" must find the salaried customers on any day).
        candidates = [_payday(start, m) for m in range(HISTORY_MONTHS + 1)]
        paydays = [payday for payday in candidates if start <= payday < end][:HISTORY_MONTHS]
        seconds = np.array([(payday - start).total_seconds() for payday in paydays], dtype=np.int64)
        return cls(start=start, end=end, salary_seconds=seconds)

    @property
    def span_seconds(self) -> int:
        return int((self.end - self.start).total_seconds())


def batch_transactions(
    generator: np.random.Generator, members: np.ndarray, window: _Window, *, prefix: str, first_serial: int
) -> pa.Table:
    """Salaries on the 10th and about three card or transfer spends a month per customer, some
    dormant; in the lake's order (bucket, month, customer, time), numbered from ``first_serial``."""
    counts = generator.poisson(76, size=len(members))
    dormant = generator.random(len(members)) < 0.06
    counts[dormant] = generator.integers(0, 10, size=int(dormant.sum()))
    spender = np.repeat(members, counts)
    seconds = generator.integers(0, window.span_seconds, size=len(spender))
    amounts = np.maximum(1, np.round(generator.lognormal(4.6, 1.1, size=len(spender)) * 100)).astype(np.int64)
    category = generator.integers(0, SALARY, size=len(spender))
    salaried = members[generator.random(len(members)) < 0.8]
    salary_customer = np.repeat(salaried, len(window.salary_seconds))
    salary_seconds = np.tile(window.salary_seconds, len(salaried))
    salary_amount = np.repeat(
        np.round(generator.lognormal(9.1, 0.5, size=len(salaried)) * 100), len(window.salary_seconds)
    ).astype(np.int64)
    customer = np.concatenate([spender, salary_customer])
    at = np.concatenate([seconds, salary_seconds])
    is_salary = np.concatenate([np.zeros(len(spender), bool), np.ones(len(salary_customer), bool)])
    channel = generator.integers(0, len(CHANNELS), size=len(customer))
    booked = np.datetime64(window.start.replace(tzinfo=None), "us") + at.astype("timedelta64[s]")
    booked_at = pa.array(booked, pa.timestamp("us", tz="UTC"))
    # In the order of the lake's files (bucket, month, customer, time), so the appender splits the
    # run into its files without sorting and copying it again.
    month = lake_repository.business_month_numbers(booked_at)
    order = np.lexsort((at, customer, month, customer % lake_repository.BUCKETS))
    customer, is_salary = customer[order], is_salary[order]
    booked_at = booked_at.take(pa.array(order))
    amount = np.concatenate([amounts, salary_amount])[order]
    kind = np.concatenate([category, np.full(len(salary_customer), SALARY)])[order]
    channel = np.where(is_salary, ONLINE, channel[order])
    return pa.table(
        {
            "txn_id": _transaction_ids(prefix, first_serial, customer),
            "customer_id": pa.array(customer, pa.int64()),
            "account_no": _account_numbers(customer),
            "booked_at": booked_at,
            "direction": pc.take(pa.array(["out", "in"]), pa.array(is_salary.astype(np.int8))),
            "amount": money_from_cents(amount),
            "currency": pa.repeat(pa.scalar("CNY"), len(customer)),
            "category": pc.take(CATEGORIES, pa.array(kind)),
            "channel": pc.take(CHANNELS, pa.array(channel)),
            "counterparty": pc.take(LABELS, pa.array(kind)),
            "description": pa.nulls(len(customer), pa.string()),
        }
    )


def _transaction_ids(prefix: str, first_serial: int, customer: np.ndarray) -> pa.Array:
    """``<prefix>-<serial>-<customer id>``, built with Arrow's string kernels (NumPy's were a third
    of the generation's transaction time)."""
    serial = pa.array(np.arange(first_serial, first_serial + len(customer))).cast(pa.string())
    return pc.binary_join_element_wise(prefix, serial, pa.array(customer).cast(pa.string()), "-")


def _account_numbers(customer: np.ndarray) -> pa.Array:
    """A card number per customer (6222 and the id, zero-padded to 12 digits)."""
    padded = pc.utf8_lpad(pa.array(customer).cast(pa.string()), width=12, padding="0")
    return pc.binary_join_element_wise("6222", padded, "")


class BatchHistory:
    """The worker's state: the transactions appended so far, and every customer's wealth for the
    balances written at the end. Usable in-process too (the tests do)."""

    def __init__(self, plan: HistoryPlan) -> None:
        self._plan = plan
        self._lake = Lake(plan.lake_root)
        self._generator = np.random.default_rng(plan.seed_value)
        self._window = _Window.ending(plan.today)
        self._prefix = f"G{plan.seed_value % 1000:03d}"
        self._transactions = lake_repository.TransactionAppender(self._lake, batch_key=plan.batch_key)
        self._ids: list[np.ndarray] = []
        self._wealth: list[np.ndarray] = []

    def add(self, ids: np.ndarray, wealth: np.ndarray) -> None:
        if len(ids) == 0:
            return
        table = batch_transactions(
            self._generator, ids, self._window, prefix=self._prefix, first_serial=self._transactions.rows
        )
        self._transactions.append(table)
        self._ids.append(ids)
        self._wealth.append(wealth)

    def finish(self) -> int:
        """Put the transaction files in place and write the balances; returns the transactions."""
        total = self._transactions.close()
        if self._ids:
            self._write_balances(np.concatenate(self._ids), np.concatenate(self._wealth))
        return total

    def abort(self) -> None:
        self._transactions.abort()

    def _write_balances(self, ids: np.ndarray, wealth: np.ndarray) -> None:
        """Month-end deposit balances for the last twelve months, drifting back from today's wealth."""
        today = self._plan.today
        drift = np.cumprod(self._generator.uniform(0.93, 1.06, size=(BALANCE_MONTHS, len(ids))), axis=0)
        for back in range(BALANCE_MONTHS):
            month_number = (today.year - 1970) * 12 + today.month - 1 - back
            balances = np.round(wealth / drift[back] * 100).astype(np.int64)
            table = pa.table(
                {
                    "customer_id": pa.array(ids, pa.int64()),
                    "category": pa.repeat(pa.scalar("deposit"), len(ids)),
                    "balance": money_from_cents(balances),
                }
            )
            month = lake_repository.month_label(month_number)
            lake_repository.write_balances(self._lake, month, table, batch_key=self._plan.batch_key)


def _work(plan: HistoryPlan, tasks: Any, results: Any) -> None:
    """The worker process: batches until told to finish (or to give up), then one result."""
    history: BatchHistory | None = None
    try:
        history = BatchHistory(plan)
        while True:
            message = tasks.get()
            if message[0] == "batch":
                history.add(message[1], message[2])
            elif message[0] == "finish":
                results.put(("done", history.finish()))
                return
            else:
                history.abort()
                return
    except BaseException:
        if history is not None:
            history.abort()
        results.put(("failed", traceback.format_exc()))


class HistoryFailed(RuntimeError):
    pass


class InlineHistoryWriter:
    """``HistoryWriter``'s interface without a second process, for a bank loaded in one batch:
    nothing loads while its history is written, and starting a worker took one to three seconds
    (most of ``demo load`` for a few dozen customers). The same ``BatchHistory`` writes the same files.
    """

    def __init__(self, plan: HistoryPlan) -> None:
        self._history = BatchHistory(plan)
        self._finished = False

    def __enter__(self) -> InlineHistoryWriter:
        return self

    def add(self, ids: list[int], wealth: list[float]) -> None:
        self._history.add(np.array(ids, dtype=np.int64), np.array(wealth, dtype=np.float64))

    def finish(self) -> int:
        self._finished = True
        return self._history.finish()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if not self._finished:  # left early: nothing is put in place
            self._history.abort()


class HistoryWriter:
    """The loader's side: starts the worker, hands it each loaded batch, collects the total.

    Used as a context manager; leaving it by an exception tells the worker to drop its files.
    The worker is started with ``spawn``: it inherits no database connection or thread.
    """

    def __init__(self, plan: HistoryPlan) -> None:
        context = multiprocessing.get_context("spawn")
        self._tasks = context.Queue(maxsize=WAITING_BATCHES)
        self._results = context.Queue()
        self._process: BaseProcess = context.Process(
            target=_work, args=(plan, self._tasks, self._results), name="bankcrm-history", daemon=True
        )

    def __enter__(self) -> HistoryWriter:
        self._process.start()
        return self

    def add(self, ids: list[int], wealth: list[float]) -> None:
        self._send(("batch", np.array(ids, dtype=np.int64), np.array(wealth, dtype=np.float64)))

    def finish(self) -> int:
        """Wait for the worker to write everything; returns the transactions written."""
        self._send(("finish",))
        while True:
            try:
                status, value = self._results.get(timeout=1)
            except queue.Empty:
                if not self._process.is_alive():
                    raise self._died() from None
                continue
            self._process.join()
            if status != "done":
                raise HistoryFailed(f"the history worker failed:\n{value}")
            return int(value)

    def _send(self, message: tuple[Any, ...]) -> None:
        while True:
            try:
                self._tasks.put(message, timeout=1)
                return
            except queue.Full:
                self._raise_if_gone()

    def _raise_if_gone(self) -> None:
        if self._process.is_alive():
            return
        try:
            status, value = self._results.get(timeout=1)
        except queue.Empty:
            raise self._died() from None
        self._tasks.cancel_join_thread()
        raise HistoryFailed(f"the history worker stopped ({status}):\n{value}")

    def _died(self) -> HistoryFailed:
        # Nobody will read what is still queued; without this the loader would hang on exit
        # flushing it into the pipe.
        self._tasks.cancel_join_thread()
        return HistoryFailed(f"the history worker died (exit code {self._process.exitcode})")

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._process.is_alive():  # left early: the worker drops what it has not put in place
            self._abort()

    def _abort(self) -> None:
        try:
            self._tasks.put(("abort",), timeout=10)
            self._process.join(timeout=60)
        except queue.Full:
            pass
        if self._process.is_alive():
            self._tasks.cancel_join_thread()
            self._process.terminate()  # our own worker, stuck: its temporary files stay hidden
            self._process.join()


def writer_for(plan: HistoryPlan, *, batches: int) -> HistoryWriter | InlineHistoryWriter:
    """A worker process when there is loading to overlap with (more than one batch), else in-process."""
    return HistoryWriter(plan) if batches > 1 else InlineHistoryWriter(plan)
