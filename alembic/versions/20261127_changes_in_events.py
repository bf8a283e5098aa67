"""each event's field changes as one document

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 08:40:00

A row per changed field cost an import of 10,000 items 150,000 rows, and a feed page a
thousand rows to read back: the values are only ever read with their event, so the event
keeps them, as [[field, old, new], ...], with the fields' names beside them for the feed's
`field` filter. Existing rows are carried over in both directions.
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EventId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
BATCH = 5_000

events = sa.table(
    "change_events",
    sa.column("id", EventId),
    sa.column("changes", sa.JSON()),
    sa.column("field_names", sa.Text()),
)
fields = sa.table(
    "change_fields",
    sa.column("id", EventId),
    sa.column("event_id", EventId),
    sa.column("field", sa.String(50)),
    sa.column("old_value", sa.JSON()),
    sa.column("new_value", sa.JSON()),
)


def _event_ids(connection: sa.Connection) -> list[list[int]]:
    ids = list(connection.scalars(sa.select(events.c.id).order_by(events.c.id)))
    return [ids[start : start + BATCH] for start in range(0, len(ids), BATCH)]


def _decoded(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def upgrade() -> None:
    with op.batch_alter_table("change_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("changes", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("field_names", sa.Text(), nullable=True))

    connection = op.get_bind()
    # The values read as their stored JSON text: PostgreSQL's driver would decode json itself.
    stored = sa.select(
        fields.c.event_id,
        fields.c.field,
        sa.cast(fields.c.old_value, sa.Text()),
        sa.cast(fields.c.new_value, sa.Text()),
    )
    for batch in _event_ids(connection):
        documents: dict[int, list[list[Any]]] = {event_id: [] for event_id in batch}
        rows = connection.execute(stored.where(fields.c.event_id.in_(batch)).order_by(fields.c.id))
        for event_id, name, old, new in rows:
            documents[event_id].append([name, _decoded(old), _decoded(new)])
        connection.execute(
            events.update()
            .where(events.c.id == sa.bindparam("event_id"))
            .values(changes=sa.bindparam("document"), field_names=sa.bindparam("names")),
            [
                {
                    "event_id": event_id,
                    "document": document,
                    # As service.changes.models.listed_names writes them; a migration keeps
                    # its own copy, so that later code cannot change what it once did.
                    "names": " " + "".join(f"{name} " for name, _, _ in document),
                }
                for event_id, document in documents.items()
            ],
        )

    with op.batch_alter_table("change_events", schema=None) as batch_op:
        batch_op.alter_column("changes", existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column("field_names", existing_type=sa.Text(), nullable=False)
    with op.batch_alter_table("change_fields", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_change_fields_field"))
        batch_op.drop_index(batch_op.f("ix_change_fields_event_id"))
    op.drop_table("change_fields")


def downgrade() -> None:
    op.create_table(
        "change_fields",
        sa.Column("id", EventId, nullable=False),
        sa.Column("event_id", EventId, nullable=False),
        sa.Column("field", sa.String(length=50), nullable=False),
        sa.Column("old_value", sa.JSON(), nullable=True),
        sa.Column("new_value", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["change_events.id"],
            name=op.f("fk_change_fields_event_id_change_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_fields")),
    )
    with op.batch_alter_table("change_fields", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_change_fields_event_id"), ["event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_change_fields_field"), ["field"], unique=False)

    connection = op.get_bind()
    for batch in _event_ids(connection):
        rows = connection.execute(
            sa.select(events.c.id, events.c.changes)
            .where(events.c.id.in_(batch))
            .order_by(events.c.id)
        )
        values = [
            {"event_id": event_id, "field": name, "old_value": old, "new_value": new}
            for event_id, document in rows
            for name, old, new in document
        ]
        if values:
            connection.execute(fields.insert(), values)

    with op.batch_alter_table("change_events", schema=None) as batch_op:
        batch_op.drop_column("field_names")
        batch_op.drop_column("changes")
