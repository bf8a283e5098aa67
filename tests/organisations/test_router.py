from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import World


def test_only_the_pmo_registers_organisations(client: TestClient, world: World) -> None:
    body = {
        "kind": "municipality",
        "code": "aoba-village",
        "name": "あおば村",
        "local_government_code": "990003",
    }
    assert (
        client.post("/api/v1/organisations", headers=world.auth("vendor_x"), json=body).status_code
        == 403
    )
    response = client.post("/api/v1/organisations", headers=world.auth("pmo"), json=body)
    assert response.status_code == 201
    assert response.json()["local_government_code"] == "990003"
    assert (
        client.post("/api/v1/organisations", headers=world.auth("pmo"), json=body).status_code
        == 409
    )


def test_organisation_input_is_validated(client: TestClient, world: World) -> None:
    pmo = world.auth("pmo")
    cases = [
        (
            {"kind": "vendor", "code": "v", "name": "V", "local_government_code": "123456"},
            "local_government_code",
        ),
        (
            {"kind": "municipality", "code": "m", "name": "M", "local_government_code": "12345"},
            "local_government_code",
        ),
        ({"kind": "prefecture", "code": "p", "name": "P"}, "kind"),
        ({"kind": "vendor", "code": "bad code", "name": "V"}, "code"),
    ]
    for body, field in cases:
        response = client.post("/api/v1/organisations", headers=pmo, json=body)
        assert response.status_code == 422, body
        assert field in [e["field"] for e in response.json()["errors"]], body


def test_callers_see_themselves_and_their_partners_only(client: TestClient, world: World) -> None:
    def codes(who: str, query: str = "") -> set[str]:
        response = client.get(f"/api/v1/organisations{query}", headers=world.auth(who))
        assert response.status_code == 200
        return {o["code"] for o in response.json()["items"]}

    assert codes("town_a") == {"town-a", "vendor-x"}
    assert codes("vendor_y") == {"vendor-y", "town-b"}
    assert codes("pmo") == {"pmo", "town-a", "town-b", "vendor-x", "vendor-y"}
    assert codes("pmo", "?kind=vendor") == {"vendor-x", "vendor-y"}
    town_a = world.orgs["town_a"].id
    assert (
        client.get(f"/api/v1/organisations/{town_a}", headers=world.auth("vendor_y")).status_code
        == 404
    )
    assert (
        client.get(f"/api/v1/organisations/{town_a}", headers=world.auth("vendor_x")).status_code
        == 200
    )
