"""Paging for every list: page numbers from 1, bounded page sizes, total counts."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Integer, Select, bindparam, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import True_

from bankcrm.core.db import PlainRow, read_rows
from bankcrm.core.errors import ValidationFailed
from bankcrm.core.i18n import N_

T = TypeVar("T")
MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 25


@dataclass(frozen=True)
class PageRequest:
    page: int = 1
    size: int = DEFAULT_PAGE_SIZE

    def __post_init__(self) -> None:
        if self.page < 1:
            raise ValidationFailed.single("page", "page.min", N_("Page numbers start at 1."), self.page)
        if not 1 <= self.size <= MAX_PAGE_SIZE:
            raise ValidationFailed.single(
                "size",
                "size.range",
                N_("Page size must be between 1 and %(max)s."),
                self.size,
                max=MAX_PAGE_SIZE,
            )

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list. ``total`` is exact unless ``total_exact`` is false: counting every match
    of a broad filter over a million rows costs more than the page itself, so a list may stop
    counting at a cap and say "more than" that many."""

    items: Sequence[T]
    total: int
    page: int
    size: int
    total_exact: bool = True

    @property
    def pages(self) -> int:
        """How many pages; when the total is a lower bound, at least that many (and this one)."""
        counted = max(1, math.ceil(self.total / self.size))
        return counted if self.total_exact else max(counted, self.page)

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        if self.total_exact:
            return self.page < self.pages
        return len(self.items) == self.size  # past the counted ones, a full page may have a next

    @property
    def first_index(self) -> int:
        if self.total == 0 or (not self.total_exact and not self.items):
            return 0
        return (self.page - 1) * self.size + 1

    @property
    def last_index(self) -> int:
        if not self.total_exact:
            return (self.page - 1) * self.size + len(self.items) if self.items else 0
        return min(self.page * self.size, self.total)


TOTAL_COLUMN = "page_total"
AnySelect = Select[*tuple[Any, ...]]
AnyRow = PlainRow


@dataclass(frozen=True)
class PagedQuery:
    """A list's statements, built once: one page with the number of matches, and the count alone."""

    page: AnySelect
    count: Select[int]


@dataclass(frozen=True)
class PageRows:
    """The rows of one page (each with a trailing ``page_total`` column) and the number of matches."""

    rows: Sequence[AnyRow]
    total: int


def paged(query: AnySelect, *, matches: AnySelect | None = None, cap: int | None = None) -> PagedQuery:
    """The page of ``query`` (ordered) with the count of ``matches`` (default: ``query``) as one more
    column; with ``cap``, counting stops after ``cap + 1``.

    One statement rather than a count and a page: the count rides along as an uncorrelated scalar
    subquery, which SQLite and PostgreSQL both evaluate once per statement, so a page costs one
    parse, plan and round trip instead of two. ``count(*) OVER ()`` would say the same but makes
    the engine visit every match before LIMIT can stop it: 2.8 ms instead of 0.16 ms for a page of
    25 of 2,000 users on SQLite. Offset and size are bound parameters, so the result can be kept
    and run again for any page. Plain columns only, since pages are read with ``read_rows``.
    """
    if any(column["expr"] is column["entity"] for column in query.column_descriptions):
        raise ValueError("paged() reads plain columns: select the columns a list shows, not entities")
    query = without_always_true(query)
    unordered = without_always_true(query if matches is None else matches).order_by(None)
    if cap is not None:
        unordered = unordered.limit(cap + 1)
    count = select(func.count()).select_from(unordered.subquery())
    page = (
        query.add_columns(count.correlate(None).scalar_subquery().label(TOTAL_COLUMN))
        .offset(bindparam("page_offset", type_=Integer))
        .limit(bindparam("page_size", type_=Integer))
    )
    return PagedQuery(page=page, count=count)


def without_always_true(query: AnySelect) -> AnySelect:
    """``query`` without the WHERE conditions that are literally true, such as the data scope of a
    principal who sees everything (``Principal.readable`` gives ``true()``).

    SQLite renders them as ``WHERE 1 = 1`` and then counts a table by visiting every row instead of
    asking the b-tree for its size: for 2,000 users the count took 30 us instead of 3, a third of
    the page's statement. PostgreSQL's planner drops such a condition itself; the result is the same.
    """
    criteria = query._where_criteria
    kept = tuple(criterion for criterion in criteria if not isinstance(criterion, True_))
    if len(kept) == len(criteria):
        return query
    stripped = query._generate()
    stripped._where_criteria = kept
    return stripped


def fetch_page(
    session: Session, query: PagedQuery, page: PageRequest, params: Mapping[str, Any] | None = None
) -> PageRows:
    """One page and the number of matches. A page past the end has no row to carry the count, so
    then the count is asked alone."""
    values = {**(params or {}), "page_offset": page.offset, "page_size": page.size}
    rows = read_rows(session, query.page, values)
    if rows:
        return PageRows(rows=rows, total=int(rows[0][-1]))
    total = 0 if page.offset == 0 else int(read_rows(session, query.count, params)[0][0])
    return PageRows(rows=rows, total=total)
