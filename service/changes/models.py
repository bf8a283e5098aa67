from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ColumnElement,
    Enum,
    ForeignKey,
    Index,
    String,
    Text,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, BigId, UTCDateTime, utcnow


class ChangeKind(enum.StrEnum):
    created = "created"
    updated = "updated"
    deleted = "deleted"


class ChangeSource(enum.StrEnum):
    api = "api"
    import_ = "import"
    demo = "demo"


# The partial index on creations serves a query only with this condition written as SQL text.
CREATED_EVENTS = "kind = 'created'"


class ChangeEvent(Base):
    """One create, update or delete of an item, with who did it and through what."""

    __tablename__ = "change_events"
    __table_args__ = (
        Index("ix_change_events_project_id_id", "project_id", "id"),
        Index("ix_change_events_project_id_seq", "project_id", "seq"),
        # An item's history, in commit order either way.
        Index("ix_change_events_item_id_seq", "item_id", "seq"),
        # Where an item's history starts: SQLite hands a deleted item's id to the next item
        # made, and that item's history starts at its own creation.
        Index(
            "ix_change_events_item_created",
            "item_id",
            "seq",
            postgresql_where=text(CREATED_EVENTS),
            sqlite_where=text(CREATED_EVENTS),
        ),
        # The feed's `item=` filter within a project.
        Index("ix_change_events_project_id_item_code_seq", "project_id", "item_code", "seq"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # Position in the change feed, taken from the counter whose row lock orders committing
    # writers (service/changes/sequencing.py): the feed's order is this, never the id.
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    # No foreign key: the history of a deleted item outlives it.
    item_id: Mapped[int] = mapped_column()
    item_code: Mapped[str] = mapped_column(String(64))
    kind: Mapped[ChangeKind] = mapped_column(
        Enum(ChangeKind, name="change_kind", native_enum=False, create_constraint=True, length=10)
    )
    actor_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    actor_label: Mapped[str] = mapped_column(String(200))
    source: Mapped[ChangeSource] = mapped_column(
        Enum(
            ChangeSource,
            name="change_source",
            native_enum=False,
            create_constraint=True,
            length=10,
            values_callable=lambda kinds: [kind.value for kind in kinds],
        )
    )
    source_id: Mapped[str | None] = mapped_column(String(64))
    # The replan the event belongs to (service/templates/): every project's changes of one
    # replan share it. No foreign key: the history outlives the replan's record. No index
    # either: the feed reads events by position, and every import's insert would pay for one.
    replan_id: Mapped[int | None] = mapped_column()
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Every changed field's old and new value, in one document: [[field, old, new], ...].
    # A row per field cost an import of 10,000 items 150,000 rows, and a feed page a
    # thousand rows to read back, for values that are only ever read with their event.
    changes: Mapped[list[list[Any]]] = mapped_column(JSON)
    # The changed fields' names between spaces (" status progress "): the feed's `field`
    # filter matches " status " in it.
    field_names: Mapped[str] = mapped_column(Text)


def listed_names(names: Iterable[str]) -> str:
    """`field_names` for an event changing these fields."""
    return " " + "".join(f"{name} " for name in names)


def changed(field: str) -> ColumnElement[bool]:
    """Events that changed this field."""
    if " " in field:  # no field is named so; it would match two neighbouring names
        return false()
    return ChangeEvent.field_names.contains(f" {field} ", autoescape=True)


class FeedCounter(Base):
    """The last feed position handed out: one row, whose lock orders committing writers."""

    __tablename__ = "change_feed_counter"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
