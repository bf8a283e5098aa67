"""templates and replans: plan templates, their versions, the projects following them, and
the replans that move those projects; change events name the replan that made them

Revision ID: 0014
Revises: 0011
Create Date: 2026-12-01 10:58:50.753787
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# service.national.Business as this revision wrote it.
_BUSINESSES = (
    "住民記録", "選挙人名簿管理", "固定資産税", "個人住民税", "法人住民税", "軽自動車税",
    "国民健康保険", "国民年金", "障害者福祉", "後期高齢者医療", "介護保険", "児童手当", "生活保護",
    "健康管理", "就学", "児童扶養手当", "子ども・子育て支援", "印鑑登録", "戸籍", "戸籍の附票",
    "共通",
)  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["organisations.id"],
            name=op.f("fk_templates_owner_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_templates")),
        sa.UniqueConstraint("owner_id", "name", name=op.f("uq_templates_owner_id_name")),
    )
    op.create_table(
        "template_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "draft",
                "published",
                name="version_state",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["templates.id"],
            name=op.f("fk_template_versions_template_id_templates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_template_versions")),
        sa.UniqueConstraint(
            "template_id", "number", name=op.f("uq_template_versions_template_id_number")
        ),
    )
    op.create_table(
        "replans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "previewed",
                "applied",
                name="replan_state",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("edits", sa.JSON(), nullable=True),
        sa.Column("actor_organisation_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_replans_actor_organisation_id_organisations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["templates.id"],
            name=op.f("fk_replans_template_id_templates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["template_versions.id"],
            name=op.f("fk_replans_version_id_template_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_replans")),
    )
    with op.batch_alter_table("replans", schema=None) as batch_op:
        batch_op.create_index("ix_replans_template_id_id", ["template_id", "id"], unique=False)

    op.create_table(
        "template_followers",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("anchor", sa.Date(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_template_followers_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["templates.id"],
            name=op.f("fk_template_followers_template_id_templates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["template_versions.id"],
            name=op.f("fk_template_followers_version_id_template_versions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_template_followers")),
    )
    with op.batch_alter_table("template_followers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_template_followers_template_id", ["template_id", "project_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_template_followers_version_id"), ["version_id"], unique=False
        )

    op.create_table(
        "template_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column(
            "code_key",
            sa.String(length=255).with_variant(sa.String(length=255, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "sort_key",
            sa.String(length=255).with_variant(sa.String(length=255, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("parent_code", sa.String(length=64), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "responsibility",
            sa.Enum(
                "vendor",
                "municipality",
                "joint",
                name="template_responsibility",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("deliverable", sa.Text(), nullable=True),
        sa.Column("step", sa.String(length=8), nullable=True),
        sa.Column(
            "business",
            sa.Enum(
                *_BUSINESSES,
                name="template_business",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=True,
        ),
        sa.Column("predecessors", sa.JSON(), nullable=False),
        sa.Column("start_offset", sa.Integer(), nullable=True),
        sa.Column("end_offset", sa.Integer(), nullable=True),
        sa.Column("start_on", sa.Date(), nullable=True),
        sa.Column("end_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["template_versions.id"],
            name=op.f("fk_template_items_version_id_template_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_template_items")),
        sa.UniqueConstraint(
            "version_id", "code_key", name=op.f("uq_template_items_version_id_code_key")
        ),
    )
    with op.batch_alter_table("template_items", schema=None) as batch_op:
        batch_op.create_index(
            "ix_template_items_version_sort", ["version_id", "sort_key"], unique=False
        )

    op.create_table(
        "replan_projects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("replan_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("from_version", sa.Integer(), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(
                "pending",
                "applied",
                "failed",
                "excluded",
                "up_to_date",
                name="replan_outcome",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("conflicts", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_replan_projects_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["replan_id"],
            ["replans.id"],
            name=op.f("fk_replan_projects_replan_id_replans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_replan_projects")),
        sa.UniqueConstraint(
            "replan_id", "project_id", name=op.f("uq_replan_projects_replan_id_project_id")
        ),
    )
    with op.batch_alter_table("replan_projects", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_replan_projects_project_id"), ["project_id"], unique=False
        )

    with op.batch_alter_table("change_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("replan_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("change_events", schema=None) as batch_op:
        batch_op.drop_column("replan_id")

    with op.batch_alter_table("replan_projects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_replan_projects_project_id"))

    op.drop_table("replan_projects")
    with op.batch_alter_table("template_items", schema=None) as batch_op:
        batch_op.drop_index("ix_template_items_version_sort")

    op.drop_table("template_items")
    with op.batch_alter_table("template_followers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_template_followers_version_id"))
        batch_op.drop_index("ix_template_followers_template_id")

    op.drop_table("template_followers")
    with op.batch_alter_table("replans", schema=None) as batch_op:
        batch_op.drop_index("ix_replans_template_id_id")

    op.drop_table("replans")
    op.drop_table("template_versions")
    op.drop_table("templates")
