"""Paging for every list: page numbers from 1, bounded page sizes, total counts."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

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
