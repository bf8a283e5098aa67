"""Webhook deliveries: how soon a change reaches a receiver, and how many a worker sends.

    python -m bench.webhooks                       # SQLite and PostgreSQL, a few minutes
    python -m bench.webhooks --smoke               # tiny, for CI (make test runs it)
    python -m bench.webhooks --backends postgresql

Real `wbs-sync worker` processes send to a receiver on loopback (a threaded HTTP server in
this process, answering 200 at once). Figures:

- commit to receipt: an item created through the API (answered, so committed), then the
  time until its signed POST arrives; one change at a time, at random moments, so nothing
  queues. Beside it, the floor: one bare POST of such a body on a kept-alive connection.
- deliveries per second: one bulk push of N items to S subscriptions (N × S deliveries, each
  subscription's in order), from the commit to the last receipt, with 1 worker and (on
  PostgreSQL) 2. Beside it, the floor: a bare httpx2 client in another process posting the
  same bodies with as many in flight as the worker allows (8), one subscription's after the
  other's, as fast as it can.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx2
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bench.run import Figure, database
from service import migrations
from service.config import Settings
from service.main import create_app
from service.organisations.models import Organisation, OrgKind
from service.projects.models import Project
from service.sessions import create_db_engine
from service.tokens.service import issue_token
from service.webhooks.models import Delivery

WBS_SYNC = str(Path(sys.executable).with_name("wbs-sync"))
SECRET_KEY = "YmVuY2ggb25seSwgbmV2ZXIgYSByZWFsIGtleSEhISE="
CONCURRENCY = 8
FLOOR_POSTS = 2000


class Receiver:
    """Counts what arrives, and when (perf_counter: the same clock as the writer's)."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        self.count = 0
        self.changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out as two writes: with Nagle's algorithm the second waits
            # for the client's delayed ACK, 40 ms a request.
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                now = time.perf_counter()
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
                with receiver.changed:
                    receiver.count += 1
                    if self.path.endswith("/latency"):
                        receiver.arrivals[json.loads(body)["data"]["item_code"]] = now
                    receiver.changed.notify_all()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, predicate: Any, timeout: float = 600) -> None:
        with self.changed:
            if not self.changed.wait_for(predicate, timeout):
                raise RuntimeError("the receiver did not get what was sent")


@contextmanager
def workers(url: str, count: int, workdir: Path) -> Iterator[None]:
    env = {
        **os.environ,
        "WBS_DATABASE_URL": url,
        "WBS_SECRET_KEY": SECRET_KEY,
        "WBS_WEBHOOK_ALLOW_HTTP": "true",
        "WBS_WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "true",
    }
    started = []
    logs = [workdir / f"bench-worker-{number}.log" for number in range(count)]
    for log in logs:
        with log.open("wb") as output:
            started.append(
                subprocess.Popen(
                    [WBS_SYNC, "worker", "--concurrency", str(CONCURRENCY)],
                    env=env,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                )
            )
    # Measured from when they are up, not from their start.
    deadline = time.monotonic() + 60
    while not all("worker started" in log.read_text() for log in logs):
        if time.monotonic() > deadline:
            raise RuntimeError("the workers did not start: " + logs[0].read_text()[-2000:])
        time.sleep(0.1)
    try:
        yield
    finally:
        for process in started:
            process.send_signal(signal.SIGTERM)
        for process in started:
            process.wait(timeout=60)


def _setup(url: str) -> tuple[Settings, str, str]:
    settings = Settings(
        database_url=url,
        secret_key=SECRET_KEY,  # type: ignore[arg-type]
        webhook_allow_http=True,
        webhook_allow_private_addresses=True,
        auth_failure_limit=1_000_000,
    )
    engine = create_db_engine(settings)
    with engine.begin() as connection:
        migrations.upgrade(connection)
    with Session(engine) as session:
        town = Organisation(kind=OrgKind.municipality, code="town", name="町")
        vendor = Organisation(kind=OrgKind.vendor, code="vendor", name="ベンダー")
        session.add_all([town, vendor])
        session.flush()
        session.add(Project(municipality=town, vendor=vendor, name="bench"))
        vendor_token = issue_token(session, vendor, "bench")[1]
        town_token = issue_token(session, town, "bench")[1]
        session.commit()
    engine.dispose()
    return settings, vendor_token, town_token


def _subscribe(client: TestClient, token: str, target: str) -> int:
    answer = client.post(
        "/api/v1/webhooks",
        headers={"Authorization": f"Bearer {token}"},
        json={"name": target[-20:], "kind": "webhook", "target": target,
              "event_types": ["item.created", "item.updated"]},
    )  # fmt: skip
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def latency(client: TestClient, receiver: Receiver, token: str, changes: int) -> list[float]:
    _subscribe(client, token, f"{receiver.url}/latency")
    auth = {"Authorization": f"Bearer {token}"}
    samples = []
    pause = random.Random(20261201)
    for number in range(-1, changes):  # the first warms the worker up
        # Changes come at random moments of the worker's polling cycle, as people make them,
        # not right after its last delivery, which would time each one a whole cycle.
        time.sleep(pause.uniform(0, 0.25))
        code = f"L{number + 1}"
        answer = client.post(
            "/api/v1/projects/1/items",
            headers=auth,
            json={"code": code, "title": "latency", "responsibility": "vendor"},
        )
        assert answer.status_code == 201, answer.text
        committed = time.perf_counter()
        receiver.wait(lambda code=code: code in receiver.arrivals)
        if number >= 0:
            samples.append((receiver.arrivals[code] - committed) * 1000)
    return samples


