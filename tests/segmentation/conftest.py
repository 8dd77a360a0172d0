"""Segmentation fixtures: customers made through the customers service, a lake of one's own, and
local Spark with a small generated bank for the scale-out tests (``spark.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from bankcrm.core.config import Settings
from bankcrm.core.lake import Lake
from tests.customers.conftest import make_customer  # noqa: F401 - the fixture, shared
from tests.segmentation.bank import bank  # noqa: F401 - a small scored bank, shared
from tests.segmentation.spark import (
    SmallBank,
    build_small_bank,
    mark_spark_tests,
    spark,  # noqa: F401 - the fixture, shared
)


@pytest.fixture
def lake(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Lake:
    monkeypatch.setattr(settings, "lake_dir", tmp_path / "lake")
    return Lake(settings.lake_root)


@pytest.fixture(scope="session")
def small_bank(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> SmallBank:
    """A few hundred generated customers and their lake, built once per worker that needs them."""
    return build_small_bank(engine, tmp_path_factory.mktemp("small-bank"))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_spark_tests(items)
