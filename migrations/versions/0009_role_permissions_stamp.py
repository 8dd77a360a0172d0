"""A stamp on each role that changes with its permissions, so resolving a principal can cache them.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("role", schema=None) as batch_op:
        batch_op.add_column(sa.Column("permissions_stamp", sa.String(length=32), nullable=True))
    role = sa.table("role", sa.column("id", sa.Integer), sa.column("permissions_stamp", sa.String))
    connection = op.get_bind()
    for (role_id,) in connection.execute(sa.select(role.c.id)).all():
        # Each role its own random stamp, as the application gives new ones.
        connection.execute(
            role.update().where(role.c.id == role_id).values(permissions_stamp=secrets.token_hex(16))
        )
    with op.batch_alter_table("role", schema=None) as batch_op:
        batch_op.alter_column("permissions_stamp", existing_type=sa.String(length=32), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("role", schema=None) as batch_op:
        batch_op.drop_column("permissions_stamp")
