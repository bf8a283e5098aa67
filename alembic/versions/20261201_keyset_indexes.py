"""indexes in every keyset order: item history, the feed's item filter, side-scoped lists

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 11:00:00

Each list that pages with a cursor gets an index in its whole order (its equality columns,
then its ORDER BY columns), so a page after a cursor starts where the index says and reads
only its own rows: an item's history (`item_id, seq`), the project feed's `item=` filter
(`project_id, item_code, seq`), where an item's history starts (its creation: SQLite reuses a
deleted item's id), the overdue report (the open-items index, now in the report's
whole order), and the lists scoped to one organisation (`…, id`). The single-column indexes
these extend are dropped: every query they served is served by the longer one.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = sa.text("status NOT IN ('done', 'not_applicable')")
_CREATED = sa.text("kind = 'created'")

# (table, dropped index and its columns, created index and its columns)
_EXTENDED = (
    (
        "change_events",
        ("ix_change_events_item_id", ["item_id"]),
        ("ix_change_events_item_id_seq", ["item_id", "seq"]),
    ),
    (
        "projects",
        ("ix_projects_municipality_id", ["municipality_id"]),
        ("ix_projects_municipality_id_id", ["municipality_id", "id"]),
    ),
    (
        "projects",
        ("ix_projects_vendor_id", ["vendor_id"]),
        ("ix_projects_vendor_id_id", ["vendor_id", "id"]),
    ),
    (
        "api_tokens",
        ("ix_api_tokens_organisation_id", ["organisation_id"]),
        ("ix_api_tokens_organisation_id_id", ["organisation_id", "id"]),
    ),
    (
        "webhook_subscriptions",
        ("ix_webhook_subscriptions_organisation_id", ["organisation_id"]),
        ("ix_webhook_subscriptions_organisation_id_id", ["organisation_id", "id"]),
    ),
)


def _open_items_index(columns: list[str]) -> None:
    op.create_index(
        "ix_items_open_planned_end",
        "items",
        columns,
        postgresql_where=_OPEN,
        sqlite_where=_OPEN,
    )


def upgrade() -> None:
    for table, (old, _), (new, columns) in _EXTENDED:
        op.create_index(new, table, columns)
        op.drop_index(old, table_name=table)
    op.create_index(
        "ix_change_events_project_id_item_code_seq",
        "change_events",
        ["project_id", "item_code", "seq"],
    )
    op.create_index(
        "ix_change_events_item_created",
        "change_events",
        ["item_id", "seq"],
        postgresql_where=_CREATED,
        sqlite_where=_CREATED,
    )
    op.drop_index("ix_items_open_planned_end", table_name="items")
    _open_items_index(["planned_end", "project_id", "sort_key", "id"])


def downgrade() -> None:
    op.drop_index("ix_items_open_planned_end", table_name="items")
    _open_items_index(["planned_end", "project_id"])
    op.drop_index("ix_change_events_item_created", table_name="change_events")
    op.drop_index("ix_change_events_project_id_item_code_seq", table_name="change_events")
    for table, (old, old_columns), (new, _) in reversed(_EXTENDED):
        op.create_index(old, table, old_columns)
        op.drop_index(new, table_name=table)
