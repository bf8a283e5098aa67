"""From the change log to the outbox: each subscription's deliveries, derived from the same
events the change feed hands out, in the same (commit) order.

No route emits anything: every write path (PATCH, bulk push, import, delete, replans) records
its events through `changes.service.record_change`, and this reads them back. Each
subscription keeps a cursor into the feed. A round reads the events after it that the
subscription's organisation may see (through the feed's own visibility rule), writes a
delivery for each it wants, and moves the cursor, in one transaction: a crash before the
commit leaves the cursor where it was, and the next round makes the same deliveries again;
after the commit every delivery exists and the cursor says so. None is lost, none made twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from service.access import Caller, visible_projects
from service.changes.feed import FeedEvent, FeedFilter, read_feed
from service.changes.models import ChangeEvent, ChangeKind, FeedCounter
from service.cursors import feed_cursor
from service.imports.models import ImportRecord
from service.imports.service import to_read
from service.items.models import Item
from service.organisations.models import Organisation
from service.projects.models import Project
from service.webhooks import events
from service.webhooks.models import Delivery, EventType, Subscription
from service.webhooks.signing import new_message_id

# Events read per subscription per round, and subscriptions per round.
PAGE = 500
SUBSCRIPTIONS_PER_ROUND = 20


def organisation_view(organisation: Organisation) -> Caller:
    """The organisation as a caller: a subscription sees exactly what its tokens would."""
    return Caller(
        organisation_id=organisation.id,
        organisation_kind=organisation.kind,
        organisation_code=organisation.code,
        token_id=0,
        token_name="webhooks",
        read_only=True,
    )


def visible_project_ids(session: Session, organisation: Organisation) -> set[int]:
    query = select(Project.id).where(visible_projects(organisation_view(organisation)))
    return set(session.scalars(query))


def feed_head(session: Session) -> int:
    return session.scalar(select(FeedCounter.last_seq).where(FeedCounter.id == 1)) or 0


def delivery_row(
    subscription_id: int,
    event_type: EventType,
    payload: str,
    now: datetime,
    *,
    position: int | None = None,
    to_contact: bool = False,
    message_id: str | None = None,
    redelivery_of: int | None = None,
) -> dict[str, Any]:
    return {
        "subscription_id": subscription_id,
        "message_id": message_id or new_message_id(),
        "event_type": event_type.value,
        "position": position,
        "payload": payload,
        "state": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "to_contact": to_contact,
        "redelivery_of": redelivery_of,
        "created_at": now,
    }


def lock(session: Session, subscription_id: int) -> None:
    """Hold the subscription while adding to its queue, so that its deliveries' ids follow
    the order their transactions commit in (PostgreSQL; SQLite has one writer anyway)."""
    session.execute(
        select(Subscription.id).where(Subscription.id == subscription_id).with_for_update()
    )


def add(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(Delivery), list(rows))


def add_one(session: Session, row: dict[str, Any]) -> Delivery:
    delivery = Delivery(**row)
    session.add(delivery)
    session.flush()
    return delivery


def plan_round(session: Session, now: datetime) -> int:
    """Deliveries for the subscriptions behind the change log; how many were made.

    Several workers share the subscriptions: each takes those no other holds at the moment
    (FOR UPDATE SKIP LOCKED on PostgreSQL).
    """
    head = feed_head(session)
    behind = session.scalars(
        select(Subscription)
        .where(Subscription.enabled, Subscription.cursor < head)
        .order_by(Subscription.cursor)
        .limit(SUBSCRIPTIONS_PER_ROUND)
        .with_for_update(skip_locked=True)
    ).all()
    return sum(_plan(session, subscription, head, now) for subscription in behind)


def _plan(session: Session, subscription: Subscription, head: int, now: datetime) -> int:
    organisation = session.get(Organisation, subscription.organisation_id)
    assert organisation is not None  # the subscription goes with its organisation
    only = subscription.project_ids
    selection = FeedFilter(project_id=only[0]) if len(only) == 1 else FeedFilter()
    found, _ = read_feed(
        session, organisation_view(organisation), subscription.cursor, selection, PAGE + 1
    )
    page, beyond = found[:PAGE], found[PAGE:]
    rows = _deliveries(session, subscription, page, beyond[0] if beyond else None, now)
    add(session, rows)
    # A short page read everything committed up to `head` (its events commit with it).
    last = page[-1].seq if page else 0
    subscription.cursor = last if beyond else max(head, last)
    return len(rows)


def _deliveries(
    session: Session,
    subscription: Subscription,
    page: Sequence[FeedEvent],
    following: FeedEvent | None,
    now: datetime,
) -> list[dict[str, Any]]:
    projects = set(subscription.project_ids)
    chosen = [event for event in page if not projects or event.project_id in projects]
    if not chosen:
        return []
    chosen_projects = select(Project.id, Project.name).where(
        Project.id.in_({event.project_id for event in chosen})
    )
    names: dict[int, str] = {row.id: row.name for row in session.execute(chosen_projects)}
    known = _titles_and_sides(session, {event.item_id for event in chosen})
    rows = []
    for index, event in enumerate(chosen):
        kind = events.change_type(event)
        title, side = known.get(event.item_id, (None, None))
        title = events.value_of(event, "title") or title
        side = events.value_of(event, "responsibility") or side
        if (
            events.wanted(kind, subscription.event_types)
            and events.changed(event, subscription.fields)
            and (not subscription.responsibilities or side in subscription.responsibilities)
        ):
            data = events.change_data(event, names[event.project_id], title, side)
            payload = events.body(kind, event.occurred_at, data)
            rows.append(
                delivery_row(subscription.id, kind, payload, now, position=event.seq or None)
            )
        after = chosen[index + 1] if index + 1 < len(chosen) else following
        if (
            event.source is events.IMPORT_SOURCE
            and EventType.import_completed.value in subscription.event_types
            and _ends_import(event, after)
        ):
            completed = _import_completed(session, subscription, event, names, now)
            if completed is not None:
                rows.append(completed)
    return rows


def _titles_and_sides(
    session: Session, item_ids: set[int]
) -> dict[int, tuple[str | None, str | None]]:
    """Each item's title and responsibility: as it is now, or as its deletion left it."""
    known: dict[int, tuple[str | None, str | None]] = {
        item_id: (title, side.value)
        for item_id, title, side in session.execute(
            select(Item.id, Item.title, Item.responsibility).where(Item.id.in_(item_ids))
        )
    }
    gone = item_ids - set(known)
    if gone:
        deletions = select(ChangeEvent.item_id, ChangeEvent.changes).where(
            ChangeEvent.item_id.in_(gone), ChangeEvent.kind == ChangeKind.deleted
        )
        for item_id, changes in session.execute(deletions):
            old = {name: before for name, before, _ in changes}
            known[item_id] = (old.get("title"), old.get("responsibility"))
    return known


def _ends_import(event: FeedEvent, after: FeedEvent | None) -> bool:
    """Whether `event` is its import's last: an import's events commit together, so they sit
    side by side in the feed, and once one is visible all are."""
    return after is None or after.source is not event.source or after.source_id != event.source_id


def _import_completed(
    session: Session,
    subscription: Subscription,
    last: FeedEvent,
    names: dict[int, str],
    now: datetime,
) -> dict[str, Any] | None:
    record = session.get(ImportRecord, int(last.source_id or 0))
    if record is None:  # its project was deleted since
        return None
    data = {
        **to_read(record).model_dump(mode="json"),
        "project_name": names[last.project_id],
        "position": last.seq,
        "cursor": feed_cursor(last.seq),
    }
    payload = events.body(EventType.import_completed, record.created_at, data)
    return delivery_row(
        subscription.id, EventType.import_completed, payload, now, position=last.seq
    )
