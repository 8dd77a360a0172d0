"""Segmentation fixtures: customers made through the customers service, a lake of one's own."""

from __future__ import annotations

from pathlib import Path

import pytest

from bankcrm.core.config import Settings
from bankcrm.core.lake import Lake
from tests.customers.conftest import make_customer  # noqa: F401 - the fixture, shared
from tests.segmentation.bank import bank  # noqa: F401 - a small scored bank, shared


@pytest.fixture
def lake(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Lake:
    monkeypatch.setattr(settings, "lake_dir", tmp_path / "lake")
    return Lake(settings.lake_root)
