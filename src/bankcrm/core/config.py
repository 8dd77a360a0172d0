"""Settings read from the environment (``BANKCRM_*``) and an optional ``.env`` file.

Every setting is validated when the process starts, so a typo in a deployment fails loudly
at boot with the name of the setting, instead of surfacing as a strange error hours later.
"""

from __future__ import annotations

import secrets
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Locale = Literal["zh_CN", "en"]
SUPPORTED_LOCALES: tuple[Locale, ...] = ("zh_CN", "en")


class ConfigurationError(RuntimeError):
    """Raised when the environment does not describe a runnable deployment."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BANKCRM_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    var_dir: Path = Field(default=Path("var"), description="Directory for local state: database, lake, keys.")
    database_url: str = Field(default="", description="SQLAlchemy URL; default is a SQLite file in var_dir.")
    lake_dir: Path | None = Field(default=None, description="Parquet lake root; default var_dir/lake.")
    secret_key: str = Field(default="", description="Signing key; generated into var_dir when unset.")
    default_locale: Locale = "zh_CN"
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_absolute_hours: int = Field(default=12, ge=1, le=24 * 7)
    lockout_threshold: int = Field(default=5, ge=1, le=100)
    lockout_minutes: int = Field(default=15, ge=1, le=24 * 60)
    password_min_length: int = Field(default=12, ge=8, le=128)
    # argon2id cost. The defaults take roughly 150-250 ms on a 2-core machine: slow enough to make
    # offline guessing expensive, fast enough for a login. One lane, because with two a sign-in took
    # 95 ms when both cores were idle and twice that when one was busy, so it fell out of the
    # 100-500 ms budget of docs/benchmarks.md; an attacker's cost per guess is the same either way.
    # Tests lower them through the environment.
    argon2_time_cost: int = Field(default=3, ge=1, le=20)
    argon2_memory_kib: int = Field(default=65536, ge=8, le=1024 * 1024)
    argon2_parallelism: int = Field(default=1, ge=1, le=16)
    cookie_secure: bool = Field(default=False, description="Set True behind HTTPS.")
    match_auto_threshold: float = Field(
        default=0.99, gt=0, le=1, description="Pairs at or above merge by themselves."
    )
    match_review_threshold: float = Field(
        default=0.80, gt=0, le=1, description="Pairs from here go to review."
    )
    journal_batch_records: int = Field(
        default=500_000,
        ge=1,
        le=10_000_000,
        description="Records of a transaction journal validated and written to the lake at a time "
        "(memory grows with it; the lake's files with the number of batches).",
    )
    loading_cache_mib: int = Field(
        default=256,
        ge=2,
        le=16 * 1024,
        description="SQLite page cache of a loading job's connection while it writes a delivery (MiB).",
    )
    # DuckDB over the lake for analytical jobs (the scoring run, the breakdown, CLV): bounded so a
    # million-customer run stays within the memory budget of docs/benchmarks.md on an 8 GiB share,
    # spilling what does not fit to disk instead.
    lake_memory_limit: str = Field(
        default="4GB",
        pattern=r"^[0-9]+(\.[0-9]+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$",
        description="Memory DuckDB may use for an analytical job's buffers before it spills to disk.",
    )
    lake_threads: int = Field(
        default=0, ge=0, le=256, description="DuckDB threads for an analytical job; 0: one per core."
    )
    lake_temp_dir: Path | None = Field(
        default=None, description="Where DuckDB spills what exceeds its memory; default var_dir/duckdb-tmp."
    )
    # Customer value tiers by AUM (CNY, monthly daily average; DOMAIN.md's defaults). A tier rises as
    # soon as a month's average reaches it and falls only when every month of the grace period was
    # below it.
    tier_affluent_from: Decimal = Field(
        default=Decimal("50000"), gt=0, description="AUM from which a customer is affluent."
    )
    tier_vip_from: Decimal = Field(
        default=Decimal("500000"), gt=0, description="AUM from which a customer is VIP."
    )
    tier_private_from: Decimal = Field(
        default=Decimal("6000000"),
        gt=0,
        description="AUM from which a customer is private banking (some banks: 10M).",
    )
    tier_grace_months: int = Field(
        default=3, ge=1, le=24, description="Months below a tier before a customer leaves it."
    )
    scheduler_enabled: bool = Field(default=True, description="Run periodic jobs inside the web process.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = False
    sql_echo: bool = False

    @field_validator("database_url")
    @classmethod
    def _database_url_is_supported(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must be a sqlite:/// or postgresql+psycopg:// URL")
        return value

    @field_validator("secret_key")
    @classmethod
    def _secret_key_is_strong(cls, value: str) -> str:
        if value and len(value) < 32:
            raise ValueError("must be at least 32 characters; leave unset to generate one into var/")
        return value

    @model_validator(mode="after")
    def _tiers_ascend(self) -> Settings:
        if not self.tier_affluent_from < self.tier_vip_from < self.tier_private_from:
            raise ValueError(
                "tier thresholds must rise: tier_affluent_from < tier_vip_from < tier_private_from "
                f"(got {self.tier_affluent_from}, {self.tier_vip_from}, {self.tier_private_from})"
            )
        return self

    @property
    def tier_thresholds(self) -> tuple[tuple[Decimal, str], ...]:
        """(lowest AUM, tier) from the highest tier down; below them all a customer is mass."""
        return (
            (self.tier_private_from, "private"),
            (self.tier_vip_from, "vip"),
            (self.tier_affluent_from, "affluent"),
        )

    @model_validator(mode="after")
    def _fill_derived_paths(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.var_dir / 'bankcrm.sqlite3').as_posix()}"
        if self.lake_dir is None:
            self.lake_dir = self.var_dir / "lake"
        if self.lake_temp_dir is None:
            self.lake_temp_dir = self.var_dir / "duckdb-tmp"
        return self

    @property
    def lake_root(self) -> Path:
        assert self.lake_dir is not None  # filled by the validator
        return self.lake_dir

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _load_or_create_secret(var_dir: Path) -> str:
    """Keep the generated key in var/ so sessions survive restarts; it is never committed."""
    key_file = var_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text(encoding="utf-8").strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key, encoding="utf-8")
    key_file.chmod(0o600)
    return key


def load_settings() -> Settings:
    """Read and validate the settings, turning pydantic's report into one readable message."""
    try:
        settings = Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"BANKCRM_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigurationError(f"Invalid configuration: {problems}") from exc
    if not settings.secret_key:
        settings.secret_key = _load_or_create_secret(settings.var_dir)
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
