"""Ingestion tests write landing copies and lake files into a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from bankcrm.core.config import Settings
from bankcrm.core.lake import Lake


@pytest.fixture
def lake(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Lake:
    monkeypatch.setattr(settings, "var_dir", tmp_path / "var")
    monkeypatch.setattr(settings, "lake_dir", tmp_path / "var" / "lake")
    return Lake(settings.lake_root)