def throughput(
    client: TestClient, receiver: Receiver, token: str, items: int, subscriptions: int, batch: str
) -> float:
    """Deliveries per second from one push's commit to the last receipt."""
    for number in range(subscriptions):
        _subscribe(client, token, f"{receiver.url}/{batch}/{number}")
    before = receiver.count
    answer = client.post(
        "/api/v1/projects/1/items/bulk",
        headers={"Authorization": f"Bearer {token}"},
        json={"items": [{"code": f"{batch}{n}", "title": "x", "responsibility": "vendor"}
                        for n in range(items)]},
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    committed = time.perf_counter()
    wanted = before + items * subscriptions
    receiver.wait(lambda: receiver.count >= wanted)
    return items * subscriptions / (time.perf_counter() - committed)


def floor_client(target: str, bodies_file: str) -> None:
    """Another process: the same bodies posted by a bare client, CONCURRENCY in flight."""
    stored = [body.encode() for body in json.loads(Path(bodies_file).read_text())]
    # Enough posts that the connections' setup does not count.
    bodies = stored * max(1, -(-FLOOR_POSTS // len(stored)))

    async def post_all() -> float:
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        for body in bodies:
            queue.put_nowait(body)
        async with httpx2.AsyncClient(timeout=15) as client:

            async def one_lane() -> None:
                while not queue.empty():
                    body = queue.get_nowait()
                    answer = await client.post(
                        target, content=body, headers={"Content-Type": "application/json"}
                    )
                    answer.raise_for_status()

            started = time.perf_counter()
            await asyncio.gather(*(one_lane() for _ in range(CONCURRENCY)))
            return time.perf_counter() - started

    print(len(bodies) / asyncio.run(post_all()))


def bare_round_trip(target: str, body: bytes, repeat: int) -> list[float]:
    samples = []
    with httpx2.Client() as client:
        for _ in range(repeat + 1):
            started = time.perf_counter()
            client.post(target, content=body, headers={"Content-Type": "application/json"})
            samples.append((time.perf_counter() - started) * 1000)
    return samples[1:]


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def run_backend(backend: str, smoke: bool, workdir: Path) -> list[Figure]:
    changes, items, subscriptions = (10, 20, 4) if smoke else (200, 500, 8)
    figures = []
    with database(backend, workdir) as url:
        settings, vendor_token, _ = _setup(url)
        receiver = Receiver()
        with TestClient(create_app(settings)) as client:
            with workers(url, 1, workdir):
                samples = latency(client, receiver, vendor_token, changes)
                rates = {1: throughput(client, receiver, vendor_token, items, subscriptions, "a")}
            if backend == "postgresql":
                with workers(url, 2, workdir):
                    rates[2] = throughput(client, receiver, vendor_token, items, subscriptions, "b")
        engine = create_db_engine(settings)
        with Session(engine) as session:
            bodies = list(session.scalars(select(Delivery.payload).where(Delivery.id > changes)))
        engine.dispose()
        floor_samples = bare_round_trip(f"{receiver.url}/floor", bodies[0].encode(), changes)
        bodies_file = workdir / "bench-webhook-bodies.json"
        bodies_file.write_text(json.dumps(bodies))
        command = [sys.executable, "-m", "bench.webhooks", "--floor", f"{receiver.url}/floor"]
        floor = float(
            subprocess.run(
                [*command, str(bodies_file)], capture_output=True, text=True, check=True
            ).stdout
        )
        bodies_file.unlink()
        receiver.server.shutdown()
    figures.append(
        Figure(
            backend,
            "commit to receipt, one change at a time (median)",
            statistics.median(samples),
            p95(samples),
            "ms",
            "a bare POST, kept-alive client",
            statistics.median(floor_samples),
            "under 1 s",
        )
    )
    for count, rate in rates.items():
        figures.append(
            Figure(
                backend,
                f"deliveries/s, {count} worker{'s' if count > 1 else ''}, "
                f"{items} items × {subscriptions} subscriptions",
                rate,
                None,
                "/s",
                f"a bare client, {CONCURRENCY} in flight",
                floor,
                "—",
            )
        )
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny, for CI")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--floor", nargs=2, metavar=("URL", "BODIES"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.floor:
        floor_client(*args.floor)
        return 0
    workdir = Path(os.environ.get("TMPDIR", "/tmp"))
    for backend in args.backends.split(","):
        for figure in run_backend(backend, args.smoke, workdir):
            print(figure.line(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
