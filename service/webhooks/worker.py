"""`wbs-sync worker`: turns the change log into deliveries, sends them, makes the reminders.

One loop per process: plan (change events → deliveries), claim what is due, send it with up
to `concurrency` in flight, record each result; every half minute, the reminders. The
database work runs in threads, each step in its own short transaction; sending holds none.
Several workers share the work on PostgreSQL (see outbox.py); on SQLite one runs.

The clock and the retry schedule are given, so tests move time on instead of sleeping.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session, sessionmaker

from service import metrics
from service.config import Settings
from service.db import utcnow
from service.secretbox import secret_box
from service.webhooks import digests, outbox, planner
from service.webhooks.delivery import Sender
from service.webhooks.models import Delivery, DeliveryState
from service.webhooks.outbound import Clients, Outcome
from service.webhooks.outbox import Claimed, RetrySchedule, Settled

log = logging.getLogger("wbs_sync.webhooks")
REMINDERS_EVERY = 30.0
SWEEP_EVERY = 3600.0
SWEEP_BATCH = 5000


class Worker:
    def __init__(
        self,
        settings: Settings,
        factory: sessionmaker[Session],
        *,
        now: Callable[[], datetime] = utcnow,
        schedule: RetrySchedule | None = None,
        sender: Sender | None = None,
        concurrency: int = 8,
        worker_id: str | None = None,
    ) -> None:
        self.settings = settings
        self.factory = factory
        self.now = now
        self.schedule = schedule or RetrySchedule(settings.retry_delays)
        self.clients = Clients(settings)
        # Signatures carry the wall clock: a receiver checks them against its own.
        self.sender = sender or Sender(settings, secret_box(settings), self.clients, utcnow)
        self.concurrency = concurrency
        self.id = worker_id or f"{socket.gethostname()[:20]}:{os.getpid()}:{secrets.token_hex(3)}"
        self.lease = timedelta(seconds=settings.webhook_lease_seconds)
        self.disable_after = timedelta(days=settings.webhook_disable_after_days)
        self._in_flight: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._reminded_at = float("-inf")
        self._swept_at = time.monotonic()

    # Each step: one short transaction of its own, run in a thread.

    def plan(self) -> int:
        with self.factory() as session, session.begin():
            return planner.plan_round(session, self.now())

    def claim(self, limit: int) -> list[Claimed]:
        with self.factory() as session, session.begin():
            return outbox.claim(session, self.id, self.now(), self.lease, limit)

    def record(self, claimed: Claimed, outcome: Outcome) -> Settled:
        with self.factory() as session, session.begin():
            return outbox.record(
                session,
                claimed,
                outcome,
                self.id,
                self.now(),
                self.schedule,
                self.disable_after,
                self.lease,
            )

    def remind(self) -> int:
        with self.factory() as session, session.begin():
            return digests.remind(
                session,
                self.now(),
                self.settings.zone,
                self.settings.webhook_overdue_catch_up_days,
                self.settings.public_base,
            )

    def sweep(self) -> int:
        """Finished deliveries older than the log keeps (WBS_WEBHOOK_LOG_DAYS)."""
        cutoff = self.now() - timedelta(days=self.settings.webhook_log_days)
        with self.factory() as session, session.begin():
            old = (
                select(Delivery.id)
                .where(
                    Delivery.created_at < cutoff,
                    or_(
                        Delivery.state == DeliveryState.delivered,
                        Delivery.state == DeliveryState.failed,
                    ),
                )
                .limit(SWEEP_BATCH)
            )
            gone = session.execute(delete(Delivery).where(Delivery.id.in_(old)))
            return int(gone.rowcount)  # type: ignore[attr-defined]

    # The loop.

    async def step(self) -> bool:
        """Plan, remind when due, claim and start sending: whether there was anything to do."""
        busy = await asyncio.to_thread(self.plan) > 0
        if time.monotonic() - self._reminded_at >= REMINDERS_EVERY:
            self._reminded_at = time.monotonic()
            busy = await asyncio.to_thread(self.remind) > 0 or busy
        if time.monotonic() - self._swept_at >= SWEEP_EVERY:
            self._swept_at = time.monotonic()
            await asyncio.to_thread(self.sweep)
        room = self.concurrency - len(self._in_flight)
        if room > 0:
            for claimed in await asyncio.to_thread(self.claim, room):
                busy = True
                task = asyncio.create_task(self._deliver(claimed))
                self._in_flight.add(task)
                task.add_done_callback(self._in_flight.discard)
        return busy

    async def _deliver(self, first: Claimed) -> None:
        """Send, record, and go on with the subscription's next one while they succeed."""
        claimed: Claimed | None = first
        while claimed is not None:
            claimed = await self._attempt(claimed)
        self._wake.set()

    async def _attempt(self, claimed: Claimed) -> Claimed | None:
        try:
            outcome = await self.sender.send(claimed)
        except Exception as error:  # a bug must cost one attempt, not the worker
            log.exception("sending failed unexpectedly")
            outcome = Outcome(False, error=f"internal error: {type(error).__name__}")
        settled = await asyncio.to_thread(self.record, claimed, outcome)
        metrics.WEBHOOK_DELIVERIES.labels(claimed.kind.value, settled.result).inc()
        log.info(
            "delivery attempt",
            extra={
                "fields": {
                    "subscription_id": claimed.subscription_id,
                    "delivery_id": claimed.delivery_id,
                    "event_type": claimed.event_type,
                    "attempt": claimed.attempt,
                    "result": settled.result,
                    "status": outcome.status_code,
                    "duration_ms": outcome.duration_ms,
                    "error": outcome.error,
                }
            },
        )
        return settled.following

    async def run_until_idle(self) -> None:
        """Work until nothing is due or in flight (tests; `wbs-sync webhook digest`)."""
        self._reminded_at = float("-inf")
        try:
            while await self.step() or self._in_flight:
                if self._in_flight:
                    await asyncio.wait(set(self._in_flight), return_when=asyncio.FIRST_COMPLETED)
        finally:
            # Its connections belong to this event loop; the next run makes its own.
            await self.clients.close()

    async def run(self, stop: asyncio.Event) -> None:
        log.info("worker started", extra={"fields": {"worker": self.id}})
        try:
            while not stop.is_set():
                try:
                    busy = await self.step()
                except Exception:
                    # The database away, SQLite locked by a long import: try again shortly.
                    log.exception("worker step failed; retrying")
                    busy = False
                if not busy:
                    self._wake.clear()
                    await _first(stop, self._wake, self.settings.webhook_poll_seconds)
            if self._in_flight:
                # What is being sent finishes (each within its timeout) and is recorded.
                await asyncio.wait(set(self._in_flight))
        finally:
            await self.clients.close()
            log.info("worker stopped", extra={"fields": {"worker": self.id}})


async def _first(stop: asyncio.Event, wake: asyncio.Event, timeout: float) -> None:
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
