"""How an audit row is hashed. Pure functions: the writer and the verifier must agree byte for byte."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 kept: the same data always gives the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def row_digest(
    *,
    seq: int,
    occurred_at: datetime,
    actor_id: int | None,
    actor_name: str,
    actor_role: str,
    action: str,
    entity_type: str,
    entity_id: str | None,
    changes: str,
    reason: str | None,
    ip: str | None,
    user_agent: str | None,
    request_id: str | None,
    prev_hash: str,
) -> str:
    material = canonical_json(
        [
            seq,
            _timestamp(occurred_at),
            actor_id,
            actor_name,
            actor_role,
            action,
            entity_type,
            entity_id,
            changes,
            reason,
            ip,
            user_agent,
            request_id,
            prev_hash,
        ]
    )
    return hashlib.sha256(material.encode("utf-8")).hexdigest()
