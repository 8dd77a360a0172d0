"""One database session and one transaction per HTTP request.

The transaction commits before the response starts (so a client never sees success for a change
that failed to commit) and rolls back on any 4xx/5xx or exception. Work that must be kept even
when the request fails, such as the audit row of a permission denial, is queued with
``after_request`` and written in its own transaction once the main one has ended.
"""

from __future__ import annotations

from collections.abc import Callable

from anyio import to_thread
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bankcrm.core.db import Database, end_unchanged, ends_locally
from bankcrm.core.logging import get_logger

IndependentWrite = Callable[[Session], None]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
log = get_logger(__name__)


class RequestTransaction:
    """Lazily opens the session; remembers independent writes for after the main transaction."""

    def __init__(self, database: Database, *, write: bool) -> None:
        self._database = database
        self._write = write
        self._session: Session | None = None
        self.independent_writes: list[IndependentWrite] = []

    @property
    def session(self) -> Session:
        if self._session is None:
            factory = self._database.write_sessions if self._write else self._database.read_sessions
            self._session = factory()
        return self._session

    @property
    def opened(self) -> bool:
        return self._session is not None

    @property
    def ends_locally(self) -> bool:
        return self._session is None or ends_locally(self._session)

    def finish(self, *, success: bool) -> None:
        if self._session is None:
            return
        try:
            if success:
                self._session.commit()
            else:
                self._session.rollback()
        finally:
            self._session.close()
            self._session = None

    def end_unchanged(self, *, success: bool) -> None:
        """End a transaction that changed nothing (``ends_locally``); see ``core.db.end_unchanged``."""
        if self._session is None:
            return
        try:
            end_unchanged(self._session, succeeded=success)
        finally:
            self._session = None

    def run_independent_writes(self) -> None:
        for write in self.independent_writes:
            try:
                with self._database.transaction(write=True) as session:
                    write(session)
            except Exception:  # a failed side record must not hide the request's own outcome
                log.exception("request.independent_write_failed")
        self.independent_writes.clear()


def request_transaction(request: Request) -> RequestTransaction:
    transaction: RequestTransaction = request.state.transaction
    return transaction


async def db_session(request: Request) -> Session:
    """FastAPI dependency: the request's session (services flush, the middleware commits).

    Async because it does no I/O (the session connects at its first query): FastAPI runs a sync
    dependency in the thread pool, a hop that costs about as much as a small query.
    """
    return request_transaction(request).session


def after_request(request: Request, write: IndependentWrite) -> None:
    request_transaction(request).independent_writes.append(write)


class TransactionMiddleware:
    def __init__(self, app: ASGIApp, *, database_getter: Callable[[], Database]) -> None:
        self.app = app
        self._database_getter = database_getter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        transaction = RequestTransaction(self._database_getter(), write=scope["method"] not in SAFE_METHODS)
        scope.setdefault("state", {})["transaction"] = transaction
        finished = False

        async def finish(success: bool) -> None:
            nonlocal finished
            if not finished:
                finished = True
                if not transaction.opened:
                    return  # nothing to end when no query ran
                if transaction.ends_locally:
                    transaction.end_unchanged(success=success)  # a reader on SQLite: no I/O, no thread hop
                else:
                    await to_thread.run_sync(lambda: transaction.finish(success=success))

        async def send_after_commit(message: Message) -> None:
            if message["type"] == "http.response.start":
                status: int = message["status"]
                # Raising here, before anything is sent, lets the outer error handler answer 500.
                await finish(status < 400)
            await send(message)

        try:
            await self.app(scope, receive, send_after_commit)
        except BaseException:
            await finish(False)
            raise
        finally:
            await finish(False)  # no response started (e.g. client gone): never leave work half-done
            if transaction.independent_writes:
                await to_thread.run_sync(transaction.run_independent_writes)
