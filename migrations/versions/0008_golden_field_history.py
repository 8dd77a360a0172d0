"""Golden record history: which source's value each field took, under which survivorship rule.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "golden_field_change",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("customer_id", BIG_ID, nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("source_code", sa.String(length=40), nullable=False),
        sa.Column("source_customer_no", sa.String(length=64), nullable=True),
        sa.Column("rule", sa.String(length=20), nullable=False),
        sa.Column("value_digest", sa.String(length=64), nullable=False),
        sa.Column("value_masked", sa.String(length=200), nullable=False),
        sa.Column("previous_masked", sa.String(length=200), nullable=True),
        sa.Column("batch_id", BIG_ID, nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["ingest_batch.id"], name=op.f("fk_golden_field_change_batch_id_ingest_batch")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_golden_field_change_customer_id_customer")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_golden_field_change")),
    )
    with op.batch_alter_table("golden_field_change", schema=None) as batch_op:
        batch_op.create_index("ix_golden_field_change_customer", ["customer_id", "field", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("golden_field_change", schema=None) as batch_op:
        batch_op.drop_index("ix_golden_field_change_customer")
    op.drop_table("golden_field_change")
