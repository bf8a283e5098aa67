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
