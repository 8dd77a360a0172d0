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
    items: Sequence[T]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first_index(self) -> int:
        return 0 if self.total == 0 else (self.page - 1) * self.size + 1

    @property
    def last_index(self) -> int:
        return min(self.page * self.size, self.total)
