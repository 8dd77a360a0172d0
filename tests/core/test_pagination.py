"""A page knows whether its total is exact or a lower bound ("more than")."""

from __future__ import annotations

from bankcrm.core.pagination import Page


def test_an_exact_total_gives_the_last_page_and_no_next() -> None:
    page = Page(items=[1, 2, 3], total=53, page=3, size=25)
    assert (page.pages, page.has_next, page.first_index, page.last_index) == (3, False, 51, 53)


def test_a_capped_total_keeps_a_next_page_while_pages_are_full() -> None:
    inside = Page(items=list(range(25)), total=50, page=2, size=25, total_exact=False)
    assert (inside.pages, inside.has_next, inside.first_index, inside.last_index) == (2, True, 26, 50)
    beyond = Page(items=list(range(25)), total=50, page=7, size=25, total_exact=False)
    assert (beyond.has_next, beyond.first_index, beyond.last_index) == (True, 151, 175)
    last = Page(items=list(range(4)), total=50, page=8, size=25, total_exact=False)
    assert (last.has_next, last.last_index) == (False, 179)
    empty = Page(items=[], total=50, page=99, size=25, total_exact=False)
    assert (empty.has_next, empty.first_index, empty.last_index) == (False, 0, 0)
