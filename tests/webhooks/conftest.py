from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from service.config import Settings
from service.db import utcnow
from service.sessions import create_session_factory
from service.webhooks.outbox import RetrySchedule
from service.webhooks.worker import Worker
from tests.conftest import World
from tests.webhooks.receivers import Mailbox, smtp_server


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as mailbox:
        yield mailbox


@pytest.fixture
def settings(settings: Settings, mailbox: Mailbox) -> Settings:
    """Receivers run on loopback over http, so the tests allow both; one test turns them off."""
    return settings.model_copy(
        update={
            "webhook_allow_http": True,
            "webhook_allow_private_addresses": True,
            "webhook_retry_schedule": "0,5,300",
            "webhook_timeout_seconds": 5.0,
            "smtp_host": mailbox.host,
            "smtp_port": mailbox.port,
            "smtp_starttls": False,
            "smtp_sender": "wbs-sync@example.jp",
            "web_public_url": "https://wbs.example.jp",
        }
    )


@dataclass
class Clock:
    """The time, moved on by a test when it wants retries due: nobody sleeps for them."""

    ahead: timedelta = timedelta()

    def now(self) -> datetime:
        return utcnow() + self.ahead

    def advance(self, **delta: float) -> None:
        self.ahead += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def worker(settings: Settings, engine: Engine, clock: Clock) -> Worker:
    return Worker(
        settings,
        create_session_factory(engine),
        now=clock.now,
        schedule=RetrySchedule(settings.retry_delays, jitter=0),
    )


def drain(worker: Worker) -> None:
    """Let the worker do everything that is due now, and wait until it has.

    In a thread of its own, with an event loop of its own: the page tests' browser keeps one
    running in this thread for the whole session.
    """
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(asyncio.run, worker.run_until_idle()).result()


Subscribe = Callable[..., dict[str, Any]]


@pytest.fixture
def subscribe(client: TestClient, world: World) -> Subscribe:
    def make(who: str = "town_a", **body: Any) -> dict[str, Any]:
        body.setdefault("name", f"{who} hook")
        body.setdefault("kind", "webhook")
        response = client.post("/api/v1/webhooks", json=body, headers=world.auth(who))
        assert response.status_code == 201, response.text
        return dict(response.json())

    return make


def secret_of(client: TestClient, world: World, who: str, subscription_id: int) -> str:
    response = client.get(f"/api/v1/webhooks/{subscription_id}/secret", headers=world.auth(who))
    assert response.status_code == 200, response.text
    return str(response.json()["secret"])
