"""A vendor starts projects only with municipalities that named it; nobody else learns more."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import World

MISSING_ID = 987654


def start(client: TestClient, world: World, who: str, municipality_id: int, name: str) -> dict:
    response = client.post(
        "/api/v1/projects",
        headers=world.auth(who),
        json={"municipality_id": municipality_id, "name": name},
    )
    return {"status": response.status_code, "body": response.json()}


def test_a_vendor_cannot_attach_itself_to_a_municipality_that_has_not_agreed(
    client: TestClient, world: World
) -> None:
    town_a = world.orgs["town_a"].id
    refused = start(client, world, "vendor_y", town_a, "税務システム")
    unknown = start(client, world, "vendor_y", MISSING_ID, "税務システム")
    assert refused["status"] == unknown["status"] == 404
    # Indistinguishable: the answers differ only in the id the vendor sent.
    assert str(refused["body"]).replace(f"id {town_a} ", "id <id> ") == str(
        unknown["body"]
    ).replace(f"id {MISSING_ID} ", "id <id> ")
    assert (
        client.get(f"/api/v1/organisations/{town_a}", headers=world.auth("vendor_y")).status_code
        == 404
    )
    projects = client.get("/api/v1/projects", headers=world.auth("town_a")).json()["items"]
    assert [p["vendor"]["code"] for p in projects] == ["vendor-x"]


def test_once_the_municipality_names_the_vendor_it_may_start_projects(
    client: TestClient, world: World
) -> None:
    town_a = world.orgs["town_a"].id
    granted = client.post(
        "/api/v1/partners",
        headers=world.auth("town_a"),
        json={"municipality": "town-a", "vendor": "vendor-y"},
    )
    assert granted.status_code == 201, granted.text
    assert granted.json()["granted_by"] == "town-a/test"
    seen = client.get(f"/api/v1/organisations/{town_a}", headers=world.auth("vendor_y"))
    assert seen.status_code == 200
    assert start(client, world, "vendor_y", town_a, "税務システム")["status"] == 201
    mine = client.get("/api/v1/partners", headers=world.auth("vendor_y")).json()["items"]
    assert sorted(p["municipality"]["code"] for p in mine) == ["town-a", "town-b"]

    withdrawn = client.delete(
        f"/api/v1/partners/{granted.json()['id']}", headers=world.auth("town_a")
    )
    assert withdrawn.status_code == 204
    assert start(client, world, "vendor_y", town_a, "介護保険")["status"] == 404
    # What was started together stays.
    projects = client.get("/api/v1/projects", headers=world.auth("town_a")).json()["items"]
    assert sorted(p["vendor"]["code"] for p in projects) == ["vendor-x", "vendor-y"]


def test_only_the_municipality_or_the_pmo_gives_consent(client: TestClient, world: World) -> None:
    assert (
        client.post(
            "/api/v1/partners",
            headers=world.auth("vendor_y"),
            json={"municipality": "town-a", "vendor": "vendor-y"},
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/api/v1/partners",
            headers=world.auth("town_b"),
            json={"vendor": "vendor-y", "municipality": "town-a"},
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/api/v1/partners",
            headers=world.auth("town_a_read_only"),
            json={"municipality": "town-a", "vendor": "vendor-y"},
        ).status_code
        == 403
    )
    unknown = client.post(
        "/api/v1/partners",
        headers=world.auth("town_a"),
        json={"municipality": "town-a", "vendor": "nobody"},
    )
    assert unknown.status_code == 404
    assert unknown.json()["errors"][0]["field"] == "vendor"
    again = client.post(
        "/api/v1/partners",
        headers=world.auth("town_a"),
        json={"municipality": "town-a", "vendor": "vendor-x"},
    )
    assert again.status_code == 409
    pmo = client.post(
        "/api/v1/partners",
        headers=world.auth("pmo"),
        json={"vendor": "vendor-y", "municipality": "town-a"},
    )
    assert pmo.status_code == 201, pmo.text
    assert (
        client.post(
            "/api/v1/partners", headers=world.auth("pmo"), json={"vendor": "vendor-y"}
        ).status_code
        == 422
    )
    listed = client.get("/api/v1/partners", headers=world.auth("town_b")).json()["items"]
    assert sorted(p["vendor"]["code"] for p in listed) == ["vendor-x", "vendor-y"]
    assert all(p["municipality"]["code"] == "town-b" for p in listed)
    foreign = client.delete(f"/api/v1/partners/{pmo.json()['id']}", headers=world.auth("town_b"))
    assert foreign.status_code == 404
    by_vendor = client.delete(
        f"/api/v1/partners/{pmo.json()['id']}", headers=world.auth("vendor_y")
    )
    assert by_vendor.status_code == 403
