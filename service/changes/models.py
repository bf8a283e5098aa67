from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Enum, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base, UTCDateTime, utcnow

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
EventId = BigInteger().with_variant(Integer(), "sqlite")


class ChangeKind(enum.StrEnum):
    created = "created"
    updated = "updated"
    deleted = "deleted"


class ChangeSource(enum.StrEnum):
    api = "api"
    import_ = "import"
    demo = "demo"


class ChangeEvent(Base):
    """One create, update or delete of an item, with who did it and through what."""

    __tablename__ = "change_events"
    __table_args__ = (
        Index("ix_change_events_project_id_id", "project_id", "id"),
        Index("ix_change_events_project_id_seq", "project_id", "seq"),
    )

    id: Mapped[int] = mapped_column(EventId, primary_key=True)
    # Position in the change feed, taken from the counter whose row lock orders committing
    # writers (service/changes/sequencing.py): the feed's order is this, never the id.
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    # No foreign key: the history of a deleted item outlives it.
    item_id: Mapped[int] = mapped_column(index=True)
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
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    fields: Mapped[list[ChangeField]] = relationship(
        back_populates="event",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="ChangeField.id",
    )


class FeedCounter(Base):
    """The last feed position handed out: one row, whose lock orders committing writers."""

    __tablename__ = "change_feed_counter"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class ChangeField(Base):
    """One field's old and new value within a change event."""

    __tablename__ = "change_fields"

    id: Mapped[int] = mapped_column(EventId, primary_key=True)
    event_id: Mapped[int] = mapped_column(
        EventId, ForeignKey("change_events.id", ondelete="CASCADE"), index=True
    )
    field: Mapped[str] = mapped_column(String(50), index=True)
    old_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    new_value: Mapped[Any] = mapped_column(JSON, nullable=True)

    event: Mapped[ChangeEvent] = relationship(back_populates="fields")
