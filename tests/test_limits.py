"""Request bodies are bounded as they arrive, and nobody without a valid token makes the server
read one: floods cost neither memory nor time before they are refused."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.main import create_app
from tests.conftest import ServerFactory, World

MiB = 1024 * 1024


@pytest.fixture
def small_caps(database_url: str, world: World) -> Iterator[TestClient]:
    settings = Settings(
        database_url=database_url,
        auth_failure_limit=1_000_000,
        max_json_body_mb=1,
        import_max_upload_mb=1,
    )
    with TestClient(create_app(settings)) as client:
        yield client


def push_url(world: World) -> str:
    return f"/api/v1/projects/{world.projects['a_x'].id}/items/bulk"


def test_a_body_declared_over_the_cap_is_413_and_nothing_is_written(
    small_caps: TestClient, world: World
) -> None:
    body = b'{"items": [' + b" " * (2 * MiB) + b"]}"
    headers = {**world.auth("vendor_x"), "Content-Type": "application/json"}
    response = small_caps.post(push_url(world), headers=headers, content=body)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert "WBS_MAX_JSON_BODY_MB" in response.json()["detail"]


def test_a_streamed_body_passing_the_cap_is_413(small_caps: TestClient, world: World) -> None:
    sent = 0

    def chunks() -> Iterator[bytes]:
        nonlocal sent
        yield b'{"items": ['
        for _ in range(64):
            sent += 64 * 1024
            yield b" " * (64 * 1024)
        yield b"]}"

    headers = {**world.auth("vendor_x"), "Content-Type": "application/json"}
    response = small_caps.post(push_url(world), headers=headers, content=chunks())
    assert response.status_code == 413, response.text
    assert "passed" in response.json()["detail"]


def test_an_upload_over_its_cap_is_413_with_or_without_a_key(
    small_caps: TestClient, world: World
) -> None:
    url = f"/api/v1/projects/{world.projects['a_x'].id}/imports"
    big = b"x" * (3 * MiB)
    for extra in ({}, {"Idempotency-Key": "up-1"}):
        response = small_caps.post(
            url,
            headers={**world.auth("vendor_x"), **extra},
            files={"file": ("wbs.csv", big, "text/csv")},
        )
        assert response.status_code == 413, response.text
        assert "WBS_IMPORT_MAX_UPLOAD_MB" in response.json()["detail"]


def test_json_within_the_cap_still_works(small_caps: TestClient, world: World) -> None:
    body = {"items": [{"code": "1", "title": "計画" * 100, "responsibility": "vendor"}]}
    assert (
        small_caps.post(push_url(world), headers=world.auth("vendor_x"), json=body).status_code
        == 200
    )


def _send_headers_only(base: str, path: str, headers: dict[str, str], length: int) -> str:
    """Announce a body and send none of it: only a server that refuses before reading answers."""
    host, port = base.removeprefix("http://").split(":")
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {length}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        answer = b""
        while b"\r\n\r\n" not in answer:
            part = connection.recv(65536)
            if not part:
                break
            answer += part
    return answer.decode("latin-1")


def test_the_server_refuses_before_reading_a_body_it_would_not_take(
    serve: ServerFactory, world: World
) -> None:
    base, _ = serve(WBS_AUTH_FAILURE_LIMIT="1000000")
    path = push_url(world)
    json_type = {"Content-Type": "application/json"}
    flood = 200 * MiB
    no_token = _send_headers_only(base, path, json_type, flood)
    assert no_token.startswith("HTTP/1.1 401"), no_token[:200]
    # Within the cap, but large: the token is checked before a byte is read.
    large = 5 * MiB
    unknown = _send_headers_only(
        base, path, {**json_type, "Authorization": "Bearer wbs_nope"}, large
    )
    assert unknown.startswith("HTTP/1.1 401"), unknown[:200]
    keyed = _send_headers_only(
        base, path, {**json_type, "Authorization": "Bearer wbs_nope", "Idempotency-Key": "k"}, large
    )
    assert keyed.startswith("HTTP/1.1 401"), keyed[:200]
    too_big = _send_headers_only(base, path, {**json_type, **world.auth("vendor_x")}, flood)
    assert too_big.startswith("HTTP/1.1 413"), too_big[:200]
