"""Every principal × every route × the records that matter, as the tables of ``rows_*.py`` say.

One test per table row: the row's request is made once per column (each inside a savepoint that
is rolled back), and a failure lists every column whose answer differs from the table.
"""

from __future__ import annotations

from collections import Counter

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from bankcrm.identity.roles import ROLE_SCOPES
from tests.access.principals import BY_NAME, COLUMNS, PRINCIPALS
from tests.access.registry import ROUTES, VISIBILITY
from tests.access.table import CLOSED, VISIBLE, RouteTable, Row, VisibilityTable
from tests.access.world import SYNTHETIC_ROLES, World

# Operational and documentation routes that are public by design and carry no data.
UNCHECKED_PATHS = frozenset({"/healthz", "/readyz", "/api/docs", "/api/openapi.json"})
UNCHECKED_PREFIXES = ("/static",)
IGNORED_METHODS = frozenset({"HEAD", "OPTIONS"})

ROUTE_ROWS = [(table, row) for table in ROUTES for row in table.rows]
LIST_ROWS = [(table, row) for table in VISIBILITY for row in table.rows]


def _mismatch_report(label: str, target: str, wrong: dict[str, tuple[str, str]]) -> str:
    lines = [f"{label} on {target}: {len(wrong)} principal(s) answered differently from the matrix"]
    for column, (expected, actual) in wrong.items():
        lines.append(f"  {column:5} ({BY_NAME[column].about}): expected {expected}, got {actual}")
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("table", "row"), ROUTE_ROWS, ids=[f"{table.label} {row.target}" for table, row in ROUTE_ROWS]
)
def test_route_answers_every_principal_as_the_matrix_says(world: World, table: RouteTable, row: Row) -> None:
    wrong: dict[str, tuple[str, str]] = {}
    for column in COLUMNS:
        outcome = world.call(table, row.target, column)
        if not outcome.matches(row.cells[column]):
            wrong[column] = (row.cells[column], outcome.describe())
    assert not wrong, _mismatch_report(table.label, row.target, wrong)


@pytest.mark.parametrize(
    ("table", "row"), LIST_ROWS, ids=[f"{table.label} lists {row.target}" for table, row in LIST_ROWS]
)
def test_lists_show_each_principal_only_what_its_scope_reaches(
    world: World, table: VisibilityTable, row: Row
) -> None:
    wrong: dict[str, tuple[str, str]] = {}
    api = table.path.startswith("/api/")
    for name in COLUMNS:
        column = BY_NAME[name]
        expected = row.cells[name]
        target = world.resolve(row.target, column)
        query = {**table.query, **(table.params(world, target) if table.params else {})}
        response = world.request("GET", table.path, column, api=api, query=query)
        if expected == CLOSED:
            if response.status_code == 200:
                wrong[name] = ("no access to the list", "200")
            continue
        if response.status_code != 200:
            wrong[name] = (expected, f"the list answered {response.status_code}")
            continue
        listed = table.found(response, world, target)
        if listed != (expected == VISIBLE):
            wrong[name] = (expected, "yes" if listed else "no")
    assert not wrong, _mismatch_report(table.label, row.target, wrong)


# ---------------------------------------------------------------- the matrix itself


def _app_routes(app: FastAPI) -> set[tuple[str, str]]:
    found = set()
    for context in iter_route_contexts(app.routes):
        path = context.path or ""
        if path in UNCHECKED_PATHS or path.startswith(UNCHECKED_PREFIXES):
            continue
        for method in (context.methods or set()) - IGNORED_METHODS:
            found.add((method, path))
    return found


def test_every_route_of_the_app_has_a_table(app: FastAPI) -> None:
    routes = _app_routes(app)
    assert len(routes) > 50, "the route walk found too few routes; has the router changed?"
    missing = sorted(routes - {table.key for table in ROUTES})
    assert not missing, "routes without a table in tests/access/rows_*.py:\n" + "\n".join(
        f"  {method} {path}" for method, path in missing
    )


def test_every_table_names_a_route_that_exists(app: FastAPI) -> None:
    stale = sorted({table.key for table in ROUTES} - _app_routes(app))
    assert not stale, "tables for routes the app does not have:\n" + "\n".join(
        f"  {method} {path}" for method, path in stale
    )


def test_each_route_has_exactly_one_table() -> None:
    repeated = [key for key, count in Counter(table.key for table in ROUTES).items() if count > 1]
    assert not repeated, f"routes with more than one table: {repeated}"


def test_every_role_has_a_column() -> None:
    covered = {column.role for column in PRINCIPALS}
    missing = sorted(set(ROLE_SCOPES) - covered)
    assert not missing, f"built-in roles without a column in tests/access/principals.py: {missing}"
    assert set(SYNTHETIC_ROLES) <= covered


def test_rows_of_routes_with_an_id_name_a_target() -> None:
    untargeted = [
        f"{table.label}: {row.target}"
        for table in ROUTES
        if "{" in table.path
        for row in table.rows
        if ":" not in row.target
    ]
    assert not untargeted, f"rows that give no record for the path's id: {untargeted}"
