"""Feed positions in commit order, so a client that keeps its cursor never misses an event.

Ids come from a sequence as events are inserted; transactions then commit in another order, so
a reader paging by id could pass over an event that commits later with a smaller id. Instead,
right before a transaction commits, its events take the next positions from a one-row counter.
Updating that row locks it until the commit, so the next writer takes its positions only after
this one's are visible: positions appear in order, with no gap a reader could step over.

A long transaction (an import of 100,000 rows) does not hold its events until then: every
slice of them is written at once without a position, and numbered, in the order written, as
the transaction commits. Until then no reader can see them: a feed reads positions only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, event, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from service.changes.models import ChangeEvent, FeedCounter, listed_names
from service.db import SLICE, in_slices, insert_rows

# The table, not the ORM class: bulk inserts skip the ORM's machinery, which cost more than
# the database did for an import's tens of thousands of events.
_EVENTS = cast(Table, ChangeEvent.__table__)
_COUNTER = cast(Table, FeedCounter.__table__)
# Built once, on the table: the ORM's bulk UPDATE machinery and building the statement cost a
# single PATCH more than the round trip.
_TAKE_POSITIONS = (
    update(_COUNTER)
    .where(_COUNTER.c.id == 1)
    .values(last_seq=_COUNTER.c.last_seq + bindparam("total"))
    .returning(_COUNTER.c.last_seq)
)
_PENDING = "wbs_pending_change_events"
_UNNUMBERED = "wbs_unnumbered_change_events"


@dataclass
class PendingEvent:
    event: dict[str, Any]
    fields: list[tuple[str, Any, Any]]


def remember(session: Session, pending: PendingEvent) -> None:
    queue: list[PendingEvent] = session.info.setdefault(_PENDING, [])
    queue.append(pending)
    if len(queue) >= SLICE:
        _write(session, queue, None)
        session.info[_UNNUMBERED] = session.info.get(_UNNUMBERED, 0) + len(queue)
        queue.clear()


def _assign_positions(session: Session) -> None:
    """Number the transaction's events from the counter; write those still waiting."""
    pending: list[PendingEvent] = session.info.pop(_PENDING, [])
    unnumbered: int = session.info.pop(_UNNUMBERED, 0)
    total = unnumbered + len(pending)
    if not total:
        return
    session.flush()
    last = session.execute(_TAKE_POSITIONS, {"total": total}).scalar_one_or_none()
    if last is None:
        # The migration creates the row; a database emptied by hand starts the feed again.
        session.add(FeedCounter(id=1, last_seq=total))
        session.flush()
        last = total
    first = last - total + 1
    if unnumbered:
        # Only this transaction's own events lack a position: others' are invisible until
        # they commit, and every commit numbers its own.
        order = (
            select(
                ChangeEvent.id,
                (func.row_number().over(order_by=ChangeEvent.id) + (first - 1)).label("position"),
            )
            .where(ChangeEvent.seq.is_(None))
            .subquery()
        )
        session.execute(
            update(ChangeEvent)
            .where(ChangeEvent.id == order.c.id)
            .values(seq=order.c.position)
            .execution_options(synchronize_session=False)
        )
    _write(session, pending, first + unnumbered)


def _write(session: Session, pending: list[PendingEvent], first: int | None) -> None:
    """Events in bulk; positioned from `first`, or not yet."""
    # In slices: an import's tens of thousands of events and the driver's parameters all at
    # once were most of the import's peak memory.
    seq = first
    for part in in_slices(pending):
        insert_rows(
            session,
            _EVENTS,
            [
                {
                    **p.event,
                    "seq": None if seq is None else seq + offset,
                    "changes": p.fields,
                    "field_names": listed_names(name for name, _, _ in p.fields),
                }
                for offset, p in enumerate(part)
            ],
        )
        if seq is not None:
            seq += len(part)


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_UNNUMBERED, None)


def install(factory: sessionmaker[Session]) -> None:
    event.listen(factory, "before_commit", _assign_positions)
    event.listen(factory, "after_rollback", _forget)
