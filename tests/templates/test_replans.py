"""One template, twenty towns made from it, local changes in some, and replans across all."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.changes.models import ChangeEvent
from service.organisations.models import Organisation
from tests.conftest import World
from tests.templates.plans import (
    ANCHOR,
    ITEMS,
    TOWNS,
    day,
    edit,
    item,
    make_projects,
    published_template,
)


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


def replan(client: TestClient, world: World, template_id: int, **body: Any) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/templates/{template_id}/replans", headers=world.auth("vendor_x"), json=body
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def apply(client: TestClient, world: World, template_id: int, replan_id: int) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/templates/{template_id}/replans/{replan_id}/apply",
        headers=world.auth("vendor_x"),
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def parts(body: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {part["project_id"]: part for part in body["projects"]}


def test_a_project_that_skipped_a_version_takes_both_changes_from_the_one_it_follows(
    client: TestClient, world: World, towns: list[Organisation]
) -> None:
    template_id = published_template(client, world, ITEMS)
    first, skipper = make_projects(client, world, template_id, towns[:2])
    v2 = replan(
        client,
        world,
        template_id,
        edits={"shift": [{"prefix": "2-1", "days": 7}]},
        exclude=[skipper],
    )
    assert parts(v2)[skipper]["outcome"] == "excluded"
    applied = apply(client, world, template_id, v2["id"])
    assert {p["project_id"]: p["outcome"] for p in applied["projects"]} == {
        first: "applied",
        skipper: "excluded",
    }
    again = client.post(
        f"/api/v1/templates/{template_id}/replans/{v2['id']}/apply",
        headers=world.auth("vendor_x"),
    )
    assert again.status_code == 409

    v3 = replan(client, world, template_id, edits={"shift": [{"prefix": "2-2", "days": 3}]})
    assert v3["version"] == 3
    assert {p["project_id"]: p["from_version"] for p in v3["projects"]} == {first: 2, skipper: 1}
    changed = {
        project_id: sorted(c["code"] for c in part["changes"])
        for project_id, part in parts(v3).items()
    }
    assert changed == {first: ["2-2"], skipper: ["2-1", "2-2"]}
    apply(client, world, template_id, v3["id"])
    anchor = ANCHOR + timedelta(days=1)
    assert item(client, world, skipper, "2-1")["planned_start"] == day(67, anchor)
    assert item(client, world, skipper, "2-2")["planned_start"] == day(94, anchor)
    assert item(client, world, first, "2-1")["planned_start"] == day(67)
    listed = client.get(
        f"/api/v1/templates/{template_id}/projects", headers=world.auth("vendor_x")
    ).json()["items"]
    assert {entry["project"]["id"]: entry["version"] for entry in listed} == {first: 3, skipper: 3}
    # Nothing more to do for a project already at the version.
    v3_again = replan(client, world, template_id, to_version=3)
    assert {p["outcome"] for p in v3_again["projects"]} == {"up_to_date"}


def test_a_project_the_replan_cannot_take_is_left_untouched_and_says_why(
    client: TestClient, world: World, towns: list[Organisation]
) -> None:
    template_id = published_template(client, world, ITEMS)
    projects = make_projects(client, world, template_id, towns[:3])
    # The vendor brought one town's rehearsal end forward: the shifted start would fall after it.
    edit(client, world, projects[1], "2-1", planned_end=day(80, ANCHOR + timedelta(days=1)))
    before = [item(client, world, projects[1], code) for code in ("2-1", "2-2", "2-3")]

    body = replan(client, world, template_id, edits={"shift": [{"prefix": "2-", "days": 42}]})
    result = apply(client, world, template_id, body["id"])
    outcome = parts(result)
    assert outcome[projects[0]]["outcome"] == outcome[projects[2]]["outcome"] == "applied"
    failed = outcome[projects[1]]
    assert failed["outcome"] == "failed"
    assert "2-1" in failed["reason"]
    assert "planned" in failed["reason"], failed["reason"]
    assert result["counts"]["failed"] == 1
    assert [item(client, world, projects[1], code) for code in ("2-1", "2-2", "2-3")] == before
    listed = client.get(
        f"/api/v1/templates/{template_id}/projects", headers=world.auth("vendor_x")
    ).json()["items"]
    assert {entry["project"]["id"]: entry["version"] for entry in listed}[projects[1]] == 1
    got = client.get(
        f"/api/v1/templates/{template_id}/replans/{body['id']}", headers=world.auth("vendor_x")
    )
    assert parts(got.json())[projects[1]]["reason"] == failed["reason"]


def test_edits_add_retire_and_relink_items_but_keep_what_a_town_worked_on(
    client: TestClient, world: World, towns: list[Organisation]
) -> None:
    template_id = published_template(client, world, ITEMS)
    fresh, worked = make_projects(client, world, template_id, towns[:2])
    edit(client, world, worked, "2-3", who="pmo", status="in_progress")

    body = replan(
        client,
        world,
        template_id,
        edits={
            "add": [
                {
                    "code": "2-4",
                    "title": "移行後評価",
                    "responsibility": "joint",
                    "start_offset": 120,
                    "end_offset": 130,
                    "predecessors": ["2-2"],
                },
                {"code": "3", "title": "運用", "responsibility": "joint"},
                {
                    "code": "3-1",
                    "title": "運用引継ぎ",
                    "responsibility": "vendor",
                    "predecessors": ["2-4"],
                },
            ],
            "retire": ["2-3"],
            "predecessors": [{"code": "2-2", "predecessors": ["1-2", "2-1"]}],
        },
    )
    assert parts(body)[worked]["conflicts"] == [
        {
            "code": "2-3",
            "field": None,
            "template_old": "present",
            "template_new": "retired",
            "local": "in_progress",
            "reason": "work is recorded on it in the project: it is kept",
        }
    ]
    actions = [(c["code"], c["action"]) for c in parts(body)[fresh]["changes"]]
    assert actions == [
        ("2-4", "create"),
        ("3", "create"),
        ("3-1", "create"),
        ("2-2", "update"),
        ("2-3", "delete"),
    ]
    apply(client, world, template_id, body["id"])
    for project_id in (fresh, worked):
        assert item(client, world, project_id, "3-1")["predecessors"] == ["2-4"]
        assert item(client, world, project_id, "2-2")["predecessors"] == ["1-2", "2-1"]
        assert item(client, world, project_id, "2-4")["planned_end"] == day(
            130, ANCHOR + timedelta(days=0 if project_id == fresh else 1)
        )
    gone = client.get(f"/api/v1/projects/{fresh}/items/2-3", headers=world.auth("vendor_x"))
    assert gone.status_code == 404
    assert item(client, world, worked, "2-3")["status"] == "in_progress"


def test_only_the_template_owner_replans(
    client: TestClient, world: World, towns: list[Organisation]
) -> None:
    template_id = published_template(client, world, ITEMS)
    make_projects(client, world, template_id, towns[:1])
    body = {"to_version": 1}
    for who, status in (("town_a", 404), ("vendor_y", 404), ("vendor_x_read_only", 403)):
        response = client.post(
            f"/api/v1/templates/{template_id}/replans", headers=world.auth(who), json=body
        )
        assert response.status_code == status, (who, response.text)
    unknown = client.post(
        f"/api/v1/templates/{template_id}/replans",
        headers=world.auth("vendor_x"),
        json={"to_version": 9},
    )
    assert unknown.status_code == 404
    assert unknown.json()["errors"][0]["field"] == "to_version"
    stranger = client.post(
        f"/api/v1/templates/{template_id}/replans",
        headers=world.auth("vendor_x"),
        json={"to_version": 1, "exclude": [world.projects["b_y"].id]},
    )
    assert stranger.status_code == 404
    assert stranger.json()["errors"][0]["field"] == "exclude"
