"""GET …/items/{code}/history: an item's events, by pages, newest or oldest first."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import ItemFactory, World


def history(
    client: TestClient, world: World, who: str, code: str, query: str = "", project: str = "a_x"
) -> Any:
    url = f"/api/v1/projects/{world.projects[project].id}/items/{code}/history?{query}"
    return client.get(url, headers=world.auth(who))


def _changes(client: TestClient, world: World, code: str, count: int) -> None:
    url = f"/api/v1/projects/{world.projects['a_x'].id}/items/{code}"
    for step in range(count):
        response = client.patch(url, headers=world.auth("town_a"), json={"progress": step + 1})
        assert response.status_code == 200, response.text


def _walk(client: TestClient, world: World, code: str, query: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    cursor = ""
    for _ in range(100):
        response = history(client, world, "town_a", code, f"{query}{cursor}")
        assert response.status_code == 200, response.text
        body = response.json()
        events += body["items"]
        if body["next_cursor"] is None:
            assert "Link" not in response.headers
            return events
        assert response.headers["Link"].endswith('>; rel="next"')
        assert f"cursor={body['next_cursor']}" in response.headers["Link"]
        cursor = f"&cursor={body['next_cursor']}"
    raise AssertionError("the history never ended")


def test_history_newest_first_by_pages_holds_every_event_of_the_item_only(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    make_item(code="1", responsibility="municipality")
    make_item(code="2", responsibility="municipality")
    _changes(client, world, "1", 6)
    _changes(client, world, "2", 3)

    events = _walk(client, world, "1", "limit=2")
    assert [e["kind"] for e in events] == ["updated"] * 6 + ["created"]
    assert {e["item_code"] for e in events} == {"1"}
    positions = [e["position"] for e in events]
    assert positions == sorted(positions, reverse=True)
    assert events[0]["changes"] == [{"field": "progress", "old": 5, "new": 6}]
    assert events[0]["actor"]["label"] == "town-a/test"
    assert events[-1]["actor"]["label"] == "pmo/test"


def test_history_oldest_first_is_the_same_events_reversed(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    make_item(code="1", responsibility="municipality")
    make_item(code="1-2", responsibility="municipality")
    _changes(client, world, "1-2", 4)
    newest = _walk(client, world, "1-2", "limit=3")
    oldest = _walk(client, world, "1-2", "order=oldest&limit=3")
    assert oldest == list(reversed(newest))
    assert oldest[0]["kind"] == "created"
    whole = history(client, world, "town_a", "1-2", "order=oldest&limit=1000").json()
    assert whole["items"] == oldest
    assert whole["next_cursor"] is None


def test_history_is_found_as_get_item_finds_the_code(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    make_item(code="1")
    make_item(code="1-2")
    response = history(client, world, "town_a", "１－２")  # the full-width way of writing it
    assert response.status_code == 200, response.text
    assert [e["item_code"] for e in response.json()["items"]] == ["1-2"]


def test_history_of_a_code_reused_after_a_delete_starts_anew(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    make_item(code="7", title="旧")
    url = f"/api/v1/projects/{world.projects['a_x'].id}/items/7"
    assert client.delete(url, headers=world.auth("pmo")).status_code == 204
    assert history(client, world, "pmo", "7").status_code == 404
    make_item(code="7", title="新")
    events = history(client, world, "pmo", "7").json()["items"]
    assert [e["kind"] for e in events] == ["created"]
    assert {"field": "title", "old": None, "new": "新"} in events[0]["changes"]


def test_history_answers_404_for_an_item_or_project_the_caller_cannot_see(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    make_item(code="1")
    make_item(project="b_y", code="1")
    # An unknown item, in a project the caller sees.
    assert history(client, world, "town_a", "99").status_code == 404
    # Another organisation's project, whose item exists: no different from one that does not.
    probe = history(client, world, "town_a", "1", project="b_y")
    unknown = client.get("/api/v1/projects/999999/items/1/history", headers=world.auth("town_a"))
    assert probe.status_code == unknown.status_code == 404
    assert probe.headers["content-type"].startswith("application/problem+json")
    assert set(probe.json()) == set(unknown.json())
    assert str(world.projects["b_y"].id) in probe.json()["detail"]
    # The vendor of the other project and the PMO see it.
    assert history(client, world, "vendor_y", "1", project="b_y").status_code == 200
    assert history(client, world, "pmo", "1", project="b_y").status_code == 200
    assert (
        client.get(f"/api/v1/projects/{world.projects['a_x'].id}/items/1/history").status_code
        == 401
    )


def test_history_refuses_what_it_never_hands_out(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    make_item(code="1")
    for query in ("cursor=abc", "order=sideways", "limit=0", "limit=1001"):
        response = history(client, world, "town_a", "1", query)
        assert response.status_code == 422, (query, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    # Any cursor the pattern admits is a position: past the end is an empty page.
    for query in ("cursor=0", "order=oldest&cursor=9999999999999999999"):
        response = history(client, world, "town_a", "1", query)
        assert response.status_code == 200, response.text
        assert response.json() == {"items": [], "next_cursor": None}
