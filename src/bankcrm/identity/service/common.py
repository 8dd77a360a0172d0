"""Small helpers shared by identity's services."""

from __future__ import annotations

from functools import lru_cache

from bankcrm.core.config import Settings, get_settings
from bankcrm.core.security import Argon2Cost, PasswordHashing
from bankcrm.identity.service.errors import StaleEdit


@lru_cache(maxsize=4)
def _hashing_for(cost: Argon2Cost) -> PasswordHashing:
    return PasswordHashing(cost)


def password_hashing(settings: Settings | None = None) -> PasswordHashing:
    settings = settings or get_settings()
    return _hashing_for(
        Argon2Cost(
            time_cost=settings.argon2_time_cost,
            memory_kib=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        )
    )


def check_version(current: int, submitted: int) -> None:
    """Optimistic locking: refuse an edit made on an older version of the record."""
    if current != submitted:
        raise StaleEdit(yours=submitted, current=current)
