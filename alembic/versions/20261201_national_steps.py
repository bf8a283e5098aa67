"""items: the national procedure's step and the business it is run for

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-01 11:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# service.national.Business as this revision wrote it.
_BUSINESSES = (
    "住民記録", "選挙人名簿管理", "固定資産税", "個人住民税", "法人住民税", "軽自動車税",
    "国民健康保険", "国民年金", "障害者福祉", "後期高齢者医療", "介護保険", "児童手当", "生活保護",
    "健康管理", "就学", "児童扶養手当", "子ども・子育て支援", "印鑑登録", "戸籍", "戸籍の附票",
    "共通",
)  # fmt: skip
_HAS_STEP = sa.text("step IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("step", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("business", sa.String(length=20), nullable=True))
        allowed = ", ".join(f"'{name}'" for name in _BUSINESSES)
        batch_op.create_check_constraint("business", f"business IN ({allowed})")
        batch_op.create_index(
            "ix_items_step",
            ["project_id", "business", "step"],
            unique=False,
            postgresql_where=_HAS_STEP,
            sqlite_where=_HAS_STEP,
        )


def downgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_index("ix_items_step", postgresql_where=_HAS_STEP, sqlite_where=_HAS_STEP)
        batch_op.drop_constraint(op.f("ck_items_business"), type_="check")
        batch_op.drop_column("business")
        batch_op.drop_column("step")
