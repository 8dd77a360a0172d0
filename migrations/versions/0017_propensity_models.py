"""Model studio: trained propensity models with their card, and customers' latest scores with top factors.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "propensity_model",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("target", sa.String(length=40), nullable=False),
        sa.Column("target_definition", sa.Text(), nullable=False),
        sa.Column("features", sa.Text(), nullable=False),
        sa.Column("metrics", sa.Text(), nullable=False),
        sa.Column("training_data", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("author_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("author_name", sa.String(length=100), nullable=False),
        sa.Column("trained_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("model_text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_propensity_model")),
    )
    with op.batch_alter_table("propensity_model", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_propensity_model_target"), ["target"], unique=False)

    op.create_table(
        "propensity_score",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("model_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("band", sa.String(length=8), nullable=False),
        sa.Column("factors", sa.Text(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_propensity_score_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["propensity_model.id"],
            name=op.f("fk_propensity_score_model_id_propensity_model"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_propensity_score")),
        sa.UniqueConstraint("model_id", "customer_id", name=op.f("uq_propensity_score_model_id")),
    )
    with op.batch_alter_table("propensity_score", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_propensity_score_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index("ix_propensity_score_model_band", ["model_id", "band"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("propensity_score", schema=None) as batch_op:
        batch_op.drop_index("ix_propensity_score_model_band")
        batch_op.drop_index(batch_op.f("ix_propensity_score_customer_id"))

    op.drop_table("propensity_score")
    with op.batch_alter_table("propensity_model", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_propensity_model_target"))

    op.drop_table("propensity_model")
