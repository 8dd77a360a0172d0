"""Every table of the access matrix, gathered from the ``rows_*`` modules of this package.

A module that adds routes (customers, integration, ...) adds ``tests/access/rows_<module>.py``
with ``ROUTES`` (and optionally ``VISIBILITY``); nothing else needs to change, and the
completeness test fails until every new route has its table.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import replace

import tests.access
from tests.access.table import RouteTable, VisibilityTable


def _row_modules() -> list[str]:
    return sorted(
        f"tests.access.{info.name}"
        for info in pkgutil.iter_modules(tests.access.__path__)
        if info.name.startswith("rows_")
    )


def load() -> tuple[list[RouteTable], list[VisibilityTable]]:
    routes: list[RouteTable] = []
    lists: list[VisibilityTable] = []
    for name in _row_modules():
        module = importlib.import_module(name)
        short = name.rsplit(".", 1)[-1]
        routes.extend(replace(table, module=short) for table in getattr(module, "ROUTES", []))
        lists.extend(replace(table, module=short) for table in getattr(module, "VISIBILITY", []))
    return routes, lists


ROUTES, VISIBILITY = load()
