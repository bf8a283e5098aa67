"""The service rides out database trouble: a PostgreSQL restart under load, and SQLite writers
competing for the single write lock. Answers during trouble are 503 with Retry-After, never a
200 for a write that was not kept, and every acknowledged write is there afterwards."""

from __future__ import annotations

import os
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from service import migrations
from service.items.models import Item
from service.organisations.models import Organisation, OrgKind
from service.projects.models import Project
from service.tokens.service import issue_token
from tests.conftest import BACKEND, WBS_SYNC, ServerFactory, World, free_port, wait_for


def push_items(
    base: str,
    world: World,
    prefix: str,
    seconds: float,
    acknowledged: list[str],
    statuses: list[int],
) -> None:
    """Create items one by one; retry each with the same Idempotency-Key until it is answered."""
    deadline = time.monotonic() + seconds
    url = f"{base}/api/v1/projects/{world.projects['a_x'].id}/items"
    number = 0
    with httpx2.Client(timeout=10) as client:
        while time.monotonic() < deadline:
            number += 1
            code = f"{prefix}{number}"
            key = uuid.uuid4().hex
            for _ in range(100):
                try:
                    response = client.post(
                        url,
                        headers={**world.auth("vendor_x"), "Idempotency-Key": key},
                        json={"code": code, "title": code, "responsibility": "vendor"},
                    )
                except httpx2.TransportError:
                    time.sleep(0.2)
                    continue
                statuses.append(response.status_code)
                if response.status_code == 201:
                    acknowledged.append(code)
                    break
                assert response.status_code in (409, 503), response.text
                if response.status_code == 503:
                    assert response.headers["Retry-After"]
                time.sleep(0.2)


def postgres_cluster() -> str:
    return sorted(os.listdir("/etc/postgresql"))[-1]


@pytest.mark.skipif(BACKEND != "postgresql", reason="restarts the PostgreSQL server")
def test_a_postgresql_restart_under_load_loses_no_acknowledged_write(
    serve: ServerFactory, world: World, db: Session
) -> None:
    base, _ = serve(workers=2)
    acknowledged: list[str] = []
    statuses: list[int] = []
    writers = [
        threading.Thread(
            target=push_items, args=(base, world, f"w{n}x", 8.0, acknowledged, statuses)
        )
        for n in range(3)
    ]
    for writer in writers:
        writer.start()
    wait_for(lambda: len(acknowledged) >= 5, "the writers to be under way")
    restart = subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", postgres_cluster(), "main", "restart"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    for writer in writers:
        writer.join(timeout=120)
    assert restart.returncode == 0, restart.stderr
    assert 500 not in statuses
    # The same processes answer again: nobody restarted the service.
    assert httpx2.get(f"{base}/readyz", timeout=10).status_code == 200
    db.rollback()
    stored = set(db.scalars(select(Item.code).where(Item.project_id == world.projects["a_x"].id)))
    assert set(acknowledged) <= stored
    assert len(acknowledged) > 10


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's single write lock")
def test_concurrent_sqlite_writers_never_see_database_is_locked(
    serve: ServerFactory, world: World, tmp_path: Path, db: Session
) -> None:
    base, _ = serve(workers=2)
    acknowledged: list[str] = []
    statuses: list[int] = []
    writers = [
        threading.Thread(
            target=push_items, args=(base, world, f"s{n}x", 4.0, acknowledged, statuses)
        )
        for n in range(6)
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=120)
    assert set(statuses) == {201}
    db.rollback()
    stored = set(db.scalars(select(Item.code).where(Item.project_id == world.projects["a_x"].id)))
    assert set(acknowledged) == stored


def _seed_alone(url: str) -> tuple[int, str]:
    """A database of its own with one vendor's project: the project id and the vendor's token."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            migrations.upgrade(connection)
        with Session(engine) as session:
            vendor = Organisation(kind=OrgKind.vendor, code="v", name="ベンダー")
            town = Organisation(kind=OrgKind.municipality, code="m", name="町")
            project = Project(municipality=town, vendor=vendor, name="住民記録")
            session.add_all([vendor, town, project])
            session.flush()
            secret = issue_token(session, vendor, "writer")[1]
            session.commit()
            return project.id, secret
    finally:
        engine.dispose()


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's file permissions")
def test_sqlite_recovers_by_itself_once_its_file_is_writable_again(tmp_path: Path) -> None:
    """Connections opened while the file could not be written must not fail writes after it can.

    Run as root, the server is started without the capability to override file permissions,
    so taking the write permission away binds it as it would bind any other user.
    """
    folder = tmp_path / "data"
    folder.mkdir()
    database = folder / "wbs.sqlite3"
    project_id, secret = _seed_alone(f"sqlite:///{database}")
    bound = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [*(bound if os.geteuid() == 0 else []), WBS_SYNC, "serve", "--port", str(port)],
        env={**os.environ, "WBS_DATABASE_URL": f"sqlite:///{database}"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    headers = {"Authorization": f"Bearer {secret}"}
    items = f"{base}/api/v1/projects/{project_id}/items"
    try:
        with httpx2.Client(timeout=30) as client:
            _wait_until_up(client, base)

            def write(code: str) -> int:
                body = {"code": code, "title": code, "responsibility": "vendor"}
                return client.post(items, headers=headers, json=body).status_code

            assert write("before") == 201
            database.chmod(0o444)
            during = write("during")
            # Long work takes connections of its own: the pool grows while the file is read-only.
            with ThreadPoolExecutor(8) as pool:
                exports = list(
                    pool.map(
                        lambda _: (
                            client.get(
                                f"{base}/api/v1/projects/{project_id}/export.xlsx", headers=headers
                            ).status_code
                        ),
                        range(16),
                    )
                )
            database.chmod(0o644)
            after = [write(f"after{n}") for n in range(20)]
        assert during in (201, 503)  # old connections may still write; new ones cannot
        assert set(exports) == {200}
        assert after == [201] * 20, after
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _wait_until_up(client: httpx2.Client, base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if client.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx2.TransportError:
            time.sleep(0.2)
    pytest.fail("wbs-sync serve did not come up")
