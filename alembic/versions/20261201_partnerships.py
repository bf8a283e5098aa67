"""partnerships: a municipality's consent that a vendor may start projects with it

Every municipality and vendor that already share a project are partners from the start, so
no vendor loses what it already serves.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    partnerships = op.create_table(
        "partnerships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("municipality_id", sa.Integer(), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("granted_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["municipality_id"],
            ["organisations.id"],
            name=op.f("fk_partnerships_municipality_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["organisations.id"],
            name=op.f("fk_partnerships_vendor_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partnerships")),
        sa.UniqueConstraint(
            "municipality_id", "vendor_id", name=op.f("uq_partnerships_municipality_id_vendor_id")
        ),
    )
    with op.batch_alter_table("partnerships", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_partnerships_vendor_id"), ["vendor_id"], unique=False)
    connection = op.get_bind()
    pairs = connection.execute(
        sa.text("SELECT DISTINCT municipality_id, vendor_id FROM projects ORDER BY 1, 2")
    ).all()
    if pairs:
        now = datetime.now(UTC)
        op.bulk_insert(
            partnerships,
            [
                {
                    "municipality_id": municipality_id,
                    "vendor_id": vendor_id,
                    "granted_by": "migration 0008: a project they already shared",
                    "created_at": now,
                }
                for municipality_id, vendor_id in pairs
            ],
        )


def downgrade() -> None:
    with op.batch_alter_table("partnerships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partnerships_vendor_id"))
    op.drop_table("partnerships")
