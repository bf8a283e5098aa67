from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from service import migrations
from service.config import Settings
from service.main import create_app
from tests.conftest import new_database


def test_healthz_needs_no_token(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_a_migrated_database(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["revision"] == migrations.head_revision()


def test_readyz_is_503_on_an_unmigrated_database(tmp_path: Path) -> None:
    with (
        new_database(tmp_path) as url,
        TestClient(create_app(Settings(database_url=url))) as client,
    ):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["Retry-After"]


def test_readyz_is_503_when_the_database_is_unreachable() -> None:
    settings = Settings(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none")
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert "does not answer" in response.json()["detail"]
