"""Subscriptions and their delivery logs: the rules behind /api/v1/webhooks. Flushes, never
commits."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.access import Caller
from service.config import Settings
from service.errors import Conflict, Forbidden, NotFound, Unprocessable
from service.items.fields import EVENT_ORDER
from service.organisations.models import Organisation
from service.organisations.schemas import OrganisationRef
from service.secretbox import SecretBox
from service.webhooks import digests, events
from service.webhooks.models import (
    SUBSCRIBABLE,
    Attempt,
    Delivery,
    DeliveryState,
    EventType,
    Kind,
    Subscription,
)
from service.webhooks.planner import (
    add,
    add_one,
    delivery_row,
    feed_head,
    lock,
    visible_project_ids,
)
from service.webhooks.schemas import (
    AttemptRead,
    DeliveryRead,
    DigestData,
    SecretRead,
    SubscriptionCreate,
    SubscriptionRead,
    SubscriptionUpdate,
)
from service.webhooks.signing import new_secret
from service.webhooks.targets import TargetRefused, check_target, hint

# Enough for every channel a town or vendor has; a bound on what one organisation can add.
MAX_PER_ORGANISATION = 50
MAX_REDELIVERED = 10_000
# What a change event may list, and so what a subscription may filter on.
ITEM_FIELDS = frozenset(EVENT_ORDER)


def _visible(
    caller: Caller, subscription: Subscription | None, subscription_id: int
) -> Subscription:
    if subscription is None or not (
        caller.is_pmo or subscription.organisation_id == caller.organisation_id
    ):
        raise NotFound(f"webhook subscription {subscription_id} not found")
    return subscription


def get_subscription(session: Session, caller: Caller, subscription_id: int) -> Subscription:
    return _visible(caller, session.get(Subscription, subscription_id), subscription_id)


def list_subscriptions(
    session: Session, caller: Caller, *, organisation_id: int | None, after_id: int, limit: int
) -> list[Subscription]:
    query = select(Subscription).where(Subscription.id > after_id)
    if not caller.is_pmo:
        query = query.where(Subscription.organisation_id == caller.organisation_id)
    elif organisation_id is not None:
        query = query.where(Subscription.organisation_id == organisation_id)
    return list(session.scalars(query.order_by(Subscription.id).limit(limit)))


def _checked_target(kind: Kind, target: str, settings: Settings) -> str:
    try:
        return check_target(kind, target, settings)
    except TargetRefused as refused:
        raise Unprocessable.for_field("target", str(refused)) from None


def _check_filters(
    session: Session,
    organisation: Organisation,
    project_ids: list[int],
    fields: list[str],
) -> None:
    unknown = sorted(set(fields) - ITEM_FIELDS)
    if unknown:
        raise Unprocessable.for_field(
            "fields", f"not item fields: {', '.join(unknown)} (e.g. status, planned_end)"
        )
    if project_ids:
        unseen = sorted(set(project_ids) - visible_project_ids(session, organisation))
        if unseen:
            raise Unprocessable.for_field(
                "project_ids",
                f"no project {', '.join(map(str, unseen))} among those {organisation.code} may see",
            )


def create_subscription(
    session: Session,
    caller: Caller,
    data: SubscriptionCreate,
    settings: Settings,
    box: SecretBox,
) -> Subscription:
    organisation_id = data.organisation_id or caller.organisation_id
    if organisation_id != caller.organisation_id and not caller.is_pmo:
        raise Forbidden("only the PMO may set up subscriptions for another organisation")
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise Unprocessable.for_field(
            "organisation_id", f"no organisation with id {organisation_id}"
        )
    existing = session.scalars(
        select(Subscription.id).where(Subscription.organisation_id == organisation_id)
    ).all()
    if len(existing) >= MAX_PER_ORGANISATION:
        raise Conflict(f"an organisation has at most {MAX_PER_ORGANISATION} subscriptions")
    target = _checked_target(data.kind, data.target, settings)
    _check_filters(session, organisation, data.project_ids, data.fields)
    types: list[str] = (
        [EventType.digest_daily.value]
        if data.kind is Kind.email
        else [kind.value for kind in SUBSCRIBABLE]
    )
    if data.event_types is not None:
        types = list(dict.fromkeys(data.event_types))
    subscription = Subscription(
        organisation_id=organisation_id,
        name=data.name,
        kind=data.kind,
        target_sealed=box.seal(target),
        target_hint=hint(data.kind, target),
        secret_sealed=box.seal(new_secret()) if data.kind is Kind.webhook else None,
        event_types=types,
        project_ids=sorted(set(data.project_ids)),
        fields=sorted(set(data.fields)),
        responsibilities=sorted({side.value for side in data.responsibilities}),
        digest_time=data.digest_time,
        due_within_days=data.due_within_days,
        language=data.language,
        contact_email=data.contact_email,
        enabled=data.enabled,
        disabled_reason=None if data.enabled else f"created disabled by {caller.label}",
        # Told of what happens from now on, not of the past.
        cursor=feed_head(session),
    )
    session.add(subscription)
    session.flush()
    return subscription


def update_subscription(
    session: Session,
    caller: Caller,
    subscription: Subscription,
    data: SubscriptionUpdate,
    settings: Settings,
    box: SecretBox,
    now: datetime,
) -> Subscription:
    sent = data.model_fields_set
    for name in sorted(sent):
        if getattr(data, name) is None and name not in ("language", "contact_email"):
            raise Unprocessable.for_field(name, "may be left out, not null")
    organisation = session.get(Organisation, subscription.organisation_id)
    assert organisation is not None
    _check_filters(
        session,
        organisation,
        data.project_ids if "project_ids" in sent else [],
        data.fields if "fields" in sent else [],
    )
    if "target" in sent:
        target = _checked_target(subscription.kind, data.target, settings)
        subscription.target_sealed = box.seal(target)
        subscription.target_hint = hint(subscription.kind, target)
    if "name" in sent:
        subscription.name = data.name
    if "event_types" in sent:
        subscription.event_types = list(dict.fromkeys(data.event_types))
    if "project_ids" in sent:
        subscription.project_ids = sorted(set(data.project_ids))
    if "fields" in sent:
        subscription.fields = sorted(set(data.fields))
    if "responsibilities" in sent:
        subscription.responsibilities = sorted({side.value for side in data.responsibilities})
    for name in ("digest_time", "due_within_days", "language", "contact_email"):
        if name in sent:
            setattr(subscription, name, getattr(data, name))
    if "enabled" in sent and data.enabled != subscription.enabled:
        if data.enabled:
            _resume(session, subscription, now)
        else:
            subscription.enabled = False
            subscription.disabled_reason = f"disabled by {caller.label}"
            subscription.disabled_at = now
    subscription.updated_at = now
    session.flush()
    return subscription


def _resume(session: Session, subscription: Subscription, now: datetime) -> None:
    """Enabled again: waiting deliveries go now, and the events since it stopped follow."""
    subscription.enabled = True
    subscription.disabled_reason = None
    subscription.disabled_at = None
    subscription.failing_since = None
    session.execute(
        update(Delivery)
        .where(
            Delivery.subscription_id == subscription.id,
            Delivery.state == DeliveryState.pending,
            Delivery.next_attempt_at > now,
        )
        .values(next_attempt_at=now)
    )


def delete_subscription(session: Session, subscription: Subscription) -> None:
    session.delete(subscription)
    session.flush()


def rotate_secret(
    session: Session, subscription: Subscription, overlap_hours: int, box: SecretBox, now: datetime
) -> Subscription:
    if subscription.kind is not Kind.webhook or subscription.secret_sealed is None:
        raise Conflict("only `webhook` subscriptions are signed, so only they have a secret")
    subscription.previous_secret_sealed = subscription.secret_sealed if overlap_hours else None
    subscription.previous_secret_expires_at = (
        now + timedelta(hours=overlap_hours) if overlap_hours else None
    )
    subscription.secret_sealed = box.seal(new_secret())
    subscription.updated_at = now
    session.flush()
    return subscription


def read_secret(subscription: Subscription, box: SecretBox, now: datetime) -> SecretRead:
    if subscription.secret_sealed is None:
        raise Conflict("only `webhook` subscriptions are signed, so only they have a secret")
    overlapping = (
        subscription.previous_secret_sealed is not None
        and subscription.previous_secret_expires_at is not None
        and subscription.previous_secret_expires_at > now
    )
    return SecretRead(
        secret=box.open(subscription.secret_sealed),
        previous_secret=(
            box.open(subscription.previous_secret_sealed)
            if overlapping and subscription.previous_secret_sealed
            else None
        ),
        previous_secret_expires_at=subscription.previous_secret_expires_at if overlapping else None,
    )


def send_test(session: Session, subscription: Subscription, now: datetime) -> Delivery:
    if not subscription.enabled:
        raise Conflict("the subscription is disabled: enable it, then test it")
    data = {
        "subscription_id": subscription.id,
        "name": subscription.name,
        "message": "wbs-sync test message",
    }
    lock(session, subscription.id)
    payload = events.body(EventType.test, now, data)
    return add_one(session, delivery_row(subscription.id, EventType.test, payload, now))


def digest_now(
    session: Session, subscription: Subscription, now: datetime, settings: Settings
) -> tuple[DigestData, Delivery | None]:
    """The digest as it would go out today, queued unless it has nothing to say."""
    organisation = session.get(Organisation, subscription.organisation_id)
    assert organisation is not None
    local_day = now.astimezone(settings.zone).date()
    data = digests.digest_data(session, subscription, organisation, local_day, settings.public_base)
    if not digests.has_news(data):
        return data, None
    if not subscription.enabled:
        raise Conflict("the subscription is disabled: enable it, then send its digest")
    delivery_id = digests.queue_digest(session, subscription, data, now)
    return data, session.get(Delivery, delivery_id)


def list_deliveries(
    session: Session,
    subscription: Subscription,
    *,
    state: DeliveryState | None,
    event_type: str | None,
    before_id: int,
    limit: int,
) -> list[Delivery]:
    query = select(Delivery).where(Delivery.subscription_id == subscription.id)
    if before_id:
        query = query.where(Delivery.id < before_id)
    if state is not None:
        query = query.where(Delivery.state == state)
    if event_type is not None:
        query = query.where(Delivery.event_type == event_type)
    return list(session.scalars(query.order_by(Delivery.id.desc()).limit(limit)))


def get_delivery(session: Session, subscription: Subscription, delivery_id: int) -> Delivery:
    delivery = session.get(Delivery, delivery_id)
    if delivery is None or delivery.subscription_id != subscription.id:
        raise NotFound(f"delivery {delivery_id} not found for subscription {subscription.id}")
    return delivery


def _copy(delivery: Delivery, now: datetime) -> dict[str, object]:
    """The same message again, same webhook-id and body, at the end of the queue."""
    return delivery_row(
        delivery.subscription_id,
        EventType(delivery.event_type),
        delivery.payload,
        now,
        position=delivery.position,
        message_id=delivery.message_id,
        redelivery_of=delivery.id,
    )


def redeliver(session: Session, delivery: Delivery, now: datetime) -> Delivery:
    if delivery.state is DeliveryState.pending:
        raise Conflict(f"delivery {delivery.id} is still waiting to be sent")
    lock(session, delivery.subscription_id)
    return add_one(session, _copy(delivery, now))


def redeliver_range(
    session: Session,
    subscription: Subscription,
    since: datetime,
    until: datetime,
    *,
    only_failed: bool,
    now: datetime,
) -> tuple[int, bool]:
    states = (
        [DeliveryState.failed] if only_failed else [DeliveryState.failed, DeliveryState.delivered]
    )
    found = list(
        session.scalars(
            select(Delivery)
            .where(
                Delivery.subscription_id == subscription.id,
                Delivery.created_at >= since,
                Delivery.created_at < until,
                Delivery.state.in_(states),
                Delivery.to_contact.is_(False),
            )
            .order_by(Delivery.id)
            .limit(MAX_REDELIVERED + 1)
        )
    )
    chosen = found[:MAX_REDELIVERED]
    lock(session, subscription.id)
    add(session, [_copy(delivery, now) for delivery in chosen])
    return len(chosen), len(found) > MAX_REDELIVERED


def to_read(session: Session, subscription: Subscription, now: datetime) -> SubscriptionRead:
    organisation = session.get(Organisation, subscription.organisation_id)
    expires = subscription.previous_secret_expires_at
    return SubscriptionRead(
        id=subscription.id,
        organisation=OrganisationRef.model_validate(organisation),
        name=subscription.name,
        kind=subscription.kind,
        target=subscription.target_hint,
        event_types=subscription.event_types,
        project_ids=subscription.project_ids,
        fields=subscription.fields,
        responsibilities=subscription.responsibilities,  # type: ignore[arg-type]
        digest_time=subscription.digest_time,
        due_within_days=subscription.due_within_days,
        language=subscription.language,
        contact_email=subscription.contact_email,
        enabled=subscription.enabled,
        disabled_reason=subscription.disabled_reason,
        disabled_at=subscription.disabled_at,
        failing_since=subscription.failing_since,
        signed=subscription.secret_sealed is not None,
        previous_secret_expires_at=expires if expires is not None and expires > now else None,
        created_at=subscription.created_at,
        updated_at=subscription.updated_at,
    )


def delivery_reads(
    session: Session, deliveries: list[Delivery], *, last_only: bool
) -> list[DeliveryRead]:
    attempts: dict[int, list[Attempt]] = defaultdict(list)
    if deliveries:
        for attempt in session.scalars(
            select(Attempt)
            .where(Attempt.delivery_id.in_([d.id for d in deliveries]))
            .order_by(Attempt.delivery_id, Attempt.number)
        ):
            attempts[attempt.delivery_id].append(attempt)
    return [
        DeliveryRead(
            id=d.id,
            subscription_id=d.subscription_id,
            message_id=d.message_id,
            event_type=d.event_type,
            position=d.position,
            state=d.state,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at,
            created_at=d.created_at,
            finished_at=d.finished_at,
            redelivery_of=d.redelivery_of,
            attempt_log=[
                AttemptRead.model_validate(a)
                for a in (attempts[d.id][-1:] if last_only else attempts[d.id])
            ],
        )
        for d in deliveries
    ]
