"""The backup procedure of docs/deploy.md, run for real: pg_dump, pg_restore, and the service
reading the restored database."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from service.config import Settings
from service.main import create_app
from tests.conftest import BACKEND, ItemFactory, World, new_database


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.mark.skipif(BACKEND != "postgresql", reason="pg_dump and pg_restore are PostgreSQL's")
def test_a_backup_restores_into_a_working_service(
    database_url: str, world: World, make_item: ItemFactory, tmp_path: Path
) -> None:
    make_item(code="1", title="バックアップ対象", responsibility="vendor")
    dump = tmp_path / "wbs.dump"
    subprocess.run(
        ["pg_dump", "--format=custom", f"--file={dump}", libpq(database_url)],
        check=True,
        timeout=120,
    )
    with new_database(tmp_path) as restored:
        subprocess.run(
            ["pg_restore", "--no-owner", f"--dbname={libpq(restored)}", str(dump)],
            check=True,
            timeout=120,
        )
        with TestClient(create_app(Settings(database_url=restored))) as client:
            assert client.get("/readyz").status_code == 200
            item = client.get(
                f"/api/v1/projects/{world.projects['a_x'].id}/items/1", headers=world.auth("town_a")
            )
            assert item.json()["title"] == "バックアップ対象"
