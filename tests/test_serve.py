"""The container's entry point, `wbs-sync serve`, run as a real process outside a container."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from sqlalchemy.orm import Session

from tests.conftest import World

WBS_SYNC = str(Path(sys.executable).with_name("wbs-sync"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(
    database_url: str, world: World, db: Session
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    env = {**os.environ, "WBS_DATABASE_URL": database_url}
    process = subprocess.Popen(
        [WBS_SYNC, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx2.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx2.TransportError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail(f"wbs-sync serve did not come up: {process.communicate()[0].decode()[-2000:]}")
    yield base, process
    if process.poll() is None:
        process.kill()
        process.wait()


def test_serve_answers_with_several_workers_and_stops_cleanly_on_sigterm(
    server: tuple[str, subprocess.Popen[bytes]], world: World
) -> None:
    base, process = server
    assert httpx2.get(f"{base}/readyz", timeout=5).status_code == 200
    for _ in range(10):
        response = httpx2.get(f"{base}/api/v1/projects", headers=world.auth("town_a"), timeout=5)
        assert response.status_code == 200
        assert len(response.json()["items"]) == 1
    process.send_signal(signal.SIGTERM)
    output = process.communicate(timeout=30)[0].decode()
    assert process.returncode == 0, output[-2000:]
    assert world.tokens["town_a"] not in output
