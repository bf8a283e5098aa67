"""Sending the outbox: which delivery goes next, who sends it, and what its attempt means.

Order: a subscription's deliveries go one at a time, in id order (the order their events
committed in); the next waits until the one before it succeeded or gave up.

Claims: a worker takes the first waiting delivery of a subscription by writing a lease on it
(until when it is its, and whose) and the attempt it starts, in one short transaction; on
PostgreSQL the rows are picked with FOR UPDATE SKIP LOCKED, so workers never take the same
one, and the lease keeps it theirs while they send with no transaction open. The lease is
longer than a delivery may take (WBS_WEBHOOK_LEASE_SECONDS > the timeout), so a delivery is
never sent twice at once; a worker killed mid-send leaves its lease to run out, and the next
worker sends the same delivery again, with the same webhook-id.

Results: a worker writes its attempt's result only while its lease still stands. A success
is final (never sent again, whatever restarts); a failure waits for the next time of the
schedule, or, once the schedule is spent, gives up (the next delivery moves up; a person may
redeliver it). A 410 Gone disables the subscription at once; so do N days of nothing but
failures. Either way its owner is told.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.orm import Session

from service.webhooks import events
from service.webhooks.models import (
    Attempt,
    Delivery,
    DeliveryState,
    EventType,
    Kind,
    Subscription,
)
from service.webhooks.outbound import EXCERPT_CHARS, Outcome
from service.webhooks.planner import add, delivery_row, lock

# Longest wait a Retry-After may ask for.
MAX_RETRY_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class RetrySchedule:
    """Seconds before each attempt: [0] before the first, then one per retry. Each wait after
    the first gets up to `jitter` more, so receivers that fail together are not retried
    together."""

    delays: tuple[float, ...]
    jitter: float = 0.2
    draw: Callable[[], float] = random.random

    @property
    def first(self) -> timedelta:
        return timedelta(seconds=self.delays[0] if self.delays else 0)

    def after(self, attempts_made: int) -> timedelta | None:
        """The wait before the next attempt, or None once the schedule is spent."""
        if attempts_made >= len(self.delays):
            return None
        base = self.delays[attempts_made]
        return timedelta(seconds=base * (1 + self.jitter * self.draw()))


@dataclass(frozen=True)
class Claimed:
    """A delivery a worker holds, with what sending it needs."""

    delivery_id: int
    attempt_id: int
    attempt: int
    subscription_id: int
    kind: Kind
    to_contact: bool
    target_sealed: str
    contact_email: str | None
    secrets_sealed: tuple[str, ...]
    message_id: str
    event_type: str
    payload: str
    language: str | None


def _heads(subscription_id: int | None) -> Select[int]:
    """The first waiting delivery of each subscription's queue (contact mails stand apart).

    One pass over the waiting rows' index, grouped: compared row by row with a correlated
    minimum, a claim cost as much as the queue was long (4,000 waiting: most of a worker's
    time).
    """
    query = select(func.min(Delivery.id)).where(
        Delivery.state == DeliveryState.pending, Delivery.to_contact.is_(False)
    )
    if subscription_id is not None:
        return query.where(Delivery.subscription_id == subscription_id)
    return query.group_by(Delivery.subscription_id)


def claim(
    session: Session,
    worker: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    *,
    subscription_id: int | None = None,
) -> list[Claimed]:
    """Up to `limit` due deliveries, each the head of its subscription's queue (or of one
    subscription's, after its last delivery succeeded), leased to `worker`."""
    free = or_(Delivery.leased_until.is_(None), Delivery.leased_until < now)
    due = and_(Delivery.state == DeliveryState.pending, Delivery.next_attempt_at <= now, free)
    enabled = select(Subscription.id).where(Subscription.enabled)
    heads = and_(
        Delivery.to_contact.is_(False),
        Delivery.subscription_id.in_(enabled),
        Delivery.id.in_(_heads(subscription_id)),
    )
    query = select(Delivery).where(due)
    if subscription_id is None:
        query = query.where(or_(heads, Delivery.to_contact.is_(True)))
    else:
        query = query.where(heads, Delivery.subscription_id == subscription_id)
    chosen = session.scalars(
        query.order_by(Delivery.next_attempt_at)
        .limit(limit)
        .with_for_update(of=Delivery, skip_locked=True)
    ).all()
    if not chosen:
        return []
    subscriptions = {
        s.id: s
        for s in session.scalars(
            select(Subscription).where(Subscription.id.in_({d.subscription_id for d in chosen}))
        )
    }
    claimed = []
    for delivery in chosen:
        # On SQLite, which has no row locks, the lease itself is the claim: written only if
        # still free, and the write waits for the one database lock.
        taken = session.execute(
            update(Delivery)
            .where(Delivery.id == delivery.id, due)
            .values(
                leased_until=now + lease,
                lease_owner=worker,
                attempts=Delivery.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            continue
        number = delivery.attempts + 1
        attempt = Attempt(delivery_id=delivery.id, number=number, started_at=now)
        session.add(attempt)
        session.flush()
        subscription = subscriptions[delivery.subscription_id]
        claimed.append(
            Claimed(
                delivery_id=delivery.id,
                attempt_id=attempt.id,
                attempt=number,
                subscription_id=subscription.id,
                kind=subscription.kind,
                to_contact=delivery.to_contact,
                target_sealed=subscription.target_sealed,
                contact_email=subscription.contact_email,
                secrets_sealed=_signing_secrets(subscription, now),
                message_id=delivery.message_id,
                event_type=delivery.event_type,
                payload=delivery.payload,
                language=subscription.language,
            )
        )
    return claimed


def _signing_secrets(subscription: Subscription, now: datetime) -> tuple[str, ...]:
    if subscription.secret_sealed is None:
        return ()
    overlapping = (
        subscription.previous_secret_sealed is not None
        and subscription.previous_secret_expires_at is not None
        and subscription.previous_secret_expires_at > now
    )
    if overlapping:
        assert subscription.previous_secret_sealed is not None
        return (subscription.secret_sealed, subscription.previous_secret_sealed)
    return (subscription.secret_sealed,)


@dataclass(frozen=True)
class Settled:
    """What recording an attempt decided, for the worker's metrics and log."""

    result: str  # delivered | retrying | gave_up | disabled | lost_lease
    next_attempt_at: datetime | None = None
    # After a success, the subscription's next delivery, already claimed in the same
    # transaction: it goes at once, without a round of its own.
    following: Claimed | None = None


def record(
    session: Session,
    claimed: Claimed,
    outcome: Outcome,
    worker: str,
    now: datetime,
    schedule: RetrySchedule,
    disable_after: timedelta,
    lease: timedelta | None = None,
) -> Settled:
    session.execute(
        update(Attempt)
        .where(Attempt.id == claimed.attempt_id)
        .values(
            duration_ms=outcome.duration_ms,
            succeeded=outcome.succeeded,
            status_code=outcome.status_code,
            response_excerpt=(outcome.excerpt or None) and outcome.excerpt[:EXCERPT_CHARS],
            error=outcome.error,
        )
    )
    delivery = session.get(Delivery, claimed.delivery_id, with_for_update=True)
    if (
        delivery is None
        or delivery.lease_owner != worker
        or delivery.state is not DeliveryState.pending
    ):
        # Its lease ran out and another worker took it over: that one's result counts.
        return Settled("lost_lease")
    delivery.leased_until = None
    delivery.lease_owner = None
    subscription = session.get(Subscription, delivery.subscription_id, with_for_update=True)
    assert subscription is not None
    if outcome.succeeded:
        delivery.state = DeliveryState.delivered
        delivery.finished_at = now
        if delivery.to_contact or lease is None:
            return Settled("delivered")
        subscription.failing_since = None
        session.flush()
        following = claim(session, worker, now, lease, 1, subscription_id=subscription.id)
        return Settled("delivered", following=following[0] if following else None)
    if not delivery.to_contact:
        subscription.failing_since = subscription.failing_since or now
    wait = schedule.after(delivery.attempts)
    if outcome.retry_after is not None and wait is not None:
        wait = max(wait, min(timedelta(seconds=outcome.retry_after), MAX_RETRY_AFTER))
    if outcome.gone and not delivery.to_contact:
        # Kept waiting, not failed: enabled again, the subscription resumes with it.
        delivery.next_attempt_at = now + (wait or schedule.first)
        disable(session, subscription, "the target answered 410 Gone", now)
        return Settled("disabled")
    if wait is None:
        delivery.state = DeliveryState.failed
        delivery.finished_at = now
        result = "gave_up"
    else:
        delivery.next_attempt_at = now + wait
        result = "retrying"
    if (
        not delivery.to_contact
        and subscription.enabled
        and subscription.failing_since is not None
        and now - subscription.failing_since >= disable_after
    ):
        days = disable_after.total_seconds() / 86400
        disable(session, subscription, f"every delivery failed for {days:g} days", now)
        return Settled("disabled")
    return Settled(result, delivery.next_attempt_at if wait is not None else None)


def disable(session: Session, subscription: Subscription, reason: str, now: datetime) -> None:
    """Stop a subscription, and tell its owner: a mail to its contact, if it has one, and an
    event on the organisation's other subscriptions. Never silently."""
    subscription.enabled = False
    subscription.disabled_reason = reason[:300]
    subscription.disabled_at = now
    data = {
        "subscription_id": subscription.id,
        "name": subscription.name,
        "kind": subscription.kind.value,
        "target": subscription.target_hint,
        "reason": reason,
        "disabled_at": events.timestamp(now),
        "failing_since": subscription.failing_since
        and events.timestamp(subscription.failing_since),
    }
    payload = events.body(EventType.subscription_disabled, now, data)
    if subscription.contact_email:
        add(
            session,
            [delivery_row(subscription.id, EventType.subscription_disabled, payload, now,
                          to_contact=True)],
        )  # fmt: skip
    others: Sequence[int] = session.scalars(
        select(Subscription.id).where(
            Subscription.organisation_id == subscription.organisation_id,
            Subscription.id != subscription.id,
            Subscription.enabled,
        )
    ).all()
    for other in others:
        lock(session, other)
        add(session, [delivery_row(other, EventType.subscription_disabled, payload, now)])
