"""Value tiers decided by the scoring run: when a customer was last tiered, and each move with its input.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customer_tier_change",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("from_tier", sa.String(length=12), nullable=False),
        sa.Column("to_tier", sa.String(length=12), nullable=False),
        sa.Column("aum_mda", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("balance_month", sa.String(length=7), nullable=False),
        sa.Column("reason", sa.String(length=12), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_customer_tier_change_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_tier_change")),
    )
    with op.batch_alter_table("customer_tier_change", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customer_tier_change_customer_id"), ["customer_id"], unique=False
        )

    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tier_as_of", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_column("tier_as_of")

    with op.batch_alter_table("customer_tier_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_tier_change_customer_id"))

    op.drop_table("customer_tier_change")
