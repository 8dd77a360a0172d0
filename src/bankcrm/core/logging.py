"""Structured logs: key=value or JSON lines that carry ids, never personal data or secrets."""

from __future__ import annotations

import logging
import sys

import structlog


def configure_logging(level: str = "INFO", *, json: bool = False) -> None:
    # Tracebacks are rendered plainly: the console renderer's default (rich, with local variables)
    # would copy passwords, tokens and personal data from the failing frames into the log.
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if json
        # Plain tracebacks: rich's pretty ones print every local variable, which is slow and may leak data.
        else structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)
    )
    logging.basicConfig(format="%(message)s", stream=sys.stderr, level=level)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            *([structlog.processors.format_exc_info] if json else []),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level]),
        cache_logger_on_first_use=True,
    )
    _keep_queries_out_of_the_access_log()


class PathWithoutQuery(logging.Filter):
    """Cut the query string from the server's access lines.

    A search travels in the query (``/customers?q=13812345678``) and may be a name, a mobile or an
    ID number; the access log keeps the path, method and status, which is what operations need.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        # uvicorn's access record: (client, method, path with query, HTTP version, status).
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def _keep_queries_out_of_the_access_log() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, PathWithoutQuery) for f in access.filters):
        access.addFilter(PathWithoutQuery())


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)  # type: ignore[no-any-return]
