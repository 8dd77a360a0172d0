"""The access matrix's bank, built once per test module inside a transaction rolled back at its end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from bankcrm.core.config import Settings
from tests.access.world import World, build_world


@pytest.fixture(scope="module")
def world(engine: Engine, settings: Settings) -> Iterator[World]:
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            with build_world(connection, settings) as built:
                yield built
        finally:
            transaction.rollback()
