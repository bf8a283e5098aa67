"""Reading the change feed: every committed event after a cursor, in commit order."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, Text, cast, select
from sqlalchemy.orm import Session

from service.access import Caller, visible_projects
from service.changes.models import ChangeEvent, ChangeKind, ChangeSource, changed
from service.changes.schemas import ChangePage
from service.cursors import feed_cursor, feed_position
from service.projects.models import Project


@dataclass(frozen=True)
class FeedFilter:
    project_id: int | None = None
    item_code: str | None = None
    kinds: tuple[ChangeKind, ...] = ()
    field: str | None = None


def position_of(cursor: str | None) -> int:
    return feed_position(cursor)


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """One event as the feed shows it: plain rows, since ORM objects cost a page 3× the time."""

    seq: int
    project_id: int
    item_id: int
    item_code: str
    kind: ChangeKind
    actor_organisation_id: int | None
    actor_label: str
    source: ChangeSource
    source_id: str | None
    replan_id: int | None
    occurred_at: datetime
    fields: list[list[Any]]  # [field, old, new]


_EVENT_COLUMNS = (
    ChangeEvent.seq,
    ChangeEvent.project_id,
    ChangeEvent.item_id,
    ChangeEvent.item_code,
    ChangeEvent.kind,
    ChangeEvent.actor_organisation_id,
    ChangeEvent.actor_label,
    ChangeEvent.source,
    ChangeEvent.source_id,
    ChangeEvent.replan_id,
    ChangeEvent.occurred_at,
    # As the JSON text it is stored as (a cast: PostgreSQL's driver would decode a json column
    # itself), so that a page's documents are decoded in one call.
    cast(ChangeEvent.changes, Text).label("changes"),
)


def read_feed(
    session: Session, caller: Caller, after: int, feed: FeedFilter, limit: int
) -> tuple[list[FeedEvent], bool]:
    """Events after position `after` that the caller may see, and whether more are ready."""
    query = event_rows().where(ChangeEvent.seq > after)
    if feed.project_id is not None:
        # Visibility as a condition checked once, not a join: the events then come straight
        # off the (project, position) index in order, whatever the planner thinks of the join.
        visible = select(Project.id).where(Project.id == feed.project_id, visible_projects(caller))
        query = query.where(ChangeEvent.project_id == feed.project_id, visible.exists())
    else:
        query = query.where(
            ChangeEvent.project_id.in_(select(Project.id).where(visible_projects(caller)))
        )
    if feed.item_code is not None:
        query = query.where(ChangeEvent.item_code == feed.item_code)
    if feed.kinds:
        query = query.where(ChangeEvent.kind.in_(feed.kinds))
    if feed.field is not None:
        query = query.where(changed(feed.field))
    found = session.execute(query.order_by(ChangeEvent.seq).limit(limit + 1)).all()
    return feed_events(found[:limit]), len(found) > limit


def event_rows() -> Select[*tuple[Any, ...]]:
    """The columns a page of events reads, as `feed_events` decodes them."""
    return select(*_EVENT_COLUMNS)


def feed_events(rows: Sequence[Row[Any]]) -> list[FeedEvent]:
    """Rows of `event_rows`, as events."""
    # A page holds a thousand and more values: decoded as one JSON array in one call, not each
    # document through the column type's processor.
    documents = json.loads("[" + ",".join(row.changes for row in rows) + "]")
    return [
        FeedEvent(
            seq=row.seq or 0,
            project_id=row.project_id,
            item_id=row.item_id,
            item_code=row.item_code,
            kind=row.kind,
            actor_organisation_id=row.actor_organisation_id,
            actor_label=row.actor_label,
            source=row.source,
            source_id=row.source_id,
            replan_id=row.replan_id,
            occurred_at=row.occurred_at,
            fields=changes,
        )
        for row, changes in zip(rows, documents, strict=True)
    ]


def page(events: Sequence[FeedEvent], after: int, has_more: bool, field: str | None) -> ChangePage:
    last = events[-1].seq if events else after
    return ChangePage.model_validate(
        {
            "items": change_reads(events, field),
            "next_cursor": feed_cursor(last or 0),
            "has_more": has_more,
        }
    )


def change_reads(events: Sequence[FeedEvent], field: str | None = None) -> list[dict[str, Any]]:
    """Events as plain data shaped as `ChangeRead`, for a page to validate in one call.

    Building a model per event and per field change (a thousand and more a page) cost more
    than the page's queries.
    """
    return [
        {
            "position": event.seq,
            "project_id": event.project_id,
            "item_id": event.item_id,
            "item_code": event.item_code,
            "kind": event.kind,
            "actor": {
                "organisation_id": event.actor_organisation_id,
                "label": event.actor_label,
            },
            "source": event.source,
            "source_id": event.source_id,
            "replan_id": event.replan_id,
            "occurred_at": event.occurred_at,
            "changes": [
                {"field": name, "old": old, "new": new}
                for name, old, new in event.fields
                if field is None or name == field
            ],
        }
        for event in events
    ]
