"""A template in miniature and the calls the template tests make over and over."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient

from service.organisations.models import Organisation
from tests.conftest import World

ANCHOR = date(2026, 4, 1)
TOWNS = 20

# The national steps in miniature: two groups, the second's items shifted by the replan.
ITEMS: list[dict[str, Any]] = [
    {"code": "1", "title": "推進体制の立上げ", "responsibility": "joint"},
    {
        "code": "1-1",
        "title": "体制図の作成",
        "responsibility": "municipality",
        "start_offset": 0,
        "end_offset": 14,
    },
    {
        "code": "1-2",
        "title": "移行計画書の作成",
        "responsibility": "vendor",
        "start_offset": 15,
        "end_offset": 30,
        "predecessors": ["1-1"],
    },
    {"code": "2", "title": "本番移行", "responsibility": "joint"},
    {
        "code": "2-1",
        "title": "移行リハーサル",
        "responsibility": "vendor",
        "start_offset": 60,
        "end_offset": 90,
        "predecessors": ["1-2"],
    },
    {
        "code": "2-2",
        "title": "本番移行判定",
        "responsibility": "joint",
        "start_offset": 91,
        "end_offset": 100,
        "predecessors": ["2-1"],
        "deliverable": "移行判定書",
    },
    {"code": "2-3", "title": "稼働確認", "responsibility": "municipality", "end_on": "2027-03-31"},
]


def day(offset: int, anchor: date = ANCHOR) -> str:
    return (anchor + timedelta(days=offset)).isoformat()


def published_template(client: TestClient, world: World, items: list[dict[str, Any]]) -> int:
    created = client.post(
        "/api/v1/templates",
        headers=world.auth("vendor_x"),
        json={"name": "標準化移行", "items": items},
    )
    assert created.status_code == 201, created.text
    template_id = int(created.json()["id"])
    published = client.post(
        f"/api/v1/templates/{template_id}/versions/1/publish", headers=world.auth("vendor_x")
    )
    assert published.status_code == 200, published.text
    return template_id


def make_projects(
    client: TestClient, world: World, template_id: int, towns: list[Organisation], version: int = 1
) -> list[int]:
    response = client.post(
        f"/api/v1/templates/{template_id}/projects",
        headers=world.auth("vendor_x"),
        json={
            "version": version,
            "projects": [
                {
                    "municipality_id": town.id,
                    "name": "住民記録",
                    "anchor": (ANCHOR + timedelta(days=index)).isoformat(),
                }
                for index, town in enumerate(towns)
            ],
        },
    )
    assert response.status_code == 201, response.text
    return [entry["project"]["id"] for entry in response.json()["items"]]


def item(client: TestClient, world: World, project_id: int, code: str) -> dict[str, Any]:
    response = client.get(
        f"/api/v1/projects/{project_id}/items/{code}", headers=world.auth("vendor_x")
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def edit(
    client: TestClient,
    world: World,
    project_id: int,
    code: str,
    who: str = "vendor_x",
    **fields: Any,
) -> None:
    response = client.patch(
        f"/api/v1/projects/{project_id}/items/{code}", headers=world.auth(who), json=fields
    )
    assert response.status_code == 200, response.text
