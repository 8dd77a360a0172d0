"""Data quality: completeness, validity, uniqueness and the newest value of every field of every batch.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "field_quality",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("source_code", sa.String(length=40), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("records", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("filled", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("valid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("distinct_values", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("newest", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["ingest_batch.id"], name=op.f("fk_field_quality_batch_id_ingest_batch")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_field_quality")),
        sa.UniqueConstraint("batch_id", "field", name="uq_field_quality_batch_field"),
    )
    with op.batch_alter_table("field_quality", schema=None) as batch_op:
        batch_op.create_index(
            "ix_field_quality_source_field", ["source_code", "field", "batch_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("field_quality", schema=None) as batch_op:
        batch_op.drop_index("ix_field_quality_source_field")

    op.drop_table("field_quality")
