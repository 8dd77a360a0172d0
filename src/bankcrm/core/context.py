"""Who is acting and from where: plain values that every module may record (audit, logs).

Identity builds a richer principal; lower layers such as audit only need these facts, so they
live here and nothing below identity has to import it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Origin:
    """Where a request came from; empty for batch jobs started from the command line."""

    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str
    role: str
    origin: Origin = Origin()

    @classmethod
    def system(cls, job: str) -> Actor:
        return cls(user_id=None, username=f"system:{job}", role="system")

    @classmethod
    def anonymous(cls, origin: Origin, username: str = "anonymous") -> Actor:
        return cls(user_id=None, username=username, role="anonymous", origin=origin)
