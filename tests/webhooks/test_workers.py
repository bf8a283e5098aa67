"""Real `wbs-sync worker` processes: killed mid-delivery and restarted, two at once on
PostgreSQL, one beside `wbs-sync serve` as `make run` starts it."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.webhooks.models import Delivery, DeliveryState
from tests.conftest import (
    BACKEND,
    PATIENCE,
    TEST_SECRET_KEY,
    WBS_SYNC,
    ItemFactory,
    World,
    free_port,
)
from tests.webhooks.conftest import Subscribe
from tests.webhooks.receivers import receiving, until

Start = Callable[..., "subprocess.Popen[bytes]"]


@pytest.fixture
def start_worker(database_url: str, tmp_path: Path) -> Iterator[Start]:
    started: list[subprocess.Popen[bytes]] = []

    def start(*args: str, **env: str) -> subprocess.Popen[bytes]:
        log = tmp_path / f"worker-{len(started)}.log"
        environment = {
            **os.environ,
            "WBS_DATABASE_URL": database_url,
            "WBS_SECRET_KEY": TEST_SECRET_KEY,
            "WBS_WEBHOOK_ALLOW_HTTP": "true",
            "WBS_WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "true",
            "WBS_WEBHOOK_POLL_SECONDS": "0.05",
            "WBS_WEBHOOK_TIMEOUT_SECONDS": "1",
            "WBS_WEBHOOK_LEASE_SECONDS": "2",
            **env,
        }
        with log.open("wb") as output:
            process = subprocess.Popen(
                [WBS_SYNC, *args], env=environment, stdout=output, stderr=subprocess.STDOUT
            )
        process.log_path = str(log)  # type: ignore[attr-defined]
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def output(process: subprocess.Popen[bytes]) -> str:
    return Path(process.log_path).read_text(errors="replace")  # type: ignore[attr-defined]


def delivered(db: Session) -> list[Delivery]:
    db.expire_all()
    return list(db.scalars(select(Delivery).order_by(Delivery.id)))


def test_a_worker_killed_mid_delivery_loses_nothing_and_its_successor_resends_the_same_id(
    client: TestClient,
    world: World,
    db: Session,
    make_item: ItemFactory,
    subscribe: Subscribe,
    start_worker: Start,
) -> None:
    with receiving() as receiver:
        subscribe("vendor_x", target=receiver.url)
        receiver.hold.clear()  # the first request stays in flight
        first = start_worker("worker")
        make_item(code="1")
        [in_flight] = receiver.wait_for(1)
        make_item(code="2")  # writes go on while the worker dies
        first.kill()
        first.wait()
        receiver.hold.set()
        push = client.post(
            f"/api/v1/projects/{world.projects['a_x'].id}/items/bulk",
            headers=world.auth("vendor_x"),
            json={"items": [{"code": "3", "title": "三", "responsibility": "vendor"}]},
        )
        assert push.status_code == 200, push.text

        second = start_worker("worker")
        received = receiver.wait_for(4)
        assert received[1].webhook_id == in_flight.webhook_id
        assert received[1].body == in_flight.body
        assert [b["data"]["item_code"] for b in receiver.bodies()] == ["1", "1", "2", "3"]
        until(lambda: all(d.state is DeliveryState.delivered for d in delivered(db)))
        attempts = [d.attempts for d in delivered(db)]
        assert attempts == [2, 1, 1]

        # Stopped and started again, it sends what is new and nothing acknowledged.
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=PATIENCE) == 0, output(second)
        start_worker("worker")
        make_item(code="4")
        received = receiver.wait_for(5)
        assert [b["data"]["item_code"] for b in receiver.bodies()] == ["1", "1", "2", "3", "4"]
        assert "whsec_" not in output(first) + output(second)
        assert receiver.url not in output(second)


@pytest.mark.skipif(BACKEND != "postgresql", reason="several workers share work on PostgreSQL")
def test_two_workers_on_postgresql_share_the_work_and_never_send_one_delivery_twice(
    client: TestClient, world: World, db: Session, subscribe: Subscribe, start_worker: Start
) -> None:
    with receiving() as receiver:
        hooks = [
            subscribe("vendor_x", target=f"{receiver.url}/{n}", name=f"hook {n}") for n in range(6)
        ]
        workers = [start_worker("worker", "--concurrency", "4") for _ in range(2)]
        for batch in range(4):
            push = client.post(
                f"/api/v1/projects/{world.projects['a_x'].id}/items/bulk",
                headers=world.auth("vendor_x"),
                json={"items": [{"code": f"{batch + 1}{n:02}", "title": "x",
                                 "responsibility": "vendor"} for n in range(10)]},
            )  # fmt: skip
            assert push.status_code == 200, push.text
        received = receiver.wait_for(6 * 40)
        until(lambda: all(d.state is DeliveryState.delivered for d in delivered(db)))
        by_hook: dict[str, list[str]] = {}
        for request in received:
            by_hook.setdefault(request.path, []).append(request.webhook_id)
        expected = {
            f"/hook/{n}": [d.message_id for d in delivered(db) if d.subscription_id == hook["id"]]
            for n, hook in enumerate(hooks)
        }
        # Each exactly once, and in each subscription's order.
        assert by_hook == expected
        assert len(received) == 240
        for process in workers:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=PATIENCE) == 0
        # Both took part.
        assert all('"message": "delivery attempt"' in output(process) for process in workers)


@pytest.mark.skipif(BACKEND != "sqlite", reason="on PostgreSQL several workers share the work")
def test_a_second_worker_on_one_sqlite_file_refuses_to_start(start_worker: Start) -> None:
    first = start_worker("worker")
    until(lambda: "worker started" in output(first))
    second = start_worker("worker")
    assert second.wait(timeout=PATIENCE) == 2
    assert "another worker already runs" in output(second)


def test_serve_with_worker_delivers_and_stops_its_worker_with_it(
    world: World, subscribe: Subscribe, start_worker: Start
) -> None:
    with receiving() as receiver:
        port = free_port()
        server = start_worker("serve", "--with-worker", "--port", str(port))
        base = f"http://127.0.0.1:{port}"
        until(lambda: _answers(f"{base}/healthz"))
        created = httpx2.post(
            f"{base}/api/v1/webhooks",
            headers=world.auth("town_a"),
            json={"name": "town", "kind": "webhook", "target": receiver.url},
        )
        assert created.status_code == 201, created.text
        item = httpx2.post(
            f"{base}/api/v1/projects/{world.projects['a_x'].id}/items",
            headers=world.auth("vendor_x"),
            json={"code": "1", "title": "一", "responsibility": "municipality"},
        )
        assert item.status_code == 201, item.text
        [request] = receiver.wait_for(1)
        assert request.headers["webhook-id"].startswith("msg_")
        # Counted once the worker has recorded the answer, a moment after the receiver got it.
        counted = 'wbs_webhook_deliveries_total{kind="webhook",result="delivered"} 1.0'
        until(lambda: counted in httpx2.get(f"{base}/metrics").text)
        metrics = httpx2.get(f"{base}/metrics").text
        assert "wbs_webhook_queue_depth 0.0" in metrics
        assert "wbs_webhook_oldest_pending_seconds 0.0" in metrics
        children = subprocess.run(
            ["pgrep", "-P", str(server.pid)], capture_output=True, text=True, check=False
        ).stdout.split()
        assert children, output(server)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=PATIENCE) in (0, -signal.SIGTERM), output(server)
        until(lambda: not any(_alive(int(pid)) for pid in children))


def _answers(url: str) -> bool:
    try:
        return httpx2.get(url, timeout=1).status_code == 200
    except httpx2.TransportError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A child that exited but was not reaped yet is a zombie: gone for our purpose.
    state = Path(f"/proc/{pid}/stat")
    return state.exists() and state.read_text().split(") ")[-1][:1] != "Z"


def test_queue_gauges_show_what_waits_while_no_worker_runs(
    client: TestClient, world: World, subscribe: Subscribe
) -> None:
    hook = subscribe("vendor_x", target="https://hooks.example.jp/wbs")
    disabled = subscribe("vendor_x", target="https://hooks.example.jp/old", enabled=False)
    assert disabled["disabled_reason"] == "created disabled by vendor-x/test"
    client.post(f"/api/v1/webhooks/{hook['id']}/test", headers=world.auth("vendor_x"))
    metrics = client.get("/metrics").text
    assert "wbs_webhook_queue_depth 1.0" in metrics
    assert "wbs_webhook_subscriptions_disabled 1.0" in metrics
    [age] = [line for line in metrics.splitlines() if line.startswith("wbs_webhook_oldest")]
    assert float(age.split()[1]) >= 0
