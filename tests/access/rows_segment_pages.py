"""The segment pages: the builder, a segment's page and its actions, compare and export.

Reading guide: segments are the bank's definitions, so every role that reads customers opens a
segment's page and the comparison (what each sees of the members is scoped in the service);
defining, editing, snapshotting and archiving need "define segments" (branch and sub-branch
managers, marketing, analysts); a rule or model tag needs "manage the tag catalogue" (administrator,
marketing); the CSV export needs the export right. A missing segment is a 404
page for those allowed; not signed in, or a bearer token, gets the sign-in redirect.
"""

from __future__ import annotations

from typing import Any

from tests.access.table import route

RULE = {"n.join": "and", "n.1.field": "aum", "n.1.operator": "ge", "n.1.value": "0"}


def new_segment(world: Any, target: Any) -> dict[str, Any]:
    return {**RULE, "name": "矩阵·新分群", "kind": "dynamic"}


def edited_segment(world: Any, target: Any) -> dict[str, Any]:
    return {**RULE, "name": "矩阵·改名", "version": "1"}


def snapshot(world: Any, target: Any) -> dict[str, Any]:
    return {"name": "矩阵·快照"}


def both_segments(world: Any, target: Any) -> dict[str, str]:
    found = world.records["segment"]
    return {"first": str(target.id), "second": str(found["none"])}


ROUTES = [
    route(
        "GET /segments/new",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      lgn  403 403 200 200 403 403 403 200 403 403 200 lgn lgn lgn 200 200
        """,
    ),
    route(
        "POST /segments/builder",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      lgn  403 403 200 200 403 403 403 200 403 403 200 lgn lgn lgn 200 200
        """,
        body=lambda world, target: dict(RULE),
    ),
    route(
        "POST /segments/new",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      lgn  403 403 303 303 403 403 403 303 403 403 303 lgn lgn lgn 303 303
        """,
        body=new_segment,
    ),
    route(
        "GET /segments/compare",
        """
        target      anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        segment:all lgn  200 200 200 200 200 200 200 200 200 200 200 lgn lgn lgn 200 200
        """,
        params=both_segments,
    ),
    route(
        "GET /segments/{segment_id:int}",
        """
        target          anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        segment:all     lgn  200 200 200 200 200 200 200 200 200 200 200 lgn lgn lgn 200 200
        segment:missing lgn  404 404 404 404 404 404 404 404 404 404 404 lgn lgn lgn 404 404
        """,
    ),
    route(
        "GET /segments/{segment_id:int}/edit",
        """
        target          anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        segment:all     lgn  403 403 200 200 403 403 403 200 403 403 200 lgn lgn lgn 200 200
        segment:missing lgn  403 403 404 404 403 403 403 404 403 403 404 lgn lgn lgn 404 404
        """,
    ),
    route(
        "POST /segments/{segment_id:int}/edit",
        """
        target          anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        segment:all     lgn  403 403 303 303 403 403 403 303 403 403 303 lgn lgn lgn 303 303
        segment:missing lgn  403 403 404 404 403 403 403 404 403 403 404 lgn lgn lgn 404 404
        """,
        body=edited_segment,
    ),
    route(
        "POST /segments/{segment_id:int}/snapshot",
        """
        target          anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        segment:all     lgn  403 403 303 303 403 403 403 303 403 403 303 lgn lgn lgn 303 303
        segment:missing lgn  403 403 404 404 403 403 403 404 403 403 404 lgn lgn lgn 404 404
        """,
        body=snapshot,
    ),
    route(
        "POST /segments/{segment_id:int}/archive",
        """
        target          anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        segment:all     lgn  403 403 303 303 403 403 403 303 403 403 303 lgn lgn lgn 303 303
        segment:missing lgn  403 403 404 404 403 403 403 404 403 403 404 lgn lgn lgn 404 404
        """,
    ),
    route(
        "GET /segments/{segment_id:int}/export.csv",
        """
        target          anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        segment:all     lgn  403 200 200 200 403 403 403 200 403 403 403 lgn lgn lgn 200 200
        segment:missing lgn  403 404 404 404 403 403 403 404 403 403 403 lgn lgn lgn 404 404
        """,
    ),
    # A cluster kept as a segment: "define segments" and a whole-bank view (clusters are the whole
    # bank's); the matrix bank has no clustering run, so those allowed get a missing page.
    route(
        "POST /segments/clusters/{as_of}/{cluster:int}/promote",
        """
        target                  anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        run:2026-10-31>run:1    lgn  403 403 403 403 403 403 403 403 403 403 404 lgn lgn lgn 403 403
        """,
        body=lambda world, target: {"name": "矩阵·聚类"},
    ),
    # ------------------------------------------------------------ rule and model tags (tag.manage)
    route(
        "GET /segments/tags/new",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      lgn  200 403 403 403 403 403 403 200 403 403 403 lgn lgn lgn 200 200
        """,
    ),
    route(
        "POST /segments/tags/new",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      lgn  303 403 403 403 403 403 403 303 403 403 403 lgn lgn lgn 303 303
        """,
        body=lambda world, target: {
            **RULE,
            "code": "matrix-rule",
            "name": "矩阵·规则标签",
            "tag_kind": "rule",
        },
    ),
]
