"""One statement gives a page and the number of matches: the same answers as a count and a page."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, false, func, select, true
from sqlalchemy.orm import Session

from bankcrm.core.db import StatementCache, read_rows
from bankcrm.core.pagination import PageRequest, fetch_page, paged, without_always_true
from bankcrm.identity.models import OrgUnit, User


def _all_usernames(db: Session) -> list[str]:
    return list(db.execute(select(User.username).order_by(User.username)).scalars())


def test_a_page_and_its_total_match_a_separate_count_and_page(db: Session, demo: None) -> None:
    everyone = _all_usernames(db)
    query = paged(select(User.username).order_by(User.username))
    for page in (PageRequest(1, 5), PageRequest(2, 5), PageRequest(3, 5)):
        found = fetch_page(db, query, page)
        assert found.total == len(everyone)
        assert [row.username for row in found.rows] == everyone[page.offset : page.offset + page.size]


def test_the_total_counts_the_filter_not_the_page_or_the_joined_columns(db: Session, demo: None) -> None:
    matches = select(User).where(User.username.like("rm.%"))
    query = (
        matches.with_only_columns(User.username, OrgUnit.name.label("unit"))
        .join(OrgUnit, OrgUnit.id == User.org_unit_id)
        .order_by(User.username.desc())
    )
    found = fetch_page(db, paged(query, matches=matches), PageRequest(1, 2))
    assert found.total == 3
    assert [row.username for row in found.rows] == ["rm.zhang", "rm.liu"]
    assert all(row.unit for row in found.rows)


def test_a_page_past_the_end_still_knows_the_total(db: Session, demo: None) -> None:
    total = len(_all_usernames(db))
    found = fetch_page(db, paged(select(User.username).order_by(User.username)), PageRequest(99, 25))
    assert (list(found.rows), found.total) == ([], total)


def test_nothing_matching_gives_an_empty_first_page_and_zero(db: Session, demo: None) -> None:
    query = paged(select(User.username).where(User.username == "nobody").order_by(User.username))
    found = fetch_page(db, query, PageRequest(1, 25))
    assert (list(found.rows), found.total) == ([], 0)


def test_with_a_cap_counting_stops_one_past_it(db: Session, demo: None) -> None:
    total = int(db.execute(select(func.count()).select_from(User)).scalar_one())
    assert total > 4
    query = select(User.username).order_by(User.username)
    assert fetch_page(db, paged(query, cap=3), PageRequest(1, 2)).total == 4
    assert fetch_page(db, paged(query, cap=3), PageRequest(99, 2)).total == 4
    assert fetch_page(db, paged(query, cap=total), PageRequest(1, 2)).total == total


def test_one_built_statement_serves_every_page_and_every_bound_value(db: Session, demo: None) -> None:
    query = paged(
        select(User.username).where(User.username.like(bindparam("prefix"))).order_by(User.username)
    )
    rms = fetch_page(db, query, PageRequest(2, 2), {"prefix": "rm.%"})
    assert ([row.username for row in rms.rows], rms.total) == (["rm.zhang"], 3)
    past_end = fetch_page(db, query, PageRequest(9, 2), {"prefix": "bm.%"})
    assert (list(past_end.rows), past_end.total) == (
        [],
        len([u for u in _all_usernames(db) if u.startswith("bm.")]),
    )


def test_a_statement_cache_builds_each_key_once_and_forgets_all_when_full() -> None:
    built: list[str] = []
    cache: StatementCache[str, str] = StatementCache(kept=2)

    def get(key: str) -> str:
        return cache.get(key, lambda: built.append(key) or key.upper())

    assert [get("a"), get("a"), get("b"), get("a")] == ["A", "A", "B", "A"]
    assert built == ["a", "b"]
    assert get("c") == "C"  # a third key: the cache starts over
    assert get("a") == "A"
    assert built == ["a", "b", "c", "a"]


def test_paged_lists_read_plain_columns_not_entities() -> None:
    with pytest.raises(ValueError, match="plain columns"):
        paged(select(User).order_by(User.username))


def test_plain_reads_see_what_the_session_has_pending(db: Session, demo: None) -> None:
    user = db.execute(select(User).where(User.username == "rm.zhang")).scalar_one()
    user.display_name = "张晓明（已改）"
    rows = read_rows(
        db, select(User.display_name).where(User.username == bindparam("name")), {"name": "rm.zhang"}
    )
    assert [row.display_name for row in rows] == ["张晓明（已改）"]


def test_an_always_true_scope_is_left_out_of_the_statement_and_counts_the_same(
    db: Session, demo: None
) -> None:
    """A principal who sees everything gives ``true()`` as the scope; SQLite would render it as
    ``WHERE 1 = 1`` and then count by visiting every row, so ``paged`` leaves it out."""
    everyone = _all_usernames(db)
    matches = select(User).where(true())
    query = paged(matches.with_only_columns(User.username).order_by(User.username), matches=matches)
    assert "WHERE" not in str(query.page.compile(db.get_bind()))
    assert "WHERE" not in str(query.count.compile(db.get_bind()))
    assert "WHERE" in str(matches.compile(db.get_bind()))  # the caller's statement is unchanged
    found = fetch_page(db, query, PageRequest(1, 3))
    assert (found.total, [row.username for row in found.rows]) == (len(everyone), everyone[:3])
    assert read_rows(db, query.count)[0][0] == len(everyone)


def test_only_the_always_true_conditions_are_left_out() -> None:
    kept = without_always_true(select(User.username).where(true(), User.username.like("rm.%")))
    assert str(kept.compile()).split("WHERE")[1].strip() == "app_user.username LIKE :username_1"
    assert "WHERE false" in str(without_always_true(select(User.username).where(false())).compile())
