"""Inputs a fuzzer or a careless script sends get a clear 422, never a 500, on both databases."""

from __future__ import annotations

import base64
import json

import pytest
from fastapi.testclient import TestClient

from service.cursors import ITEM_CURSOR_PATTERN, item_cursor
from tests.conftest import ItemFactory, World

HUGE = 2**63


def encode_cursor(position: dict[str, object]) -> str:
    """A cursor as earlier releases wrote them, which the service still reads."""
    raw = json.dumps(position, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def lists(world: World) -> dict[str, tuple[str, dict[str, object]]]:
    project = world.projects["a_x"].id
    return {
        "items": (f"/api/v1/projects/{project}/items", {"k": "1", "i": HUGE}),
        "projects": ("/api/v1/projects", {"id": HUGE}),
        "organisations": ("/api/v1/organisations", {"id": HUGE}),
        "tokens": ("/api/v1/tokens", {"id": HUGE}),
        "imports": (f"/api/v1/projects/{project}/imports", {"id": HUGE}),
        "partners": ("/api/v1/partners", {"id": HUGE}),
    }


@pytest.mark.parametrize(
    "name", ["items", "projects", "organisations", "tokens", "imports", "partners"]
)
def test_old_cursors_holding_numbers_no_database_compares_are_refused(
    client: TestClient, world: World, name: str
) -> None:
    url, position = lists(world)[name]
    for value in (HUGE, 2**31, -1, True, 1.5):
        key = "i" if "i" in position else "id"
        cursor = encode_cursor({**position, key: value})
        response = client.get(url, params={"cursor": cursor}, headers=world.auth("pmo"))
        assert response.status_code == 422, (name, value, response.text)
        assert response.json()["errors"][0]["field"] == "cursor"


def test_feed_cursors_past_any_position_are_refused(client: TestClient, world: World) -> None:
    for url in ("/api/v1/changes", f"/api/v1/projects/{world.projects['a_x'].id}/changes"):
        response = client.get(
            url, params={"since": encode_cursor({"s": HUGE})}, headers=world.auth("pmo")
        )
        assert response.status_code == 422, response.text


@pytest.mark.parametrize(
    "instant", ["0001-01-01T00:00:00", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"]
)
def test_instants_at_the_edge_of_the_calendar_are_refused(
    client: TestClient, world: World, instant: str
) -> None:
    response = client.get(
        f"/api/v1/projects/{world.projects['a_x'].id}/items",
        params={"updated_since": instant},
        headers=world.auth("pmo"),
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "updated_since"


def test_a_due_window_past_the_last_day_of_the_calendar_is_answered(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    make_item(code="1", planned_end="2099-01-01")
    response = client.get(
        "/api/v1/reports/overdue",
        params={"as_of": "9999-12-31", "due_within": 30},
        headers=world.auth("pmo"),
    )
    assert response.status_code == 200, response.text
    assert [row["code"] for row in response.json()["rows"]] == ["1"]


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/v1/projects/{p}/items", "q"),
        ("/api/v1/projects/{p}/items", "assignee"),
        ("/api/v1/projects", "municipality"),
        ("/api/v1/projects", "consortium"),
        ("/api/v1/reports/overdue", "vendor"),
        ("/api/v1/reports/progress", "consortium"),
        ("/api/v1/changes", "field"),
        ("/api/v1/changes", "since"),
        ("/api/v1/projects", "cursor"),
    ],
)
def test_a_nul_in_any_query_string_is_refused(
    client: TestClient, world: World, path: str, name: str
) -> None:
    url = path.replace("{p}", str(world.projects["a_x"].id))
    response = client.get(url, params={name: "ab\x00c"}, headers=world.auth("pmo"))
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == name


@pytest.mark.parametrize("mark", ["\u202e", "\u2066", "\u0085", "\u009b"])
def test_titles_and_notes_refuse_direction_overrides_and_c1_controls(
    client: TestClient, world: World, make_item: ItemFactory, mark: str
) -> None:
    url = f"/api/v1/projects/{world.projects['a_x'].id}/items"
    created = client.post(
        url,
        headers=world.auth("vendor_x"),
        json={"code": "1", "title": f"計画{mark}書", "responsibility": "vendor"},
    )
    assert created.status_code == 422, created.text
    make_item(code="2")
    noted = client.patch(f"{url}/2", headers=world.auth("vendor_x"), json={"notes": f"a{mark}b"})
    assert noted.status_code == 422, noted.text
    assert noted.json()["errors"][0]["field"] == "notes"


def test_every_cursor_the_contract_admits_is_a_position_to_go_on_from(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    """A generated client or a fuzzer sending any cursor the published pattern allows is answered."""
    import re

    make_item(code="1")
    make_item(code="2")
    project = world.projects["a_x"].id
    items = f"/api/v1/projects/{project}/items"
    for cursor in (
        "00.0",
        ".9999999999",
        "ff" * 765 + ".1",
        "e381.2147483648",
        item_cursor("1", 1),
    ):
        assert re.fullmatch(ITEM_CURSOR_PATTERN, cursor)
        response = client.get(items, params={"cursor": cursor}, headers=world.auth("pmo"))
        assert response.status_code == 200, (cursor[:20], response.text)
    after_first = client.get(
        items,
        params={"cursor": item_cursor("0000000001", 0), "limit": 1},
        headers=world.auth("pmo"),
    ).json()
    assert [item["code"] for item in after_first["items"]] == ["1"]
    for url in ("/api/v1/projects", "/api/v1/organisations", "/api/v1/tokens", "/api/v1/partners"):
        for cursor in ("0", "9999999999"):
            response = client.get(url, params={"cursor": cursor}, headers=world.auth("pmo"))
            assert response.status_code == 200, (url, cursor, response.text)
    for since in ("0", "9" * 19):
        response = client.get("/api/v1/changes", params={"since": since}, headers=world.auth("pmo"))
        assert response.status_code == 200, response.text
    assert (
        client.get("/api/v1/changes", params={"since": "9" * 19}, headers=world.auth("pmo")).json()[
            "items"
        ]
        == []
    )


def test_cursors_handed_out_before_are_still_read(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    make_item(code="1")
    make_item(code="2")
    make_item(code="3")
    first = client.get("/api/v1/changes", params={"limit": 1}, headers=world.auth("pmo")).json()
    old = encode_cursor({"s": int(first["next_cursor"])})
    kept = client.get("/api/v1/changes", params={"since": old}, headers=world.auth("pmo")).json()
    assert [e["item_code"] for e in kept["items"]] == ["2", "3"]
    projects = client.get(
        "/api/v1/projects", params={"cursor": encode_cursor({"id": 1})}, headers=world.auth("pmo")
    ).json()
    assert [p["id"] for p in projects["items"]] == [
        world.projects["b_x"].id,
        world.projects["b_y"].id,
    ]
