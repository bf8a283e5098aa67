"""The delivery queue as /metrics shows it, read from the database at each scrape: the same
whichever process answers, and still reported when no worker is running to report it."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from service.db import utcnow
from service.webhooks.models import Delivery, DeliveryState, Subscription

log = logging.getLogger(__name__)


class QueueCollector(Collector):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        enabled = select(Subscription.id).where(Subscription.enabled)
        try:
            with self.engine.connect() as connection:
                depth, oldest = connection.execute(
                    select(func.count(), func.min(Delivery.created_at)).where(
                        Delivery.state == DeliveryState.pending,
                        Delivery.subscription_id.in_(enabled),
                    )
                ).one()
                disabled = connection.scalar(
                    select(func.count()).select_from(Subscription).where(~Subscription.enabled)
                )
        except SQLAlchemyError:
            log.warning("the webhook queue could not be read for /metrics")
            return
        yield GaugeMetricFamily(
            "wbs_webhook_queue_depth",
            "Deliveries waiting to be sent (of enabled subscriptions).",
            value=depth,
        )
        # min() keeps the column's type: an aware UTC datetime on both databases.
        age = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
        yield GaugeMetricFamily(
            "wbs_webhook_oldest_pending_seconds",
            "Age of the oldest delivery waiting to be sent; 0 when none waits.",
            value=max(0.0, age),
        )
        yield GaugeMetricFamily(
            "wbs_webhook_subscriptions_disabled",
            "Subscriptions disabled (410 Gone, days of failures, or by a person).",
            value=disabled or 0,
        )
