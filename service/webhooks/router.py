from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from service.config import Settings
from service.db import utcnow
from service.deps import CurrentCaller, SessionDep, SettingsDep, WritingCaller
from service.errors import Unprocessable, problem_responses
from service.fields import MAX_ID
from service.pagination import (
    DEFAULT_LIMIT,
    CursorQuery,
    LimitQuery,
    after_id,
    link_next,
    next_id_cursor,
)
from service.routing import OneThreadRoute
from service.secretbox import SecretBox, secret_box
from service.webhooks import service
from service.webhooks.models import DeliveryState
from service.webhooks.schemas import (
    DeliveryPage,
    DeliveryRead,
    DigestNow,
    RedeliverRange,
    RedeliverResult,
    SecretRead,
    SecretRotate,
    Subscribable,
    SubscriptionCreate,
    SubscriptionPage,
    SubscriptionRead,
    SubscriptionUpdate,
)

router = APIRouter(prefix="/webhooks", tags=["webhooks"], route_class=OneThreadRoute)

SubscriptionIdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="Webhook subscription id.")]
DeliveryIdPath = Annotated[int, Path(ge=1, le=2**53, description="Delivery id.")]


def _utc(moment: datetime, settings: Settings, field: str) -> datetime:
    """An instant of the request in UTC; one without zone is WBS_TIMEZONE's."""
    try:
        return (moment if moment.tzinfo else moment.replace(tzinfo=settings.zone)).astimezone(UTC)
    except OverflowError:
        raise Unprocessable.for_field(field, "outside the years this service keeps") from None


def _box(request: Request) -> SecretBox:
    """The server key, read (or made, on SQLite) at first use."""
    box: SecretBox | None = getattr(request.app.state, "secret_box", None)
    if box is None:
        box = request.app.state.secret_box = secret_box(request.app.state.settings)
    return box


@router.post("", status_code=201, responses=problem_responses(401, 403, 409, 422, 429, 503))
def create_webhook(
    request: Request,
    response: Response,
    data: SubscriptionCreate,
    session: SessionDep,
    caller: WritingCaller,
    settings: SettingsDep,
) -> SubscriptionRead:
    """Subscribe: tell a URL, a chat channel or a mailbox of changes and reminders.

    The subscription sees exactly what its organisation may see. Kinds: `webhook` (signed
    Standard Webhooks JSON; read the secret with getWebhookSecret), `slack`, `teams` (Workflows
    webhook, Adaptive Card), `line_works` (Incoming Webhook), `email`. It is told of events
    from now on, in commit order. The target is stored encrypted and shown masked.
    """
    subscription = service.create_subscription(session, caller, data, settings, _box(request))
    response.headers["Location"] = f"{request.url.path}/{subscription.id}"
    return service.to_read(session, subscription, utcnow())


