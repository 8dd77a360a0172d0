"""Customer deliveries land before they resolve: validated records wait in ``ingest_landed_record``.

A customer delivery is committed in two steps: landing (every record read, standardised, validated,
its rejects reported and the good ones stored here, batch status ``landed``) and resolving (linked to
existing customers or made into new golden records, then moved to ``source_record``; status
``loaded``). A crash after landing leaves the batch ``landed``, and running the delivery again
resolves it.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ingest_landed_record",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("batch_id", BIG_ID, nullable=False),
        sa.Column("record_no", BIG_ID, nullable=False),
        sa.Column("source_customer_no", sa.String(length=64), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("id_digest", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["ingest_batch.id"], name=op.f("fk_ingest_landed_record_batch_id_ingest_batch")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_landed_record")),
    )
    with op.batch_alter_table("ingest_landed_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ingest_landed_record_batch_id"), ["batch_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ingest_landed_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ingest_landed_record_batch_id"))
    op.drop_table("ingest_landed_record")
