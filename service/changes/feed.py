"""Reading the change feed: every committed event after a cursor, in commit order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth import Caller, visible_projects
from service.changes.models import ChangeEvent, ChangeField, ChangeKind
from service.changes.schemas import Actor, ChangePage, ChangeRead, FieldChangeRead
from service.pagination import decode_cursor, encode_cursor
from service.projects.models import Project


@dataclass(frozen=True)
class FeedFilter:
    project_id: int | None = None
    item_code: str | None = None
    kinds: tuple[ChangeKind, ...] = ()
    field: str | None = None


def position_of(cursor: str | None) -> int:
    if cursor is None:
        return 0
    value = decode_cursor(cursor, {"s"})["s"]
    if not isinstance(value, int) or value < 0:
        decode_cursor("", {"s"})
    return int(value)


def read_feed(
    session: Session, caller: Caller, after: int, feed: FeedFilter, limit: int
) -> tuple[list[ChangeEvent], bool]:
    """Events after position `after` that the caller may see, and whether more are ready."""
    query = (
        select(ChangeEvent)
        .where(ChangeEvent.seq > after)
        .where(ChangeEvent.project_id.in_(select(Project.id).where(visible_projects(caller))))
    )
    if feed.project_id is not None:
        query = query.where(ChangeEvent.project_id == feed.project_id)
    if feed.item_code is not None:
        query = query.where(ChangeEvent.item_code == feed.item_code)
    if feed.kinds:
        query = query.where(ChangeEvent.kind.in_(feed.kinds))
    if feed.field is not None:
        query = query.where(
            ChangeEvent.id.in_(select(ChangeField.event_id).where(ChangeField.field == feed.field))
        )
    rows = list(session.scalars(query.order_by(ChangeEvent.seq).limit(limit + 1)))
    return rows[:limit], len(rows) > limit


def page(
    events: Sequence[ChangeEvent], after: int, has_more: bool, field: str | None
) -> ChangePage:
    last = events[-1].seq if events else after
    return ChangePage(
        items=[
            ChangeRead(
                position=event.seq or 0,
                project_id=event.project_id,
                item_id=event.item_id,
                item_code=event.item_code,
                kind=event.kind,
                actor=Actor(organisation_id=event.actor_organisation_id, label=event.actor_label),
                source=event.source,
                source_id=event.source_id,
                occurred_at=event.occurred_at,
                changes=[
                    FieldChangeRead(field=f.field, old=f.old_value, new=f.new_value)
                    for f in event.fields
                    if field is None or f.field == field
                ],
            )
            for event in events
        ],
        next_cursor=encode_cursor({"s": last or 0}),
        has_more=has_more,
    )