@router.get("", responses=problem_responses(401, 422, 429))
def list_webhooks(
    request: Request,
    response: Response,
    session: SessionDep,
    caller: CurrentCaller,
    organisation_id: int | None = Query(
        None, ge=1, le=MAX_ID, description="PMO: only this organisation's."
    ),
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> SubscriptionPage:
    """List the caller's organisation's subscriptions (the PMO's: every one).

    Disabled ones show why (`disabled_reason`) and since when.
    """
    rows = service.list_subscriptions(
        session, caller, organisation_id=organisation_id, after_id=after_id(cursor), limit=limit
    )
    next_cursor = next_id_cursor(rows, limit)
    link_next(request, response, next_cursor)
    now = utcnow()
    return SubscriptionPage(
        items=[service.to_read(session, row, now) for row in rows], next_cursor=next_cursor
    )


@router.get("/{subscription_id}", responses=problem_responses(401, 404, 422, 429))
def get_webhook(
    subscription_id: SubscriptionIdPath, session: SessionDep, caller: CurrentCaller
) -> SubscriptionRead:
    """Get one subscription.

    Another organisation's answers 404, as one that does not exist.
    """
    subscription = service.get_subscription(session, caller, subscription_id)
    return service.to_read(session, subscription, utcnow())


@router.patch("/{subscription_id}", responses=problem_responses(401, 403, 404, 422, 429, 503))
def update_webhook(
    request: Request,
    subscription_id: SubscriptionIdPath,
    data: SubscriptionUpdate,
    session: SessionDep,
    caller: WritingCaller,
    settings: SettingsDep,
) -> SubscriptionRead:
    """Change a subscription; only what is sent changes.

    `enabled: true` resumes a disabled one where it stopped: what waited is sent, then the
    changes made meanwhile.
    """
    subscription = service.get_subscription(session, caller, subscription_id)
    now = utcnow()
    service.update_subscription(session, caller, subscription, data, settings, _box(request), now)
    return service.to_read(session, subscription, now)


@router.delete(
    "/{subscription_id}", status_code=204, responses=problem_responses(401, 403, 404, 422, 429)
)
def delete_webhook(
    subscription_id: SubscriptionIdPath, session: SessionDep, caller: WritingCaller
) -> Response:
    """Delete a subscription and its delivery log.

    Nothing more is sent to it, not even what was waiting.
    """
    service.delete_subscription(session, service.get_subscription(session, caller, subscription_id))
    return Response(status_code=204)


@router.get(
    "/{subscription_id}/secret", responses=problem_responses(401, 403, 404, 409, 422, 429, 503)
)
def get_webhook_secret(
    request: Request,
    response: Response,
    subscription_id: SubscriptionIdPath,
    session: SessionDep,
    caller: WritingCaller,
) -> SecretRead:
    """Read the signing secret of a `webhook` subscription.

    Needs a writing token: whoever holds the secret can forge deliveries to your receiver.
    During a rotation's overlap the previous secret is shown too.
    """
    response.headers["Cache-Control"] = "no-store"
    subscription = service.get_subscription(session, caller, subscription_id)
    return service.read_secret(subscription, _box(request), utcnow())


@router.post(
    "/{subscription_id}/secret/rotate",
    responses=problem_responses(401, 403, 404, 409, 422, 429, 503),
)
def rotate_webhook_secret(
    request: Request,
    subscription_id: SubscriptionIdPath,
    data: SecretRotate,
    session: SessionDep,
    caller: WritingCaller,
) -> SubscriptionRead:
    """Replace the signing secret.

    For `overlap_hours` (24 by default) every delivery carries two signatures, by the new and
    the old secret, so receivers switch without losing one. Read the new one with
    getWebhookSecret.
    """
    subscription = service.get_subscription(session, caller, subscription_id)
    now = utcnow()
    service.rotate_secret(session, subscription, data.overlap_hours, _box(request), now)
    return service.to_read(session, subscription, now)


@router.post(
    "/{subscription_id}/test",
    status_code=202,
    responses=problem_responses(401, 403, 404, 409, 422, 429),
)
def send_test_webhook(
    subscription_id: SubscriptionIdPath, session: SessionDep, caller: WritingCaller
) -> DeliveryRead:
    """Send a `webhook.test` message.

    Queued behind what is waiting; follow it with getWebhookDelivery.
    """
    subscription = service.get_subscription(session, caller, subscription_id)
    delivery = service.send_test(session, subscription, utcnow())
    return service.delivery_reads(session, [delivery], last_only=False)[0]


@router.post("/{subscription_id}/digest", responses=problem_responses(401, 403, 404, 409, 422, 429))
def send_webhook_digest(
    subscription_id: SubscriptionIdPath,
    session: SessionDep,
    caller: WritingCaller,
    settings: SettingsDep,
) -> DigestNow:
    """Send the subscription's daily digest now, and show what it says.

    Nothing is sent when there is nothing to say (`sent: false`). The scheduled digest still
    goes at its time.
    """
    subscription = service.get_subscription(session, caller, subscription_id)
    data, delivery = service.digest_now(session, subscription, utcnow(), settings)
    read = service.delivery_reads(session, [delivery], last_only=False)[0] if delivery else None
    return DigestNow(sent=delivery is not None, delivery=read, digest=data)


@router.get("/{subscription_id}/deliveries", responses=problem_responses(401, 404, 422, 429))
def list_webhook_deliveries(
    request: Request,
    response: Response,
    subscription_id: SubscriptionIdPath,
    session: SessionDep,
    caller: CurrentCaller,
    state: DeliveryState | None = Query(None, description="Only deliveries in this state."),
    event_type: Subscribable | None = Query(None, description="Only this event type."),
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> DeliveryPage:
    """The delivery log, newest first: each delivery with its last attempt.

    Kept for WBS_WEBHOOK_LOG_DAYS (30) days.
    """
    subscription = service.get_subscription(session, caller, subscription_id)
    rows = service.list_deliveries(
        session,
        subscription,
        state=state,
        event_type=event_type,
        before_id=after_id(cursor),
        limit=limit,
    )
    next_cursor = next_id_cursor(rows, limit)
    link_next(request, response, next_cursor)
    return DeliveryPage(
        items=service.delivery_reads(session, rows, last_only=True), next_cursor=next_cursor
    )


@router.get(
    "/{subscription_id}/deliveries/{delivery_id}", responses=problem_responses(401, 404, 422, 429)
)
def get_webhook_delivery(
    subscription_id: SubscriptionIdPath,
    delivery_id: DeliveryIdPath,
    session: SessionDep,
    caller: CurrentCaller,
) -> DeliveryRead:
    """One delivery with every attempt: when, how long, the status and the answer's start."""
    subscription = service.get_subscription(session, caller, subscription_id)
    delivery = service.get_delivery(session, subscription, delivery_id)
    return service.delivery_reads(session, [delivery], last_only=False)[0]


@router.post(
    "/{subscription_id}/deliveries/{delivery_id}/redeliver",
    status_code=202,
    responses=problem_responses(401, 403, 404, 409, 422, 429),
)
def redeliver_webhook_delivery(
    subscription_id: SubscriptionIdPath,
    delivery_id: DeliveryIdPath,
    session: SessionDep,
    caller: WritingCaller,
) -> DeliveryRead:
    """Send a finished delivery again: the same body and webhook-id, queued at the end."""
    subscription = service.get_subscription(session, caller, subscription_id)
    delivery = service.get_delivery(session, subscription, delivery_id)
    copy = service.redeliver(session, delivery, utcnow())
    return service.delivery_reads(session, [copy], last_only=False)[0]


@router.post(
    "/{subscription_id}/redeliver",
    status_code=202,
    responses=problem_responses(401, 403, 404, 422, 429),
)
def redeliver_webhook_deliveries(
    subscription_id: SubscriptionIdPath,
    data: RedeliverRange,
    session: SessionDep,
    caller: WritingCaller,
    settings: SettingsDep,
) -> RedeliverResult:
    """Send again every delivery of a time range that gave up (or every one), in order.

    For a receiver that was down past the retry schedule. At most 10,000 per call. A time
    without zone is WBS_TIMEZONE.
    """
    subscription = service.get_subscription(session, caller, subscription_id)
    now = utcnow()
    since, until = (_utc(moment, settings, name) for moment, name in
                    ((data.since, "since"), (data.until or now, "until")))  # fmt: skip
    queued, truncated = service.redeliver_range(
        session,
        subscription,
        since,
        until,
        only_failed=data.only_failed,
        now=now,
    )
    return RedeliverResult(queued=queued, truncated=truncated)
