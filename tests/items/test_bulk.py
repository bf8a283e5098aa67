from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from service.changes.models import ChangeEvent
from service.items import bulk
from service.items.models import Item
from tests.conftest import ItemFactory, World


def push(
    client: TestClient, world: World, who: str, items: list[dict[str, object]]
) -> tuple[int, dict[str, object]]:
    response = client.post(
        f"/api/v1/projects/{world.projects['a_x'].id}/items/bulk",
        headers=world.auth(who),
        json={"items": items},
    )
    return response.status_code, dict(response.json())


def test_creates_and_updates_in_one_push_parents_first(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    make_item(code="1", responsibility="vendor")
    status, body = push(client, world, "vendor_x", [
        {"code": "2-1", "title": "子", "responsibility": "municipality", "predecessors": ["1"]},
        {"code": "1", "version": 1, "title": "改名"},
        {"code": "2", "title": "親", "responsibility": "joint"},
        {"code": "1", "title": "x"} if False else {"code": "3", "title": "三", "responsibility": "vendor"},
    ])  # fmt: skip
    assert status == 200, body
    assert [(r["code"], r["result"], r["version"]) for r in body["items"]] == [  # type: ignore[attr-defined]
        ("2-1", "created", 1), ("1", "updated", 2), ("2", "created", 1), ("3", "created", 1),
    ]  # fmt: skip
    item = client.get(
        f"/api/v1/projects/{world.projects['a_x'].id}/items/2-1", headers=world.auth("town_a")
    ).json()
    assert (item["parent_code"], item["predecessors"]) == ("2", ["1"])
    status, body = push(client, world, "vendor_x", [{"code": "1", "title": "改名"}])
    assert body["items"][0]["result"] == "unchanged"  # type: ignore[index]


def test_stale_versions_fail_the_whole_push_listing_every_stale_code(
    client: TestClient, world: World, make_item: ItemFactory, db: Session
) -> None:
    make_item(code="1")
    make_item(code="2")
    make_item(code="3")
    client.patch(
        f"/api/v1/projects/{world.projects['a_x'].id}/items/2",
        headers=world.auth("vendor_x"),
        json={"title": "他者の変更"},
    )
    events = db.scalar(select(func.count()).select_from(ChangeEvent))
    status, body = push(client, world, "vendor_x", [
        {"code": "1", "version": 1, "title": "a"},
        {"code": "2", "version": 1, "title": "b"},
        {"code": "3", "version": 7, "title": "c"},
        {"code": "4", "title": "new", "responsibility": "vendor"},
    ])  # fmt: skip
    assert status == 412
    assert body["stale"] == [
        {"code": "2", "version": 1, "current_version": 2},
        {"code": "3", "version": 7, "current_version": 1},
    ]
    assert db.scalar(select(func.count()).select_from(ChangeEvent)) == events
    assert db.scalar(select(func.count()).select_from(Item)) == 3


def test_any_bad_entry_fails_the_push_and_names_it(
    client: TestClient, world: World, make_item: ItemFactory, db: Session
) -> None:
    make_item(code="1", responsibility="municipality")
    status, body = push(client, world, "vendor_x", [
        {"code": "5", "title": "ok", "responsibility": "vendor"},
        {"code": "6", "title": "no side"},
    ])  # fmt: skip
    assert status == 404
    assert body["errors"][0]["field"] == "items[1].responsibility"  # type: ignore[index]
    assert db.scalar(select(func.count()).select_from(Item)) == 1

    status, body = push(client, world, "vendor_x", [{"code": "1", "status": "done"}])
    assert status == 403
    assert "items[0] (code 1)" in str(body["detail"])
    assert body["fields"] == ["status"]
    status, body = push(
        client,
        world,
        "vendor_x",
        [{"code": "7", "title": "x", "responsibility": "vendor"}, {"code": "7", "title": "y"}],
    )
    assert status == 422
    assert push(client, world, "vendor_x", [])[0] == 422
    assert (
        push(
            client,
            world,
            "vendor_x",
            [{"code": str(n), "title": "x", "responsibility": "vendor"} for n in range(1001)],
        )[0]
        == 422
    )
    status, body = push(
        client, world, "vendor_x", [{"code": "9-1", "title": "orphan", "responsibility": "vendor"}]
    )
    assert status == 404
    assert body["errors"][0]["field"] == "items[0].parent_code"  # type: ignore[index]


def test_a_thousand_item_push_is_accepted(client: TestClient, world: World, db: Session) -> None:
    entries = [
        {"code": f"{s}", "title": f"大項目{s}", "responsibility": "joint"} for s in range(1, 11)
    ]
    entries += [
        {"code": f"{s}-{n}", "title": f"作業{s}-{n}", "responsibility": "vendor"}
        for s in range(1, 11)
        for n in range(1, 100)
    ]
    status, body = push(client, world, "vendor_x", entries)
    assert status == 200
    assert len(body["items"]) == 1000  # type: ignore[arg-type]
    assert db.scalar(select(func.count()).select_from(Item)) == 1000


def _replan(count: int, days: int) -> list[dict[str, object]]:
    return [
        {"code": f"{n}", "planned_start": f"2026-05-{days:02d}", "planned_end": "2026-06-30"}
        for n in range(1, count + 1)
    ]


def test_a_replan_writes_each_item_once_with_its_new_version_and_event(
    client: TestClient, world: World, db: Session
) -> None:
    created = [{"code": f"{n}", "title": f"作業{n}", "responsibility": "vendor"} for n in (1, 2, 3)]
    assert push(client, world, "vendor_x", created)[0] == 200
    status, body = push(client, world, "vendor_x", _replan(3, 11))
    assert status == 200, body
    assert {(r["result"], r["version"]) for r in body["items"]} == {("updated", 2)}  # type: ignore[attr-defined]
    db.expire_all()
    stored = db.execute(select(Item.code, Item.version, Item.planned_start).order_by(Item.code))
    assert [(code, version, str(start)) for code, version, start in stored] == [
        ("1", 2, "2026-05-11"),
        ("2", 2, "2026-05-11"),
        ("3", 2, "2026-05-11"),
    ]
    updates = db.scalar(
        select(func.count()).select_from(ChangeEvent).where(ChangeEvent.kind == "updated")
    )
    assert updates == 3
    status, body = push(client, world, "vendor_x", _replan(3, 11))
    assert {r["result"] for r in body["items"]} == {"unchanged"}  # type: ignore[attr-defined]


def test_an_item_changed_by_another_writer_during_the_push_fails_it_whole(
    client: TestClient, world: World, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = [{"code": f"{n}", "title": f"作業{n}", "responsibility": "vendor"} for n in (1, 2)]
    assert push(client, world, "vendor_x", created)[0] == 200
    write = bulk._write_plain_updates

    def another_writer_first(session: Session, updated: list[tuple[Item, int]]) -> None:
        # Between reading the items and writing them, another writer moves item 2 on.
        db.execute(update(Item).where(Item.code == "2").values(version=Item.version + 1))
        db.commit()
        write(session, updated)

    monkeypatch.setattr(bulk, "_write_plain_updates", another_writer_first)
    status, body = push(client, world, "vendor_x", _replan(2, 12))
    assert status == 412, body
    assert "nothing was applied" in str(body["detail"]).lower()
    assert body["stale"] == [{"code": "2", "version": 1, "current_version": 2}]
    db.expire_all()
    assert [str(d) for d in db.scalars(select(Item.planned_start).order_by(Item.code))] == [
        "None",
        "None",
    ]
