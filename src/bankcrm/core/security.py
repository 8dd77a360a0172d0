"""Cryptographic primitives: password hashing, random tokens, keyed hashes, CSRF tokens.

Nothing here knows about users or sessions; identity decides when to call what.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# 32 random bytes = 256 bits, comfortably above the 128-bit minimum for session and API tokens.
TOKEN_BYTES = 32


@dataclass(frozen=True)
class Argon2Cost:
    time_cost: int
    memory_kib: int
    parallelism: int


class PasswordHashing:
    """argon2id with configurable cost; verification also says when a stored hash needs upgrading."""

    def __init__(self, cost: Argon2Cost) -> None:
        self._hasher = PasswordHasher(
            time_cost=cost.time_cost,
            memory_cost=cost.memory_kib,
            parallelism=cost.parallelism,
            type=Type.ID,
        )
        # A fixed hash to verify against when the user does not exist, so the response time
        # does not reveal which usernames are real.
        self._decoy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return str(self._hasher.hash(password))

    def verify(self, stored_hash: str | None, password: str) -> bool:
        try:
            return (
                bool(self._hasher.verify(stored_hash or self._decoy_hash, password))
                and stored_hash is not None
            )
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        return bool(self._hasher.check_needs_rehash(stored_hash))


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_digest(token: str) -> str:
    """What is stored for a bearer or session token: its SHA-256, so a database leak yields no tokens."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def keyed_digest(secret_key: str, purpose: str, value: str) -> str:
    """HMAC-SHA256 bound to a purpose, e.g. exact-match search over encrypted identifiers."""
    # A copy of the keyed state, not a new HMAC: loading jobs take several digests per record.
    mac = _keyed(secret_key).copy()
    mac.update(f"{purpose}\x00{value}".encode())
    return mac.hexdigest()


@lru_cache(maxsize=4)
def _keyed(secret_key: str) -> hmac.HMAC:
    return hmac.new(secret_key.encode("utf-8"), digestmod=hashlib.sha256)


def csrf_token_for(secret_key: str, binding: str) -> str:
    """A CSRF token derived from the session (or pre-session) it protects; nothing is stored."""
    return keyed_digest(secret_key, "csrf", binding)[:48]


def constant_time_equals(left: str, right: str) -> bool:
    return hmac.compare_digest(left.encode("utf-8"), right.encode("utf-8"))
