"""Look-alike codes are one code: １－２, 1−2, 1‐2 and 1-2 never coexist as separate items."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from service import migrations
from tests.conftest import ItemFactory, World, new_database
from tests.importers.sheets import workbook_bytes
from tests.imports.test_router import HEADER, upload

LOOK_ALIKES = ["１－２", "1−2", "1‐2", "1–2", "1ー2"]


def items_url(world: World) -> str:
    return f"/api/v1/projects/{world.projects['a_x'].id}/items"


@pytest.mark.parametrize("alike", LOOK_ALIKES)
def test_a_look_alike_of_an_existing_code_is_that_code(
    client: TestClient, world: World, make_item: ItemFactory, alike: str
) -> None:
    make_item(code="1")
    make_item(code="1-2", title="移行計画")
    created = client.post(
        items_url(world),
        headers=world.auth("vendor_x"),
        json={"code": alike, "title": "別の作業", "responsibility": "vendor"},
    )
    assert created.status_code == 409, created.text
    assert "'1-2'" in created.json()["detail"]
    found = client.get(f"{items_url(world)}/{alike}", headers=world.auth("town_a"))
    assert found.status_code == 200, found.text
    assert found.json()["code"] == "1-2"
    assert found.json()["title"] == "移行計画"


def test_a_code_holding_an_invisible_character_is_refused(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    make_item(code="1")
    for invisible in ("\u200d", "\u200b", "\ufeff", "\u202e"):
        response = client.post(
            items_url(world),
            headers=world.auth("vendor_x"),
            json={"code": f"1-{invisible}2", "title": "作業", "responsibility": "vendor"},
        )
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "code"


def test_a_push_of_a_look_alike_updates_the_item_it_looks_like(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    make_item(code="1")
    make_item(code="1-2", title="移行計画")
    pushed = client.post(
        f"{items_url(world)}/bulk",
        headers=world.auth("vendor_x"),
        json={"items": [{"code": "1−2", "title": "移行計画（改）"}]},
    )
    assert pushed.status_code == 200, pushed.text
    assert pushed.json()["items"][0]["result"] == "updated"
    listed = client.get(items_url(world), headers=world.auth("pmo")).json()["items"]
    assert [(item["code"], item["title"]) for item in listed] == [
        ("1", "作業 1"), ("1-2", "移行計画（改）"),
    ]  # fmt: skip
    twice = client.post(
        f"{items_url(world)}/bulk",
        headers=world.auth("vendor_x"),
        json={"items": [{"code": "1-3", "title": "a", "responsibility": "vendor"},
                        {"code": "1‐3", "title": "b", "responsibility": "vendor"}]},
    )  # fmt: skip
    assert twice.status_code == 422, twice.text
    assert "1-3" in twice.json()["detail"]


def test_a_sheet_repeating_a_code_in_another_notation_names_both_rows(
    client: TestClient, world: World
) -> None:
    rows = [
        ["1", "移行計画", "ベンダー", None, None, None, None, None, None],
        ["1-2", "計画書作成", "ベンダー", None, None, None, None, None, None],
        ["1−2", "計画書作成（重複）", "ベンダー", None, None, None, None, None, None],
    ]
    response = upload(client, world, "vendor_x", workbook_bytes(("WBS", [HEADER, *rows])))
    assert response.status_code == 422, response.text
    problems = response.json()["sheet_errors"]
    assert [(p["row"], p["column"], p["value"]) for p in problems] == [(4, "A", "1−2")]
    assert "row 3" in problems[0]["message"]


def test_the_migration_keeps_existing_look_alikes_apart_and_names_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    now = datetime(2026, 4, 1, tzinfo=UTC)
    with new_database(tmp_path) as url:
        engine = create_engine(url)
        try:
            with engine.begin() as connection:
                migrations.upgrade(connection, "0006")
                connection.execute(
                    text(
                        "INSERT INTO organisations (id, kind, code, name, created_at) VALUES "
                        "(1, 'vendor', 'v', 'ベンダー', :now), (2, 'municipality', 'm', '町', :now)"
                    ),
                    {"now": now},
                )
                connection.execute(
                    text(
                        "INSERT INTO projects (id, municipality_id, vendor_id, name, version, "
                        "created_at, updated_at) VALUES (1, 2, 1, '住基', 1, :now, :now)"
                    ),
                    {"now": now},
                )
                for item_id, code in ((1, "1-2"), (2, "１－２"), (3, "2")):
                    connection.execute(
                        text(
                            "INSERT INTO items (id, project_id, code, sort_key, title, "
                            "responsibility, status, progress, version, created_at, updated_at) "
                            "VALUES (:id, 1, :code, :code, 't', 'vendor', 'not_started', 0, 1, "
                            ":now, :now)"
                        ),
                        {"id": item_id, "code": code, "now": now},
                    )
                with caplog.at_level(logging.WARNING, logger="alembic.runtime.migration"):
                    migrations.upgrade(connection)
                keys = connection.execute(text("SELECT id, code_key FROM items ORDER BY id")).all()
                assert [tuple(row) for row in keys] == [(1, "1-2"), (2, "1-2~2"), (3, "2")]
                assert any("'1-2'" in m and "'１－２'" in m for m in caplog.messages)
                migrations.downgrade(connection, "0006")
                codes = connection.execute(text("SELECT code FROM items ORDER BY id")).scalars()
                assert list(codes) == ["1-2", "１－２", "2"]
        finally:
            engine.dispose()
