"""After a load that changes a large share of a project, PostgreSQL's statistics are fresh."""

from __future__ import annotations

import logging
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from service import sessions
from tests.conftest import BACKEND, World, wait_for


def sheet(rows: int) -> bytes:
    lines = ["項番,作業項目,担当,終了予定日,状況"]
    lines += [f"{n},作業 {n},ベンダー,2026-03-31,未着手" for n in range(1, rows + 1)]
    return "\n".join(lines).encode()


def upload(client: TestClient, world: World, data: bytes) -> None:
    response = client.post(
        f"/api/v1/projects/{world.projects['a_x'].id}/imports",
        headers=world.auth("vendor_x"),
        files={"file": ("wbs.csv", data)},
    )
    assert response.status_code == 201, response.text


def last_analyzed(engine: Engine) -> dict[str, datetime | None]:
    with engine.connect() as connection:
        # What another backend did is seen once it is reported: read afresh each time.
        connection.execute(text("SELECT pg_stat_clear_snapshot()"))
        rows = connection.execute(
            text(
                "SELECT relname, last_analyze FROM pg_stat_user_tables "
                "WHERE relname IN ('items', 'change_events')"
            )
        )
        return {row.relname: row.last_analyze for row in rows}


@pytest.mark.skipif(BACKEND != "postgresql", reason="PostgreSQL's planner statistics")
def test_a_large_import_is_followed_by_analyze_of_the_tables_it_loaded(
    client: TestClient, world: World, engine: Engine
) -> None:
    before = last_analyzed(engine)
    upload(client, world, sheet(1200))

    def analyzed() -> bool:
        after = last_analyzed(engine)
        return all(
            after[table] is not None and (before[table] is None or after[table] > before[table])  # type: ignore[operator]
            for table in sessions.LOADED_TABLES
        )

    wait_for(analyzed, "ANALYZE of items and change_events")


@pytest.mark.skipif(BACKEND != "postgresql", reason="PostgreSQL's planner statistics")
def test_a_full_bulk_push_into_a_new_project_is_followed_by_analyze(
    client: TestClient, world: World, engine: Engine
) -> None:
    before = last_analyzed(engine)["items"]
    push = [
        {"code": str(n), "title": f"作業 {n}", "responsibility": "vendor"} for n in range(1, 1001)
    ]
    response = client.post(
        f"/api/v1/projects/{world.projects['a_x'].id}/items/bulk",
        headers=world.auth("vendor_x"),
        json={"items": push},
    )
    assert response.status_code == 200, response.text

    def analyzed() -> bool:
        after = last_analyzed(engine)["items"]
        return after is not None and (before is None or after > before)

    wait_for(analyzed, "ANALYZE of items after the push")


@pytest.mark.skipif(BACKEND != "postgresql", reason="PostgreSQL's planner statistics")
def test_a_failed_analyze_is_logged_and_the_import_stands(
    client: TestClient,
    world: World,
    db: Session,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(sessions, "LOADED_TABLES", ("no_such_table",))
    with caplog.at_level(logging.WARNING, logger="service.sessions"):
        upload(client, world, sheet(1100))
    assert "ANALYZE after a large load failed" in caplog.text
    count = db.execute(
        text("SELECT count(*) FROM items WHERE project_id = :p"), {"p": world.projects["a_x"].id}
    ).scalar_one()
    assert count == 1100


def test_only_a_large_share_of_a_project_is_a_large_load(
    client: TestClient, world: World, db: Session
) -> None:
    upload(client, world, sheet(1000))
    db.commit()
    project = world.projects["a_x"].id
    large = BACKEND == "postgresql"  # SQLite plans without such statistics

    def noted(changed: int) -> bool:
        sessions.note_load(db, project, changed)
        found = bool(db.info.pop(sessions.LARGE_LOAD_NOTE, False))
        db.rollback()
        return found

    # 1,000 items in the project: a load of 1,000 rows is all of it, of 999 too few rows.
    assert noted(1000) is large
    assert noted(999) is False
    # Below the share: 1,000 rows of a project of 5,001 items or more.
    upload_more = "\n".join(f"{n},作業 {n},ベンダー,,未着手" for n in range(1001, 5002))
    upload(client, world, sheet(1000) + b"\n" + upload_more.encode())
    assert noted(1000) is False
    assert noted(1001) is large
