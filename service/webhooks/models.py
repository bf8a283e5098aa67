from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    Enum,
    ForeignKey,
    Index,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, BigId, UTCDateTime, utcnow


class Kind(enum.StrEnum):
    webhook = "webhook"
    slack = "slack"
    teams = "teams"
    line_works = "line_works"
    email = "email"


class EventType(enum.StrEnum):
    item_created = "item.created"
    item_updated = "item.updated"
    item_deleted = "item.deleted"
    item_status_changed = "item.status_changed"
    import_completed = "import.completed"
    item_overdue = "item.overdue"
    digest_daily = "digest.daily"
    # Never filtered out: the owner must hear of it, and a test is asked for.
    subscription_disabled = "subscription.disabled"
    test = "webhook.test"


SUBSCRIBABLE = tuple(
    kind for kind in EventType if kind not in (EventType.subscription_disabled, EventType.test)
)


class DeliveryState(enum.StrEnum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"


def _enum(kind: type[enum.StrEnum], name: str, length: int) -> Enum:
    return Enum(
        kind,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda kinds: [k.value for k in kinds],
    )


class Subscription(Base):
    """Where an organisation wants to be told, of what, and how it went lately."""

    __tablename__ = "webhook_subscriptions"
    # An organisation's subscriptions in id order: its list's pages need no sort.
    __table_args__ = (
        Index("ix_webhook_subscriptions_organisation_id_id", "organisation_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[Kind] = mapped_column(_enum(Kind, "webhook_kind", 20))
    # The URL or mail address, encrypted (service.secretbox): chat URLs are credentials.
    target_sealed: Mapped[str] = mapped_column(Text)
    # What may be shown of it (scheme and host, or a masked address), kept beside it so that
    # listing needs no decryption.
    target_hint: Mapped[str] = mapped_column(String(300))
    # Standard Webhooks signing secrets (whsec_…), encrypted; generic webhooks only. The
    # previous one is still used to sign, beside the current one, until it expires.
    secret_sealed: Mapped[str | None] = mapped_column(Text)
    previous_secret_sealed: Mapped[str | None] = mapped_column(Text)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    event_types: Mapped[list[str]] = mapped_column(JSON)
    # Filters; empty means every one the organisation may see.
    project_ids: Mapped[list[int]] = mapped_column(JSON)
    fields: Mapped[list[str]] = mapped_column(JSON)
    responsibilities: Mapped[list[str]] = mapped_column(JSON)
    digest_time: Mapped[str] = mapped_column(String(5), default="08:30")
    due_within_days: Mapped[int] = mapped_column(default=7)
    language: Mapped[str | None] = mapped_column(String(2))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    enabled: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Since when every attempt failed; cleared by a success.
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The feed position up to which change events have been turned into deliveries.
    cursor: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


_PENDING = "state = 'pending'"


class Delivery(Base):
    """One message to one subscription (the outbox): sent in id order, retried until done."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_subscription_id_id", "subscription_id", "id"),
        # The head of each subscription's queue, and what is due: only pending rows, which
        # stay few however long the log grows.
        Index(
            "ix_webhook_deliveries_pending",
            "subscription_id",
            "id",
            postgresql_where=text(_PENDING),
            sqlite_where=text(_PENDING),
        ),
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            postgresql_where=text(_PENDING),
            sqlite_where=text(_PENDING),
        ),
        Index("ix_webhook_deliveries_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")
    )
    # The Standard Webhooks `webhook-id`: the same on every attempt and on a redelivery.
    message_id: Mapped[str] = mapped_column(String(40))
    event_type: Mapped[str] = mapped_column(String(40))
    # The feed position of the change event it tells of, if it tells of one.
    position: Mapped[int | None] = mapped_column(BigInteger)
    # The body as sent: {"type", "timestamp", "data"}, JSON text, the same bytes every attempt.
    payload: Mapped[str] = mapped_column(Text)
    state: Mapped[DeliveryState] = mapped_column(
        _enum(DeliveryState, "delivery_state", 10), default=DeliveryState.pending
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A worker sending it holds it until then; after, another may take it over.
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(40))
    redelivery_of: Mapped[int | None] = mapped_column(BigInteger)
    # A mail to the subscription's contact address (it was disabled), not to its target:
    # sent even though the subscription is disabled, outside its queue's order.
    to_contact: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Attempt(Base):
    """One try at sending a delivery, as the delivery log shows it."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Null while it runs, and for ever if its worker died during it.
    duration_ms: Mapped[int | None]
    succeeded: Mapped[bool | None]
    status_code: Mapped[int | None]
    response_excerpt: Mapped[str | None] = mapped_column(String(500))
    error: Mapped[str | None] = mapped_column(String(300))


class DigestSent(Base):
    """A subscription's daily digest for one local day: made once, whoever runs it."""

    __tablename__ = "webhook_digests"

    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    # Null when there was nothing to say.
    delivery_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OverdueNotice(Base):
    """That an item's `item.overdue` went out, and for which planned end: overdue itself is
    computed, never stored, and a replanned item can become overdue again."""

    __tablename__ = "overdue_notices"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    planned_end: Mapped[date] = mapped_column(Date)
    notified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
