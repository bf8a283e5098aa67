from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import World


def test_a_vendor_creates_projects_as_their_vendor(client: TestClient, world: World) -> None:
    body = {"municipality_id": world.orgs["town_a"].id, "name": "税務システム標準化"}
    response = client.post("/api/v1/projects", headers=world.auth("vendor_x"), json=body)
    assert response.status_code == 201, response.text
    assert response.json()["vendor"]["code"] == "vendor-x"
    assert response.json()["municipality"]["code"] == "town-a"

    other = {**body, "vendor_id": world.orgs["vendor_y"].id, "name": "別"}
    assert (
        client.post("/api/v1/projects", headers=world.auth("vendor_x"), json=other).status_code
        == 403
    )
    assert (
        client.post("/api/v1/projects", headers=world.auth("town_a"), json=body).status_code == 403
    )
    assert (
        client.post("/api/v1/projects", headers=world.auth("vendor_x"), json=body).status_code
        == 409
    )


def test_the_pmo_names_both_parties_of_the_right_kinds(client: TestClient, world: World) -> None:
    pmo = world.auth("pmo")
    missing_vendor = {"municipality_id": world.orgs["town_a"].id, "name": "x"}
    response = client.post("/api/v1/projects", headers=pmo, json=missing_vendor)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "vendor_id"
    swapped = {
        "municipality_id": world.orgs["vendor_x"].id,
        "vendor_id": world.orgs["town_a"].id,
        "name": "x",
    }
    response = client.post("/api/v1/projects", headers=pmo, json=swapped)
    assert response.status_code == 404
    assert response.json()["errors"][0]["field"] == "municipality_id"
    good = {**missing_vendor, "vendor_id": world.orgs["vendor_y"].id, "consortium": "west"}
    assert client.post("/api/v1/projects", headers=pmo, json=good).status_code == 201


def test_lists_show_each_caller_its_own_projects_and_filter(
    client: TestClient, world: World
) -> None:
    def names(who: str, query: str = "") -> list[tuple[str, str]]:
        response = client.get(f"/api/v1/projects{query}", headers=world.auth(who))
        assert response.status_code == 200
        return [(p["municipality"]["code"], p["vendor"]["code"]) for p in response.json()["items"]]

    assert names("town_a") == [("town-a", "vendor-x")]
    assert names("town_b") == [("town-b", "vendor-x"), ("town-b", "vendor-y")]
    assert names("vendor_x") == [("town-a", "vendor-x"), ("town-b", "vendor-x")]
    assert len(names("pmo")) == 3
    assert names("pmo", "?vendor=vendor-y") == [("town-b", "vendor-y")]
    assert names("pmo", "?consortium=east&municipality=town-b") == [("town-b", "vendor-x")]
    assert names("pmo", "?limit=2") == names("pmo")[:2]


def test_only_the_vendor_or_pmo_changes_a_project(client: TestClient, world: World) -> None:
    url = f"/api/v1/projects/{world.projects['a_x'].id}"
    assert client.patch(url, headers=world.auth("town_a"), json={"name": "x"}).status_code == 403
    response = client.patch(url, headers=world.auth("vendor_x"), json={"consortium": "north"})
    assert response.status_code == 200
    assert response.json()["consortium"] == "north"
    assert response.json()["name"] == "住民記録"
    assert client.patch(url, headers=world.auth("vendor_x"), json={"name": None}).status_code == 422
    assert client.patch(url, headers=world.auth("vendor_y"), json={"name": "x"}).status_code == 404
