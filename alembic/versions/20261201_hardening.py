"""failed authentications shared by every process; idempotency claims by attempt and heartbeat

`auth_failures` counts failed authentications per client and window in the database, so the
limit holds across processes and hosts. `idempotency_keys` gains the attempt number, whether
the attempt was applied (set in the request's own transaction), a heartbeat from the
attempt's process, and whether its answer was kept without its body (a secret shown once).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "auth_failures",
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("client", name=op.f("pk_auth_failures")),
    )
    with op.batch_alter_table("auth_failures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_auth_failures_window_started_at"), ["window_started_at"], unique=False
        )
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempt", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("applied", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("withheld", sa.Boolean(), nullable=True))
    # Claims of earlier processes: applied if their answer was kept, silent since they began.
    op.execute(
        "UPDATE idempotency_keys SET attempt = 1, applied = completed, "
        "heartbeat_at = created_at, withheld = false"
    )
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.alter_column("attempt", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("applied", existing_type=sa.Boolean(), nullable=False)
        batch_op.alter_column(
            "heartbeat_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )
        batch_op.alter_column("withheld", existing_type=sa.Boolean(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_column("withheld")
        batch_op.drop_column("heartbeat_at")
        batch_op.drop_column("applied")
        batch_op.drop_column("attempt")
    with op.batch_alter_table("auth_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_failures_window_started_at"))
    op.drop_table("auth_failures")
