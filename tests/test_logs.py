from __future__ import annotations

import json
import logging
import re

import pytest
from fastapi.testclient import TestClient

from service.logs import JsonFormatter
from tests.conftest import ServerFactory, World, server_output


def test_each_request_gets_an_id_echoed_and_one_access_line(
    client: TestClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="wbs_sync.access")
    url = f"/api/v1/projects/{world.projects['a_x'].id}/items/9-9?as_of=2026-04-01"
    response = client.get(url, headers={**world.auth("town_a"), "X-Request-ID": "req-42"})
    assert response.headers["X-Request-ID"] == "req-42"
    generated = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces\n"}).headers[
        "X-Request-ID"
    ]
    assert len(generated) == 32
    lines = [r for r in caplog.records if r.name == "wbs_sync.access"]
    first = lines[0]
    assert (first.method, first.route, first.status) == (
        "GET",
        "/api/v1/projects/{project_id}/items/{code}",
        404,
    )  # type: ignore[attr-defined]
    assert first.duration_ms >= 0  # type: ignore[attr-defined]
    formatted = json.loads(JsonFormatter().format(first))
    assert formatted["route"] == "/api/v1/projects/{project_id}/items/{code}"
    assert "9-9" not in json.dumps(formatted)
    assert world.tokens["town_a"] not in caplog.text


def test_the_server_writes_json_lines_without_secrets(serve: ServerFactory, world: World) -> None:
    import httpx2

    base, process = serve()
    httpx2.get(f"{base}/api/v1/me", headers={**world.auth("pmo"), "X-Request-ID": "trace-7"})
    issued = httpx2.post(
        f"{base}/api/v1/tokens",
        headers=world.auth("pmo"),
        json={"organisation_id": world.orgs["town_a"].id, "name": "secret-holder"},
    ).json()["token"]
    process.terminate()
    process.wait(timeout=20)
    output = server_output(process)
    records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert records, output
    me = [r for r in records if r.get("route") == "/api/v1/me"]
    assert me[0]["request_id"] == "trace-7"
    assert me[0]["status"] == 200
    assert all(token not in output for token in [*world.tokens.values(), issued])
    assert not re.search(r"wbs_[A-Za-z0-9_-]{40}", output)


def test_each_line_reaches_a_pipe_as_it_is_written_even_if_the_process_then_dies(
    database_url: str, world: World
) -> None:
    """Not a terminal and no PYTHONUNBUFFERED, as under a container runtime or a log shipper."""
    import os
    import selectors
    import signal
    import subprocess
    import time

    import httpx2

    from tests.conftest import WBS_SYNC, free_port

    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    process = subprocess.Popen(
        [WBS_SYNC, "serve", "--port", str(port)],
        env={**env, "WBS_DATABASE_URL": database_url},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    seen: list[str] = []

    def read_until(found: str) -> bool:
        deadline = time.monotonic() + 30
        buffered = b""
        while time.monotonic() < deadline:
            if not selector.select(timeout=0.5):
                continue
            chunk = os.read(process.stdout.fileno(), 65536)  # type: ignore[union-attr]
            if not chunk:
                return False
            buffered += chunk
            *lines, buffered = buffered.split(b"\n")
            seen.extend(line.decode() for line in lines)
            if any(found in line for line in seen):
                return True
        return False

    try:
        assert read_until("Uvicorn running"), seen
        answered = httpx2.get(
            f"http://127.0.0.1:{port}/healthz", headers={"X-Request-ID": "last-words"}
        )
        assert answered.status_code == 200
        # Killed at once, with no chance to flush anything at exit.
        process.send_signal(signal.SIGKILL)
        assert read_until('"last-words"'), seen
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=20)
        process.stdout.close()
    assert not [line for line in seen if "alembic.runtime.plugins" in line]
