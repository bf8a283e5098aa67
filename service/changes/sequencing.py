"""Feed positions in commit order, so a client that keeps its cursor never misses an event.

Ids come from a sequence as events are inserted; transactions then commit in another order, so
a reader paging by id could pass over an event that commits later with a smaller id. Instead,
right before a transaction commits, its events take the next positions from a one-row counter.
Updating that row locks it until the commit, so the next writer takes its positions only after
this one's are visible: positions appear in order, with no gap a reader could step over.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, update
from sqlalchemy.orm import Session, sessionmaker

from service.changes.models import ChangeEvent, FeedCounter

_PENDING = "wbs_pending_change_events"


def remember(session: Session, change: ChangeEvent) -> None:
    session.info.setdefault(_PENDING, []).append(change)


def _assign_positions(session: Session) -> None:
    pending: list[ChangeEvent] = session.info.pop(_PENDING, [])
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
    ordered = sorted(pending, key=lambda change: change.id)
    session.execute(
        update(ChangeEvent),
        [{"id": change.id, "seq": first + offset} for offset, change in enumerate(ordered)],
    )


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(_PENDING, None)


def install(factory: sessionmaker[Session]) -> None:
    event.listen(factory, "before_commit", _assign_positions)
    event.listen(factory, "after_rollback", _forget)
