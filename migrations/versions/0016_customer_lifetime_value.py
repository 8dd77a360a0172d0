"""Customer lifetime value written back by the scoring run: expected transactions, probability alive and
expected value over the next 12 months (BG/NBD + Gamma-Gamma).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customer_score", schema=None) as batch_op:
        batch_op.add_column(sa.Column("clv_expected_transactions", sa.Double(), nullable=True))
        batch_op.add_column(sa.Column("clv_probability_alive", sa.Double(), nullable=True))
        batch_op.add_column(sa.Column("clv_expected_value", sa.Numeric(precision=20, scale=2), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customer_score", schema=None) as batch_op:
        batch_op.drop_column("clv_expected_value")
        batch_op.drop_column("clv_probability_alive")
        batch_op.drop_column("clv_expected_transactions")
