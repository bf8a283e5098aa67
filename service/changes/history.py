"""An item's history: its change events in commit order, newest or oldest first, by pages.

Read off the (item, feed position) index: a page costs the same however many events the
project's other items have, and a page after a cursor starts where the index says.
"""

from __future__ import annotations

import enum

from sqlalchemy import func, literal_column, select
from sqlalchemy.orm import Session

from service.changes.feed import change_reads, event_rows, feed_events
from service.changes.models import CREATED_EVENTS, ChangeEvent
from service.changes.schemas import HistoryPage
from service.cursors import feed_cursor, feed_position
from service.errors import NotFound
from service.items.codes import code_key
from service.items.models import Item
from service.projects.models import Project


class HistoryOrder(enum.StrEnum):
    newest = "newest"
    oldest = "oldest"


def item_history(
    session: Session,
    project: Project,
    code: str,
    *,
    order: HistoryOrder,
    cursor: str | None,
    limit: int,
) -> HistoryPage:
    """One page of the events of the item with this code (as `GET item` finds it)."""
    # With where its history starts, from its creation on: SQLite gives a new item the id of
    # the last one deleted, whose events are another item's history. Read with the item, so
    # that the page's query has a plain bound the planner can weigh (a subquery's it cannot).
    created = (
        select(func.coalesce(func.max(ChangeEvent.seq), 0))
        .where(ChangeEvent.item_id == Item.id, literal_column(CREATED_EVENTS))
        .scalar_subquery()
    )
    found = session.execute(
        select(Item.id, created).where(
            Item.project_id == project.id, Item.code_key == code_key(code)
        )
    ).first()
    if found is None:
        raise NotFound(f"item {code!r} not found in project {project.id}")
    item_id, start = found
    query = event_rows().where(ChangeEvent.item_id == item_id, ChangeEvent.seq >= start)
    if order is HistoryOrder.newest:
        if cursor is not None:
            query = query.where(ChangeEvent.seq < feed_position(cursor, "cursor"))
        query = query.order_by(ChangeEvent.seq.desc())
    else:
        query = query.where(ChangeEvent.seq > feed_position(cursor, "cursor"))
        query = query.order_by(ChangeEvent.seq)
    rows = session.execute(query.limit(limit + 1)).all()
    events = feed_events(rows[:limit])
    more = len(rows) > limit
    return HistoryPage.model_validate(
        {
            "items": change_reads(events),
            "next_cursor": feed_cursor(events[-1].seq) if more else None,
        }
    )
