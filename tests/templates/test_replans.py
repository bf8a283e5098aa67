"""One template, twenty towns made from it, local changes in some, and replans across all."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.changes.models import ChangeEvent
from service.organisations.models import Organisation, OrgKind
from service.partners.models import Partnership
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


@pytest.fixture
def towns(db: Session, world: World) -> list[Organisation]:
    """Twenty municipalities that have named vendor X as theirs."""
    made = [
        Organisation(kind=OrgKind.municipality, code=f"town-{n:02}", name=f"町{n:02}")
        for n in range(TOWNS)
    ]
    db.add_all(made)
    db.flush()
    db.add_all(
        Partnership(municipality=town, vendor=world.orgs["vendor_x"], granted_by="test")
        for town in made
    )
    db.commit()
    return made


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


def test_projects_from_a_template_hold_its_items_on_their_own_days(
    client: TestClient, world: World, towns: list[Organisation]
) -> None:
    template_id = published_template(client, world, ITEMS)
    projects = make_projects(client, world, template_id, towns[:3])

    third = item(client, world, projects[2], "1-2")
    assert third["planned_start"] == day(15 + 2)
    assert third["planned_end"] == day(30 + 2)
    assert third["predecessors"] == ["1-1"]
    assert third["parent_code"] == "1"
    assert item(client, world, projects[0], "2-3")["planned_end"] == "2027-03-31"
    assert item(client, world, projects[0], "2-2")["deliverable"] == "移行判定書"
    listed = client.get(
        f"/api/v1/templates/{template_id}/projects", headers=world.auth("vendor_x")
    ).json()["items"]
    assert [(entry["project"]["id"], entry["version"]) for entry in listed] == [
        (project_id, 1) for project_id in projects
    ]


def test_a_replan_reaches_every_project_and_leaves_local_changes_as_conflicts(
    client: TestClient, world: World, towns: list[Organisation], db: Session
) -> None:
    template_id = published_template(client, world, ITEMS)
    projects = make_projects(client, world, template_id, towns)
    # Local changes: the vendor moved one town's rehearsal, the PMO retitled another's
    # decision; a town marked its progress (never the replan's business).
    edit(client, world, projects[3], "2-1", planned_end=day(110, ANCHOR + timedelta(days=3)))
    edit(client, world, projects[7], "2-2", who="pmo", title="本番移行判定会議")
    edit(
        client,
        world,
        projects[7],
        "2-2",
        who="pmo",
        planned_start=day(92, ANCHOR + timedelta(days=7)),
    )
    edit(client, world, projects[11], "1-1", who="pmo", status="done", progress=100)

    preview = client.post(
        f"/api/v1/templates/{template_id}/replans",
        headers=world.auth("vendor_x"),
        json={"note": "6週間の後ろ倒し", "edits": {"shift": [{"prefix": "2-", "days": 42}]}},
    )
    assert preview.status_code == 201, preview.text
    body = preview.json()
    assert body["version"] == 2
    assert body["state"] == "previewed"
    by_project = {part["project_id"]: part for part in body["projects"]}
    assert len(by_project) == TOWNS
    conflicts = {
        (project_id, c["code"], c["field"])
        for project_id, part in by_project.items()
        for c in part["conflicts"]
    }
    assert conflicts == {
        (projects[3], "2-1", "planned_end"),
        (projects[7], "2-2", "planned_start"),
    }
    seventh = by_project[projects[7]]["conflicts"][0]
    anchor7 = ANCHOR + timedelta(days=7)
    assert seventh == {
        "code": "2-2",
        "field": "planned_start",
        "template_old": day(91, anchor7),
        "template_new": day(133, anchor7),
        "local": day(92, anchor7),
        "reason": "changed in the project since version 1",
    }
    untouched = by_project[projects[0]]["changes"]
    assert [(c["code"], c["action"], [f["field"] for f in c["fields"]]) for c in untouched] == [
        ("2-1", "update", ["planned_start", "planned_end"]),
        ("2-2", "update", ["planned_start", "planned_end"]),
        ("2-3", "update", ["planned_end"]),  # a fixed day moves too
    ]
    assert body["counts"]["changes"] == 3 * TOWNS
    # A preview writes nothing in the projects.
    assert item(client, world, projects[0], "2-1")["planned_start"] == day(60)

    applied = client.post(
        f"/api/v1/templates/{template_id}/replans/{body['id']}/apply",
        headers=world.auth("vendor_x"),
    )
    assert applied.status_code == 200, applied.text
    result = applied.json()
    assert result["state"] == "applied"
    assert result["counts"]["applied"] == TOWNS, [p["reason"] for p in result["projects"]]
    assert item(client, world, projects[0], "2-1")["planned_start"] == day(102)
    assert item(client, world, projects[0], "2-2")["planned_end"] == day(142)
    # Local changes stand; what the replan changed beside them moved.
    third = item(client, world, projects[3], "2-1")
    assert third["planned_end"] == day(110, ANCHOR + timedelta(days=3))
    assert third["planned_start"] == day(102, ANCHOR + timedelta(days=3))
    seventh_item = item(client, world, projects[7], "2-2")
    assert seventh_item["title"] == "本番移行判定会議"
    assert seventh_item["planned_start"] == day(92, anchor7)
    assert seventh_item["planned_end"] == day(142, anchor7)
    assert item(client, world, projects[11], "1-1")["status"] == "done"

    events = db.scalars(select(ChangeEvent).where(ChangeEvent.replan_id == body["id"])).all()
    # Every changed item, conflicts or not: each of those had another field to move.
    assert len(events) == 3 * TOWNS
    mine = client.get(
        f"/api/v1/projects/{projects[0]}/changes?limit=1000", headers=world.auth("vendor_x")
    ).json()["items"]
    replanned = [event for event in mine if event["replan_id"] == body["id"]]
    assert [(event["item_code"], event["kind"]) for event in replanned] == [
        ("2-1", "updated"),
        ("2-2", "updated"),
        ("2-3", "updated"),
    ]
    assert all(event["replan_id"] is None for event in mine if event not in replanned)
