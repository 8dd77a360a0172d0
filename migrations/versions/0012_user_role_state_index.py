"""The users' role index also carries the active flag and the lock, for the home page's figures.

The administrator's home page counts the users it may read by role, active or disabled, and locked:
with only ``ix_app_user_role_id`` that read every user's row and sorted them (1.15 ms for 2,000
users on SQLite); from ``ix_app_user_role_state`` it reads the index alone, already in order
(0.41 ms). The new index leads with the role, so it serves the role filter and the foreign key as
the old one did, which is dropped.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.create_index(
            "ix_app_user_role_state", ["role_id", "is_active", "locked_until"], unique=False
        )
        batch_op.drop_index("ix_app_user_role_id")


def downgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.create_index("ix_app_user_role_id", ["role_id"], unique=False)
        batch_op.drop_index("ix_app_user_role_state")
