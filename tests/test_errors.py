"""Every error is problem+json, no stack trace leaks, and a failed commit is never a 200."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from service.items import service as items_service
from service.items.models import Item
from tests.conftest import World


def test_unknown_route_is_a_problem(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404


def test_wrong_method_is_a_problem(client: TestClient, world: World) -> None:
    response = client.put("/api/v1/projects", headers=world.auth("pmo"), json={})
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert "GET" in response.headers["Allow"]


def test_malformed_json_is_a_422_problem(client: TestClient, world: World) -> None:
    response = client.post(
        f"/api/v1/projects/{world.projects['a_x'].id}/items",
        headers={**world.auth("vendor_x"), "Content-Type": "application/json"},
        content=b"{not json",
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"]


def test_unexpected_error_is_a_500_without_internals(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(items_service, "list_items", explode)
    response = client.get(
        f"/api/v1/projects/{world.projects['a_x'].id}/items", headers=world.auth("pmo")
    )
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "secret" not in response.text
    assert "Traceback" not in response.text


def test_a_commit_that_fails_is_an_error_and_nothing_is_saved(
    client: TestClient, world: World, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_commit(self: Session) -> None:
        raise OperationalError("COMMIT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(Session, "commit", failing_commit)
    response = client.post(
        f"/api/v1/projects/{world.projects['a_x'].id}/items",
        headers=world.auth("vendor_x"),
        json={"code": "1", "title": "x", "responsibility": "vendor"},
    )
    monkeypatch.undo()
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert response.headers["content-type"] == "application/problem+json"
    assert db.scalar(select(func.count()).select_from(Item)) == 0


def test_a_body_that_is_not_even_text_is_a_422_problem(client: TestClient, world: World) -> None:
    response = client.post(
        "/api/v1/organisations",
        headers={**world.auth("pmo"), "Content-Type": "application/json"},
        content=b"\xff\xfe\x00garbage",
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body"


def test_allow_names_the_methods_of_the_most_literal_path(client: TestClient, world: World) -> None:
    response = client.put(
        f"/api/v1/projects/{world.projects['a_x'].id}/items/bulk", headers=world.auth("pmo")
    )
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
