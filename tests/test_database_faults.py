"""The service rides out database trouble: a PostgreSQL restart under load, and SQLite writers
competing for the single write lock. Answers during trouble are 503 with Retry-After, never a
200 for a write that was not kept, and every acknowledged write is there afterwards."""

from __future__ import annotations

import os
import subprocess
import threading
import time
import uuid
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.items.models import Item
from tests.conftest import BACKEND, ServerFactory, World


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
    time.sleep(2)
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
