from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base, BinaryOrderString, UTCDateTime, utcnow
from service.national import Business


class Responsibility(enum.StrEnum):
    vendor = "vendor"
    municipality = "municipality"
    joint = "joint"


class Status(enum.StrEnum):
    not_started = "not_started"
    in_progress = "in_progress"
    delayed = "delayed"
    on_hold = "on_hold"
    done = "done"
    not_applicable = "not_applicable"


# Statuses that end an item: it can no longer be overdue, and the national PMO counts both
# as complete.
CLOSED_STATUSES = (Status.done, Status.not_applicable)


_OPEN = "status NOT IN ('done', 'not_applicable')"

item_predecessors = Table(
    "item_predecessors",
    Base.metadata,
    Column("item_id", ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Column("predecessor_id", ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_item_predecessors_predecessor_id", "predecessor_id"),
)


class Item(Base):
    """One WBS work item of a project."""

    __tablename__ = "items"
    __table_args__ = (
        # Look-alike codes (１－２, 1−2, 1-2) are one code: unique as compared, not as written.
        UniqueConstraint("project_id", "code_key"),
        CheckConstraint("progress >= 0 AND progress <= 100", name="progress_range"),
        # Listing in natural code order, and keyset pagination over it.
        Index("ix_items_project_sort", "project_id", "sort_key", "id"),
        # Overdue and due-date filters and reports.
        Index("ix_items_project_planned_end", "project_id", "planned_end"),
        # The overdue report across every project reads only open items by planned end: a
        # partial index keeps it small (closed items are most of a mature WBS) and ordered,
        # in the report's whole order, so that a page after a cursor starts in the index.
        Index(
            "ix_items_open_planned_end",
            "planned_end",
            "project_id",
            "sort_key",
            "id",
            postgresql_where=text(_OPEN),
            sqlite_where=text(_OPEN),
        ),
        Index("ix_items_project_updated_at", "project_id", "updated_at"),
        # The national progress report reads only the items that carry a step.
        Index(
            "ix_items_step",
            "project_id",
            "business",
            "step",
            postgresql_where=text("step IS NOT NULL"),
            sqlite_where=text("step IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    code_key: Mapped[str] = mapped_column(BinaryOrderString)  # service.items.codes.code_key
    sort_key: Mapped[str] = mapped_column(BinaryOrderString)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("items.id", ondelete="RESTRICT"), index=True
    )
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    responsibility: Mapped[Responsibility] = mapped_column(
        Enum(
            Responsibility,
            name="responsibility",
            native_enum=False,
            create_constraint=True,
            length=20,
        )
    )
    assignee: Mapped[str | None] = mapped_column(String(200))
    planned_start: Mapped[date | None] = mapped_column(Date)
    planned_end: Mapped[date | None] = mapped_column(Date)
    actual_start: Mapped[date | None] = mapped_column(Date)
    actual_end: Mapped[date | None] = mapped_column(Date)
    # What a sheet said when it was not an exact day ("10月下旬", "R7年度末"), kept beside it.
    planned_start_text: Mapped[str | None] = mapped_column(String(100))
    planned_end_text: Mapped[str | None] = mapped_column(String(100))
    actual_start_text: Mapped[str | None] = mapped_column(String(100))
    actual_end_text: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[Status] = mapped_column(
        Enum(Status, name="status", native_enum=False, create_constraint=True, length=20),
        default=Status.not_started,
    )
    progress: Mapped[int] = mapped_column(Integer, default=0)
    deliverable: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    # The national procedure's step as `major-sub` ("3-2"), and the business it is run for.
    step: Mapped[str | None] = mapped_column(String(8))
    business: Mapped[Business | None] = mapped_column(
        Enum(
            Business,
            name="business",
            native_enum=False,
            create_constraint=True,
            length=20,
            # The names the procedure gives them, as the API and the sheets write them.
            values_callable=lambda kinds: [kind.value for kind in kinds],
        )
    )
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    parent: Mapped[Item | None] = relationship(remote_side=[id], lazy="raise")
    predecessors: Mapped[list[Item]] = relationship(
        secondary=item_predecessors,
        primaryjoin=id == item_predecessors.c.item_id,
        secondaryjoin=id == item_predecessors.c.predecessor_id,
        lazy="raise",
        order_by=lambda: Item.sort_key,
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
