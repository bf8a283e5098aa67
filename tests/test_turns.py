"""Quick calls take turns at the database; imports and exports hold a connection but no turn."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.imports import service as imports
from service.main import create_app
from service.sessions import ConnectionGate
from tests.conftest import PATIENCE, World
from tests.imports.test_router import sheet


def test_quick_calls_wait_for_a_turn_and_long_work_needs_none() -> None:
    async def scenario() -> None:
        gate = ConnectionGate(capacity=3, busy=1)
        first = gate.slot()
        await first.take()
        second = gate.slot()
        waiting = asyncio.create_task(second.take())
        await _let_others_run()
        assert not waiting.done(), "a second quick call got in beside the first"
        upload = gate.slot(long_work=True)
        await asyncio.wait_for(upload.take(), 1)  # no turn needed, only a connection
        async with first.lent():  # a held long poll gives its turn back while it waits
            await asyncio.wait_for(waiting, 1)
            second.give_back()
        first.give_back()
        upload.give_back()

    asyncio.run(scenario())


def test_connections_still_bound_every_call_whatever_the_turns() -> None:
    async def scenario() -> None:
        gate = ConnectionGate(capacity=1, busy=4)
        upload = gate.slot(long_work=True)
        await upload.take()
        quick = gate.slot()
        waiting = asyncio.create_task(quick.take())
        await _let_others_run()
        assert not waiting.done(), "a quick call got a connection the pool does not have"
        upload.give_back()
        await asyncio.wait_for(waiting, 1)
        quick.give_back()
        # Given back whole: a cancelled wait leaves nothing taken.
        again = [gate.slot() for _ in range(2)]
        await again[0].take()
        cancelled = asyncio.create_task(again[1].take())
        await _let_others_run()
        cancelled.cancel()
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        again[0].give_back()
        await asyncio.wait_for(gate.slot(long_work=True).take(), 1)

    asyncio.run(scenario())


@pytest.mark.parametrize(("configured", "expected"), [(None, None), (3, 3)])
def test_turns_default_by_database_and_follow_the_setting(
    settings: Settings, configured: int | None, expected: int | None
) -> None:
    gate = create_app(settings.model_copy(update={"db_busy_requests": configured})).state
    default = 2 if settings.database_url.startswith("sqlite") else 4
    assert gate.connection_gate.busy == (expected or default)


def test_an_import_in_progress_keeps_no_quick_call_waiting(
    settings: Settings, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    started, release = threading.Event(), threading.Event()
    real_import = imports.run_import

    def slow_import(*args: Any, **kwargs: Any) -> Any:
        started.set()
        release.wait(2 * PATIENCE)
        return real_import(*args, **kwargs)

    monkeypatch.setattr(imports, "run_import", slow_import)
    app = create_app(settings.model_copy(update={"db_busy_requests": 1}))
    project = world.projects["a_x"].id
    with TestClient(app) as client, ThreadPoolExecutor(2) as calls:
        try:
            uploading = calls.submit(
                client.post,
                f"/api/v1/projects/{project}/imports",
                headers=world.auth("vendor_x"),
                files={"file": ("wbs.xlsx", sheet())},
            )
            assert started.wait(PATIENCE), "the import never started"
            # The only turn is free: the import in progress holds a connection, not a turn.
            reading = calls.submit(
                client.get, f"/api/v1/projects/{project}", headers=world.auth("pmo")
            )
            assert reading.result(timeout=PATIENCE).status_code == 200
            assert not uploading.done()
        finally:
            release.set()
        assert uploading.result(timeout=2 * PATIENCE).status_code == 201


async def _let_others_run() -> None:
    """Give every ready task its turns: one waiting on a semaphore is then blocked there."""
    for _ in range(20):
        await asyncio.sleep(0)
