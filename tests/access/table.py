"""The access matrix as data: one table per route, one row per target, one column per principal.

A table is written as aligned text so that a reviewer reads it like the matrix in a design
document::

    target          anon adm exe bm  sbm ...
    user:rm.zhang   401  200 200 200 200 ...

Each cell is the answer that principal must get for that target:

* a status code (``200``, ``201``, ``401``, ``403``, ``404``, ``422`` ...), compared exactly;
* ``303`` - a redirect that is *not* the sign-in redirect (post/redirect/get after success);
* ``lgn`` - the sign-in redirect of the HTML pages (303 to ``/login?next=...``).

Visibility tables say whether a list shows an object to a principal: ``yes``, ``no``, or ``-``
when the list itself is closed to that principal.

The expectations come from the rules in ARCHITECTURE.md and DOMAIN.md (data scopes, out of scope =
404) and the documented role defaults; they are written out by hand, never computed from the code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.access.principals import COLUMNS

SIGN_IN_REDIRECT = "lgn"
OTHER_REDIRECT = "303"
VISIBLE, HIDDEN, CLOSED = "yes", "no", "-"

# What a table cell may say: statuses the application uses, and the two redirect kinds.
STATUS_CELLS = frozenset(
    {"200", "201", "204", "401", "403", "404", "409", "422", OTHER_REDIRECT, SIGN_IN_REDIRECT}
)
VISIBILITY_CELLS = frozenset({VISIBLE, HIDDEN, CLOSED})

# (world, target) -> JSON body or form fields; None sends no body.
BodyBuilder = Callable[[Any, Any], Mapping[str, Any] | None]


@dataclass(frozen=True)
class Row:
    target: str
    cells: Mapping[str, str]  # column -> expected cell


@dataclass(frozen=True)
class RouteTable:
    """Who may call one route on which target, and what each of them gets."""

    method: str
    path: str  # the route's path template, exactly as the app declares it
    rows: tuple[Row, ...]
    body: BodyBuilder | None = None
    query: Mapping[str, str] = field(default_factory=dict)
    params: BodyBuilder | None = None  # query parameters that name the row's records
    headers: BodyBuilder | None = None  # request headers the route reads (an Idempotency-Key)
    module: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")


@dataclass(frozen=True)
class VisibilityTable:
    """Which principals find which objects in a list (the list must be scoped like the records)."""

    path: str
    rows: tuple[Row, ...]
    found: Callable[[Any, Any, Any], bool]  # (response, world, target) -> is the target listed?
    query: Mapping[str, str] = field(default_factory=dict)
    params: BodyBuilder | None = None  # query parameters that name records of the world
    module: str = ""

    @property
    def label(self) -> str:
        return f"GET {self.path}"


def parse_table(text: str, *, allowed: frozenset[str], where: str) -> tuple[Row, ...]:
    """Rows of an aligned text table whose header must name every column, in order."""
    lines = [
        line.split()
        for line in text.strip().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    if not lines:
        raise ValueError(f"{where}: empty table")
    header, *body = lines
    if header[0] != "target" or tuple(header[1:]) != COLUMNS:
        raise ValueError(
            f"{where}: the header must be 'target {' '.join(COLUMNS)}', got {' '.join(header)!r}"
        )
    rows = []
    seen: set[str] = set()
    for cells in body:
        target, values = cells[0], cells[1:]
        if len(values) != len(COLUMNS):
            raise ValueError(f"{where}, row {target}: {len(values)} cells for {len(COLUMNS)} columns")
        unknown = sorted(set(values) - allowed)
        if unknown:
            raise ValueError(f"{where}, row {target}: unknown cells {unknown}")
        if target in seen:
            raise ValueError(f"{where}: row {target} appears twice")
        seen.add(target)
        rows.append(Row(target=target, cells=dict(zip(COLUMNS, values, strict=True))))
    if not rows:
        raise ValueError(f"{where}: a table needs at least one row")
    return tuple(rows)


def route(
    label: str,
    table: str,
    *,
    body: BodyBuilder | None = None,
    query: Mapping[str, str] | None = None,
    params: BodyBuilder | None = None,
    headers: BodyBuilder | None = None,
) -> RouteTable:
    method, path = label.split(" ", 1)
    return RouteTable(
        method=method,
        path=path,
        rows=parse_table(table, allowed=STATUS_CELLS, where=label),
        body=body,
        query=dict(query or {}),
        params=params,
        headers=headers,
    )


def visibility(
    path: str,
    table: str,
    *,
    found: Callable[[Any, Any, Any], bool],
    query: Mapping[str, str] | None = None,
    params: BodyBuilder | None = None,
) -> VisibilityTable:
    return VisibilityTable(
        path=path,
        rows=parse_table(table, allowed=VISIBILITY_CELLS, where=f"visibility of GET {path}"),
        found=found,
        query=dict(query or {}),
        params=params,
    )
