"""Feed positions in commit order, so a client that keeps its cursor never misses an event.

Ids come from a sequence as events are inserted; transactions then commit in another order, so
a reader paging by id could pass over an event that commits later with a smaller id. Instead,
right before a transaction commits, its events take the next positions from a one-row counter.
Updating that row locks it until the commit, so the next writer takes its positions only after
this one's are visible: positions appear in order, with no gap a reader could step over.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, insert, update
from sqlalchemy.orm import Session, sessionmaker

from service.changes.models import ChangeEvent, ChangeField, FeedCounter
from service.db import in_slices

_PENDING = "wbs_pending_change_events"


@dataclass
class PendingEvent:
    event: dict[str, Any]
    fields: list[tuple[str, Any, Any]]


def remember(session: Session, pending: PendingEvent) -> None:
    session.info.setdefault(_PENDING, []).append(pending)


def _assign_positions(session: Session) -> None:
    """Write the transaction's events, numbered from the counter, in two bulk inserts."""
    pending: list[PendingEvent] = session.info.pop(_PENDING, [])
    if not pending:
        return
    session.flush()
    last = session.execute(
        update(FeedCounter)
        .where(FeedCounter.id == 1)
        .values(last_seq=FeedCounter.last_seq + len(pending))
        .returning(FeedCounter.last_seq)
    ).scalar_one_or_none()
    if last is None:
        # The migration creates the row; a database emptied by hand starts the feed again.
        session.add(FeedCounter(id=1, last_seq=len(pending)))
        session.flush()
        last = len(pending)
    first = last - len(pending) + 1
    # In slices: an import's tens of thousands of events, their field rows and the driver's
    # parameters all at once were most of the import's peak memory.
    seq = first
    for part in in_slices(pending):
        ids = session.scalars(
            insert(ChangeEvent).returning(ChangeEvent.id, sort_by_parameter_order=True),
            [{**p.event, "seq": seq + offset} for offset, p in enumerate(part)],
        ).all()
        seq += len(part)
        rows = [
            {"event_id": event_id, "field": name, "old_value": old, "new_value": new}
            for event_id, p in zip(ids, part, strict=True)
            for name, old, new in p.fields
        ]
        if rows:
            session.execute(insert(ChangeField), rows)


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(_PENDING, None)


def install(factory: sessionmaker[Session]) -> None:
    event.listen(factory, "before_commit", _assign_positions)
    event.listen(factory, "after_rollback", _forget)
