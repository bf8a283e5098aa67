from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.changes.models import ChangeEvent, ChangeKind
from tests.conftest import ItemFactory, World

AS_OF = "2026-04-10"


def items_url(world: World, project: str = "a_x") -> str:
    return f"/api/v1/projects/{world.projects[project].id}/items"


def test_create_returns_every_field_with_parent_from_the_code(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    make_item(code="1")
    make_item(code="1-1")
    response = client.post(
        items_url(world),
        headers=world.auth("vendor_x"),
        json={
            "code": "1-1-1",
            "title": "移行データ確認",
            "description": "確認作業",
            "responsibility": "municipality",
            "assignee": "住民課",
            "planned_start": "2099-04-01",
            "planned_end": "2099-04-30",
            "status": "in_progress",
            "progress": 30,
            "deliverable": "確認結果",
            "notes": "メモ",
            "predecessors": ["1-1"],
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["ETag"] == '"v1"'
    assert response.headers["Location"].endswith("/items/1-1-1")
    assert body["parent_code"] == "1-1"
    assert body["predecessors"] == ["1-1"]
    assert body["responsibility"] == "municipality"
    assert body["planned_end"] == "2099-04-30"
    assert body["version"] == 1
    assert body["progress"] == 30
    assert body["overdue"] is False
    for name in (
        "code", "parent_code", "title", "description", "responsibility", "assignee",
        "planned_start", "planned_end", "actual_start", "actual_end", "status", "progress",
        "deliverable", "notes", "predecessors", "version", "overdue", "updated_at",
    ):  # fmt: skip
        assert name in body


def test_dotted_codes_take_their_parent_and_an_explicit_parent_wins(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    make_item(code="1")
    make_item(code="1.2")
    assert make_item(code="1.2.3")["parent_code"] == "1.2"
    make_item(code="9")
    assert make_item(code="ア", parent_code="9")["parent_code"] == "9"


def test_unknown_parent_is_a_404_naming_the_field(client: TestClient, world: World) -> None:
    response = client.post(
        items_url(world),
        headers=world.auth("vendor_x"),
        json={"code": "5-1", "title": "x", "responsibility": "vendor"},
    )
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["parent_code"]
    assert "'5'" in response.json()["detail"]


def test_predecessor_outside_the_project_is_a_404(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    make_item(project="b_x", code="7")
    response = client.post(
        items_url(world),
        headers=world.auth("vendor_x"),
        json={"code": "1", "title": "x", "responsibility": "vendor", "predecessors": ["7"]},
    )
    assert response.status_code == 404
    assert response.json()["errors"][0]["field"] == "predecessors"
    assert "7" in response.json()["errors"][0]["message"]


def test_cycles_in_parents_and_predecessors_are_refused(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    make_item(code="1")
    make_item(code="1-1")
    url = items_url(world)
    response = client.patch(f"{url}/1", headers=world.auth("vendor_x"), json={"parent_code": "1-1"})
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "parent_code"

    make_item(code="2", predecessors=["1"])
    response = client.patch(
        f"{url}/1", headers=world.auth("vendor_x"), json={"predecessors": ["2"]}
    )
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "predecessors"
    response = client.patch(
        f"{url}/1", headers=world.auth("vendor_x"), json={"predecessors": ["1"]}
    )
    assert response.status_code == 409


def test_duplicate_code_is_a_409(client: TestClient, world: World, make_item: ItemFactory) -> None:
    make_item(code="1")
    response = client.post(
        items_url(world),
        headers=world.auth("vendor_x"),
        json={"code": "1", "title": "x", "responsibility": "vendor"},
    )
    assert response.status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "1", "title": "x", "responsibility": "vendor", "id": 5}, "id"),
        ({"code": "1", "title": "x", "responsibility": "vendor", "version": 3}, "version"),
        (
            {
                "code": "1",
                "title": "x",
                "responsibility": "vendor",
                "updated_at": "2026-01-01T00:00:00Z",
            },
            "updated_at",
        ),
        ({"code": "1", "title": "x", "responsibility": "vendor", "actor": "pmo"}, "actor"),
        ({"code": "1", "title": "x", "responsibility": "vendor", "project_id": 2}, "project_id"),
        ({"code": "1", "title": "x", "responsibility": "somebody"}, "responsibility"),
        ({"code": "1", "title": "x", "responsibility": "vendor", "progress": 101}, "progress"),
        ({"code": "1", "title": "  ", "responsibility": "vendor"}, "title"),
        ({"code": "1/2", "title": "x", "responsibility": "vendor"}, "code"),
        (
            {"code": "1", "title": "x", "responsibility": "vendor", "planned_end": "2026-02-30"},
            "planned_end",
        ),
    ],
)
def test_invalid_input_names_the_field(
    client: TestClient, world: World, body: dict[str, object], field: str
) -> None:
    response = client.post(items_url(world), headers=world.auth("vendor_x"), json=body)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]


def test_plan_that_ends_before_it_starts_is_a_422(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    response = client.post(
        items_url(world),
        headers=world.auth("vendor_x"),
        json={
            "code": "1",
            "title": "x",
            "responsibility": "vendor",
            "planned_start": "2026-05-01",
            "planned_end": "2026-04-01",
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "planned_end"

    make_item(code="2", planned_start="2026-05-01", planned_end="2026-05-31")
    response = client.patch(
        f"{items_url(world)}/2", headers=world.auth("vendor_x"), json={"planned_end": "2026-04-30"}
    )
    assert response.status_code == 422
    assert (
        client.get(f"{items_url(world)}/2", headers=world.auth("vendor_x")).json()["planned_end"]
        == "2026-05-31"
    )


def test_patch_changes_only_the_fields_sent_and_bumps_the_version(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    make_item(code="1", description="説明", notes="n", planned_end="2026-05-01")
    response = client.patch(
        f"{items_url(world)}/1",
        headers=world.auth("vendor_x"),
        json={"title": "新しい名前", "notes": None},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["title"], body["notes"], body["description"], body["planned_end"]) == (
        "新しい名前",
        None,
        "説明",
        "2026-05-01",
    )
    assert body["version"] == 2
    assert response.headers["ETag"] == '"v2"'


def test_patch_refuses_null_for_required_fields(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    make_item(code="1")
    response = client.patch(
        f"{items_url(world)}/1", headers=world.auth("vendor_x"), json={"title": None}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "title"


def test_stale_if_match_is_a_412_with_the_current_version(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    make_item(code="1")
    url = f"{items_url(world)}/1"
    etag = client.get(url, headers=world.auth("vendor_x")).headers["ETag"]
    first = client.patch(
        url, headers={**world.auth("vendor_x"), "If-Match": etag}, json={"title": "A"}
    )
    assert first.status_code == 200
    second = client.patch(
        url, headers={**world.auth("vendor_x"), "If-Match": etag}, json={"title": "B"}
    )
    assert second.status_code == 412
    assert second.json()["current_version"] == 2
    assert second.headers["ETag"] == '"v2"'
    assert client.get(url, headers=world.auth("vendor_x")).json()["title"] == "A"


def test_renaming_a_code_moves_the_item_and_rederives_its_parent(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    make_item(code="1")
    make_item(code="2")
    make_item(code="1-1")
    response = client.patch(
        f"{items_url(world)}/1-1", headers=world.auth("vendor_x"), json={"code": "2-1"}
    )
    assert response.status_code == 200
    assert response.json()["parent_code"] == "2"
    assert client.get(f"{items_url(world)}/1-1", headers=world.auth("vendor_x")).status_code == 404


def test_delete_refuses_items_others_depend_on_and_keeps_history(
    client: TestClient, world: World, make_item: ItemFactory, db: Session
) -> None:
    make_item(code="1")
    make_item(code="1-1")
    make_item(code="2", predecessors=["1-1"])
    url = items_url(world)
    assert client.delete(f"{url}/1", headers=world.auth("vendor_x")).status_code == 409
    conflict = client.delete(f"{url}/1-1", headers=world.auth("vendor_x"))
    assert conflict.status_code == 409
    assert "2" in conflict.json()["detail"]
    assert client.delete(f"{url}/2", headers=world.auth("vendor_x")).status_code == 204
    assert client.delete(f"{url}/1-1", headers=world.auth("vendor_x")).status_code == 204
    assert client.get(f"{url}/1-1", headers=world.auth("vendor_x")).status_code == 404
    kinds = [e.kind for e in db.scalars(select(ChangeEvent).where(ChangeEvent.item_code == "1-1"))]
    assert kinds == [ChangeKind.created, ChangeKind.deleted]


def test_every_change_writes_an_event_with_each_fields_old_and_new_value(
    client: TestClient, world: World, make_item: ItemFactory, db: Session
) -> None:
    make_item(code="1", responsibility="municipality", planned_end="2026-04-30")
    client.patch(
        f"{items_url(world)}/1",
        headers=world.auth("town_a"),
        json={"status": "in_progress", "progress": 50},
    )
    client.patch(f"{items_url(world)}/1", headers=world.auth("town_a"), json={"progress": 50})
    events = list(db.scalars(select(ChangeEvent).order_by(ChangeEvent.id)))
    assert [e.kind for e in events] == [ChangeKind.created, ChangeKind.updated]
    created, updated = events
    assert created.actor_label == "pmo/test"
    assert {name: new for name, _, new in created.changes}["planned_end"] == "2026-04-30"
    assert updated.actor_label == "town-a/test"
    assert updated.actor_organisation_id == world.orgs["town_a"].id
    assert {name: (old, new) for name, old, new in updated.changes} == {
        "status": ("not_started", "in_progress"),
        "progress": (0, 50),
    }
    assert updated.field_names == " status progress "


def test_list_orders_codes_naturally_and_pages_with_a_cursor(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    for code in ["1", "2", "10", "1-1", "1-2", "1-10"]:
        make_item(code=code)
    url = items_url(world)
    seen: list[str] = []
    next_url: str | None = f"{url}?limit=4"
    while next_url:
        response = client.get(next_url, headers=world.auth("town_a"))
        assert response.status_code == 200
        seen += [item["code"] for item in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        link = response.headers.get("Link")
        if cursor is None:
            assert link is None
            next_url = None
        else:
            assert link is not None
            assert link.endswith('rel="next"')
            next_url = link[1 : link.index(">")]
    assert seen == ["1", "1-1", "1-2", "1-10", "2", "10"]


def test_a_forged_cursor_is_a_422(client: TestClient, world: World) -> None:
    response = client.get(
        f"{items_url(world)}?cursor=bm90LWEtY3Vyc29y", headers=world.auth("town_a")
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "cursor"


def test_filters_select_exactly_the_matching_items(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    make_item(
        code="1",
        responsibility="vendor",
        planned_end="2026-04-09",
        status="in_progress",
        assignee="SE",
    )
    make_item(
        code="1-1", responsibility="municipality", planned_end="2026-04-10", description="住民 確認"
    )
    make_item(code="2", responsibility="joint", planned_end="2026-04-01", status="done")
    make_item(
        code="3", responsibility="municipality", planned_end="2026-03-01", status="not_applicable"
    )
    make_item(code="4", responsibility="municipality", planned_end="2026-04-05", status="delayed")
    make_item(code="5", title="100%_done", responsibility="vendor")

    def codes(query: str) -> list[str]:
        response = client.get(
            f"{items_url(world)}?as_of={AS_OF}&{query}", headers=world.auth("town_a")
        )
        assert response.status_code == 200, response.text
        return [item["code"] for item in response.json()["items"]]

    assert codes("overdue=true") == ["1", "4"]
    assert codes("overdue=false") == ["1-1", "2", "3", "5"]
    assert codes("responsibility=municipality") == ["1-1", "3", "4"]
    assert codes("status=done&status=not_applicable") == ["2", "3"]
    assert codes("assignee=SE") == ["1"]
    assert codes("parent=1") == ["1-1"]
    assert codes("due_before=2026-04-05") == ["2", "3", "4"]
    assert codes("due_after=2026-04-09") == ["1", "1-1"]
    assert codes("q=確認") == ["1-1"]
    assert codes("q=%25_") == ["5"]
    assert codes("responsibility=municipality&overdue=true") == ["4"]
    assert codes("updated_since=2000-01-01T00:00:00") == ["1", "1-1", "2", "3", "4", "5"]
    assert codes("updated_since=2999-01-01T00:00:00Z") == []


def test_overdue_is_computed_for_the_as_of_day(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    make_item(code="1", planned_end="2026-04-09")
    url = f"{items_url(world)}/1"
    assert (
        client.get(f"{url}?as_of=2026-04-09", headers=world.auth("town_a")).json()["overdue"]
        is False
    )
    assert (
        client.get(f"{url}?as_of=2026-04-10", headers=world.auth("town_a")).json()["overdue"]
        is True
    )
    yesterday = (date.today() - timedelta(days=2)).isoformat()
    client.patch(url, headers=world.auth("vendor_x"), json={"planned_end": yesterday})
    assert client.get(url, headers=world.auth("town_a")).json()["overdue"] is True


def test_each_side_changes_only_the_fields_it_owns(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    make_item(code="1", responsibility="municipality")
    make_item(code="2", responsibility="vendor")
    make_item(code="3", responsibility="joint")
    url = items_url(world)
    town, vendor = world.auth("town_a"), world.auth("vendor_x")

    refused = client.patch(
        f"{url}/1", headers=town, json={"title": "x", "planned_end": "2026-05-01", "status": "done"}
    )
    assert refused.status_code == 403
    assert refused.json()["fields"] == ["planned_end", "title"]
    assert client.get(f"{url}/1", headers=town).json()["status"] == "not_started"

    assert (
        client.patch(f"{url}/1", headers=town, json={"status": "done", "progress": 100}).status_code
        == 200
    )
    assert (
        client.patch(f"{url}/1", headers=vendor, json={"status": "in_progress"}).status_code == 403
    )
    assert client.patch(f"{url}/2", headers=town, json={"progress": 10}).status_code == 403
    assert client.patch(f"{url}/2", headers=vendor, json={"progress": 10}).status_code == 200
    assert client.patch(f"{url}/3", headers=town, json={"progress": 20}).status_code == 200
    assert client.patch(f"{url}/3", headers=vendor, json={"progress": 30}).status_code == 200
    assert client.patch(f"{url}/2", headers=town, json={"notes": "確認済み"}).status_code == 200
    # Sending a value that is already there changes nothing, so it is not refused.
    assert client.patch(f"{url}/2", headers=town, json={"title": "作業 2"}).status_code == 200
    assert (
        client.patch(f"{url}/2", headers=world.auth("pmo"), json={"title": "PMO"}).status_code
        == 200
    )


def test_municipality_cannot_create_or_delete_items(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    make_item(code="1")
    town = world.auth("town_a")
    body = {"code": "2", "title": "x", "responsibility": "municipality"}
    assert client.post(items_url(world), headers=town, json=body).status_code == 403
    assert client.delete(f"{items_url(world)}/1", headers=town).status_code == 403


def test_kana_codes_round_trip_through_location_and_path(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    make_item(code="1")
    response = client.post(
        items_url(world),
        headers=world.auth("vendor_x"),
        json={"code": "1-ア", "title": "x", "responsibility": "vendor"},
    )
    assert response.status_code == 201
    location = response.headers["Location"]
    assert location.endswith("/items/1-%E3%82%A2")
    assert client.get(location, headers=world.auth("vendor_x")).json()["code"] == "1-ア"
