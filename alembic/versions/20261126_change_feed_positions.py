"""change feed positions

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 20:24:17.444666
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "change_feed_counter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_feed_counter")),
    )
    with op.batch_alter_table("change_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch_op.create_index(
            "ix_change_events_project_id_seq", ["project_id", "seq"], unique=False
        )
        batch_op.create_unique_constraint(batch_op.f("uq_change_events_seq"), ["seq"])

    # Events written before the feed existed are all committed: their ids are their positions.
    op.execute("UPDATE change_events SET seq = id")
    op.execute(
        "INSERT INTO change_feed_counter (id, last_seq) "
        "SELECT 1, COALESCE(MAX(id), 0) FROM change_events"
    )


def downgrade() -> None:
    with op.batch_alter_table("change_events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_change_events_seq"), type_="unique")
        batch_op.drop_index("ix_change_events_project_id_seq")
        batch_op.drop_column("seq")

    op.drop_table("change_feed_counter")
