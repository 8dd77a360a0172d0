"""Settings are validated at start with messages that name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from bankcrm.core.config import ConfigurationError, load_settings


def test_bad_setting_is_reported_with_its_variable_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANKCRM_SESSION_IDLE_MINUTES", "zero")
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert "BANKCRM_SESSION_IDLE_MINUTES" in str(caught.value)


def test_unsupported_database_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANKCRM_DATABASE_URL", "mysql://localhost/crm")
    with pytest.raises(ConfigurationError, match="BANKCRM_DATABASE_URL"):
        load_settings()


def test_short_secret_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANKCRM_SECRET_KEY", "short")
    with pytest.raises(ConfigurationError, match="BANKCRM_SECRET_KEY"):
        load_settings()


def test_secret_key_is_generated_once_into_var_and_reused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("BANKCRM_SECRET_KEY")
    monkeypatch.setenv("BANKCRM_VAR_DIR", str(tmp_path))
    first = load_settings()
    second = load_settings()
    assert len(first.secret_key) >= 32
    assert first.secret_key == second.secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_defaults_put_database_and_lake_under_var(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BANKCRM_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("BANKCRM_DATABASE_URL", raising=False)
    settings = load_settings()
    assert settings.database_url == f"sqlite:///{tmp_path.as_posix()}/bankcrm.sqlite3"
    assert settings.lake_root == tmp_path / "lake"
    assert settings.default_locale == "zh_CN"
