from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select, update
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


def _events(db: Session) -> dict[str, list[list[object]]]:
    db.expire_all()
    return {
        event.item_code: event.changes
        for event in db.scalars(select(ChangeEvent).where(ChangeEvent.kind == "created"))
    }


def test_a_pushed_item_and_its_event_are_those_of_a_single_create(
    client: TestClient, world: World, make_item: ItemFactory, db: Session
) -> None:
    make_item(code="1")
    make_item(code="1-1")
    fields = {
        "title": "移行計画",
        "description": "計画書を作る",
        "responsibility": "municipality",
        "assignee": "住民課",
        "planned_start": "2026-05-01",
        "planned_end": "2026-05-31",
        "status": "in_progress",
        "progress": 20,
        "deliverable": "計画書",
        "notes": "前倒し",
        "predecessors": ["1-1"],
    }
    single = make_item(code="1-2", **fields)
    status, body = push(client, world, "vendor_x", [{"code": "1-3", **fields}])
    assert status == 200, body
    pushed = client.get(
        f"/api/v1/projects/{world.projects['a_x'].id}/items/1-3", headers=world.auth("pmo")
    ).json()
    ignored = {"id", "code", "created_at", "updated_at"}
    assert {k: v for k, v in pushed.items() if k not in ignored} == {
        k: v for k, v in single.items() if k not in ignored
    }
    events = _events(db)
    assert [change for change in events["1-3"] if change[0] != "code"] == [
        change for change in events["1-2"] if change[0] != "code"
    ]


def test_new_items_may_name_each_other_in_any_order_and_in_any_notation(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    make_item(code="1")
    status, body = push(client, world, "vendor_x", [
        {"code": "2-1", "title": "子", "responsibility": "vendor", "predecessors": ["２－２", "1"]},
        {"code": "2-2", "title": "子", "responsibility": "vendor", "parent_code": "2"},
        {"code": "2", "title": "親", "responsibility": "joint", "predecessors": ["１"]},
        {"code": "3", "title": "別", "responsibility": "joint", "parent_code": "９"},
        {"code": "9", "title": "後の親", "responsibility": "joint"},
    ])  # fmt: skip
    assert status == 200, body
    url = f"/api/v1/projects/{world.projects['a_x'].id}/items"
    items = {i["code"]: i for i in client.get(url, headers=world.auth("pmo")).json()["items"]}
    assert (items["2-1"]["parent_code"], items["2-1"]["predecessors"]) == ("2", ["1", "2-2"])
    assert (items["2"]["parent_code"], items["2"]["predecessors"]) == (None, ["1"])
    assert items["3"]["parent_code"] == "9"


@pytest.mark.parametrize(
    ("entries", "index", "field", "kind"),
    [
        (
            [
                {"code": "5", "title": "a", "responsibility": "vendor", "parent_code": "6"},
                {"code": "6", "title": "b", "responsibility": "vendor", "parent_code": "5"},
            ],
            0,
            "parent_code",
            "parent_cycle",
        ),
        (
            [{"code": "5", "title": "a", "responsibility": "vendor", "parent_code": "5"}],
            0,
            "parent_code",
            "parent_cycle",
        ),
        (
            [
                {"code": "5", "title": "a", "responsibility": "vendor", "predecessors": ["7"]},
                {"code": "6", "title": "b", "responsibility": "vendor", "predecessors": ["5"]},
                {"code": "7", "title": "c", "responsibility": "vendor", "predecessors": ["6"]},
            ],
            None,
            "predecessors",
            "predecessor_cycle",
        ),
        (
            [{"code": "5", "title": "a", "responsibility": "vendor", "predecessors": ["５"]}],
            0,
            "predecessors",
            "predecessor_cycle",
        ),
    ],
)
def test_new_items_that_close_a_cycle_fail_the_push_with_409(
    client: TestClient,
    world: World,
    db: Session,
    entries: list[dict[str, object]],
    index: int | None,
    field: str,
    kind: str,
) -> None:
    events = db.scalar(select(func.count()).select_from(ChangeEvent))
    status, body = push(client, world, "vendor_x", entries)
    assert status == 409, body
    error = body["errors"][0]  # type: ignore[index]
    assert error["type"] == kind
    assert error["field"].endswith(f"].{field}")
    if index is not None:
        assert error["field"] == f"items[{index}].{field}"
    assert db.scalar(select(func.count()).select_from(Item)) == 0
    assert db.scalar(select(func.count()).select_from(ChangeEvent)) == events


def test_a_create_names_what_it_cannot_find_or_may_not_do(
    client: TestClient, world: World, make_item: ItemFactory, db: Session
) -> None:
    make_item(code="1")
    status, body = push(client, world, "vendor_x", [
        {"code": "2", "title": "a", "responsibility": "vendor"},
        {"code": "3", "title": "b", "responsibility": "vendor", "predecessors": ["1", "8", "9"]},
    ])  # fmt: skip
    assert status == 404, body
    assert body["errors"][0]["field"] == "items[1].predecessors"  # type: ignore[index]
    assert "8, 9" in str(body["detail"])
    status, body = push(client, world, "vendor_x", [
        {"code": "2", "title": "a", "responsibility": "vendor", "planned_start": "2026-05-02",
         "planned_end": "2026-05-01"},
    ])  # fmt: skip
    assert status == 422, body
    assert body["errors"][0]["field"] == "items[0].planned_end"  # type: ignore[index]
    status, body = push(
        client, world, "town_a", [{"code": "2", "title": "a", "responsibility": "vendor"}]
    )
    assert status == 403, body
    assert "items[0] (code 2)" in str(body["detail"])
    assert db.scalar(select(func.count()).select_from(Item)) == 1


def test_a_thousand_new_items_take_a_few_statements_not_a_few_per_item(
    client: TestClient, world: World, make_item: ItemFactory, app: FastAPI
) -> None:
    make_item(code="1")
    entries: list[dict[str, object]] = [
        {"code": f"{s}", "title": f"大項目{s}", "responsibility": "joint", "predecessors": ["1"]}
        for s in range(2, 52)
    ]
    entries += [
        {"code": f"{s}-{n}", "title": "作業", "responsibility": "vendor",
         "predecessors": [f"{s}-{n - 1}"] if n > 1 else []}
        for s in range(2, 52)
        for n in range(1, 20)
    ]  # fmt: skip
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    engine = app.state.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        status, body = push(client, world, "vendor_x", entries)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert status == 200, body
    assert len(body["items"]) == 1000  # type: ignore[arg-type]
    # The token, the project, the stale check, the pushed codes, the names, two levels of
    # items, the links, the events and the feed counter; PostgreSQL's COPY is not counted.
    assert len(statements) <= 20, "\n".join(statements)


def test_an_update_may_name_an_item_the_same_push_creates(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    make_item(code="1")
    make_item(code="2")
    status, body = push(client, world, "vendor_x", [
        {"code": "2", "parent_code": "9", "predecessors": ["9-1"]},
        {"code": "9-1", "title": "新しい子", "responsibility": "vendor"},
        {"code": "9", "title": "新しい親", "responsibility": "joint"},
    ])  # fmt: skip
    assert status == 200, body
    assert [r["result"] for r in body["items"]] == ["updated", "created", "created"]  # type: ignore[attr-defined]
    item = client.get(
        f"/api/v1/projects/{world.projects['a_x'].id}/items/2", headers=world.auth("pmo")
    ).json()
    assert (item["parent_code"], item["predecessors"], item["version"]) == ("9", ["9-1"], 2)
