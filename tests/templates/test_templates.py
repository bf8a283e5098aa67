"""Templates over the API and from workbooks: versions, publishing, who sees what."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.organisations.models import Organisation, OrgKind
from service.projects.models import Project
from tests.conftest import World
from tests.importers.sheets import build, save
from tests.templates.plans import ITEMS, published_template


def create(client: TestClient, world: World, who: str = "vendor_x", **body: Any) -> Any:
    return client.post("/api/v1/templates", headers=world.auth(who), json=body)


def test_a_published_version_never_changes(client: TestClient, world: World) -> None:
    template_id = published_template(client, world, ITEMS)
    url = f"/api/v1/templates/{template_id}/versions"
    vendor = world.auth("vendor_x")

    replaced = client.put(f"{url}/1", headers=vendor, json={"items": ITEMS[:1]})
    assert replaced.status_code == 409, replaced.text
    assert "published and never changes" in replaced.json()["detail"]
    again = client.post(f"{url}/1/publish", headers=vendor)
    assert again.status_code == 409

    draft = client.post(url, headers=vendor, json={"note": "第2版"})
    assert draft.status_code == 201, draft.text
    assert (draft.json()["number"], draft.json()["state"]) == (2, "draft")
    assert draft.json()["items"] == client.get(f"{url}/1", headers=vendor).json()["items"]
    second = client.post(url, headers=vendor, json={})
    assert second.status_code == 409
    assert "version 2 of template" in second.json()["detail"]

    edited = client.put(f"{url}/2", headers=vendor, json={"note": "第2版", "items": ITEMS[:3]})
    assert edited.status_code == 200, edited.text
    assert [item["code"] for item in edited.json()["items"]] == ["1", "1-1", "1-2"]
    assert client.post(f"{url}/2/publish", headers=vendor).json()["state"] == "published"
    listed = client.get(url, headers=vendor).json()["items"]
    assert [(v["number"], v["state"]) for v in listed] == [(1, "published"), (2, "published")]
    assert [i["code"] for i in client.get(f"{url}/1", headers=vendor).json()["items"]] == [
        item["code"] for item in ITEMS
    ]


def test_items_that_make_no_plan_are_refused_naming_each(client: TestClient, world: World) -> None:
    response = create(
        client,
        world,
        name="壊れた計画",
        items=[
            {"code": "1", "title": "計画", "responsibility": "joint"},
            {"code": "2-1", "title": "親なし", "responsibility": "vendor"},
            {"code": "1-1", "title": "先行", "responsibility": "vendor", "predecessors": ["9"]},
            {"code": "１", "title": "重複", "responsibility": "vendor"},
            {
                "code": "1-2",
                "title": "逆",
                "responsibility": "vendor",
                "start_offset": 10,
                "end_offset": 5,
            },
        ],
    )
    assert response.status_code == 409, response.text
    assert {(e["field"], e["type"]) for e in response.json()["errors"]} == {
        ("items[1].parent_code", "parent_unknown"),
        ("items[2].predecessors", "predecessor_unknown"),
        ("items[3].code", "duplicate"),
        ("items[4].end_offset", "date_order"),
    }
    both = create(
        client,
        world,
        name="両方",
        items=[
            {
                "code": "1",
                "title": "a",
                "responsibility": "joint",
                "end_offset": 3,
                "end_on": "2026-04-01",
            }
        ],
    )
    assert both.status_code == 422
    cycle = create(
        client,
        world,
        name="循環",
        items=[
            {"code": "1", "title": "a", "responsibility": "joint", "predecessors": ["2"]},
            {"code": "2", "title": "b", "responsibility": "joint", "predecessors": ["1"]},
        ],
    )
    assert cycle.status_code == 409
    assert cycle.json()["errors"][0]["type"] == "predecessor_cycle"


def test_a_template_from_a_project_counts_its_days_from_the_anchor(
    client: TestClient, world: World, make_item: Any
) -> None:
    make_item(code="1", title="計画", responsibility="joint")
    make_item(code="1-1", planned_start="2026-04-10", planned_end="2026-04-20")
    make_item(code="1-2", planned_end="2026-05-01", predecessors=["1-1"], deliverable="計画書")
    project_id = world.projects["a_x"].id
    response = create(client, world, name="さくら町から", from_project={"project_id": project_id})
    assert response.status_code == 201, response.text
    template_id = response.json()["id"]
    items = client.get(
        f"/api/v1/templates/{template_id}/versions/1", headers=world.auth("vendor_x")
    ).json()["items"]
    shown = {i["code"]: (i["start_offset"], i["end_offset"], i["predecessors"]) for i in items}
    assert shown == {"1": (None, None, []), "1-1": (0, 10, []), "1-2": (None, 21, ["1-1"])}
    anchored = create(
        client,
        world,
        name="4月1日起点",
        from_project={"project_id": project_id, "anchor": "2026-04-01"},
    )
    items = client.get(
        f"/api/v1/templates/{anchored.json()['id']}/versions/1", headers=world.auth("vendor_x")
    ).json()["items"]
    assert [i["end_offset"] for i in items] == [None, 19, 30]
    # Another vendor's project is not there to take.
    foreign = create(
        client,
        world,
        who="vendor_y",
        name="よそから",
        from_project={"project_id": project_id},
    )
    assert foreign.status_code == 404


def test_a_town_neither_sees_nor_makes_templates(client: TestClient, world: World) -> None:
    template_id = published_template(client, world, ITEMS)
    for who in ("town_a", "vendor_y"):
        assert (
            client.get(f"/api/v1/templates/{template_id}", headers=world.auth(who)).status_code
            == 404
        )
        assert client.get("/api/v1/templates", headers=world.auth(who)).json()["items"] == []
    assert create(client, world, who="town_a", name="町の計画", items=ITEMS).status_code == 403
    assert (
        client.get(f"/api/v1/templates/{template_id}", headers=world.auth("pmo")).status_code == 200
    )


def test_projects_only_with_consenting_towns_and_all_or_none(
    client: TestClient, world: World, db: Session
) -> None:
    template_id = published_template(client, world, ITEMS)
    stranger = Organisation(kind=OrgKind.municipality, code="stranger", name="見知らぬ村")
    db.add(stranger)
    db.commit()
    before = db.scalar(select(func.count()).select_from(Project))
    response = client.post(
        f"/api/v1/templates/{template_id}/projects",
        headers=world.auth("vendor_x"),
        json={
            "version": 1,
            "projects": [
                {
                    "municipality_id": world.orgs["town_a"].id,
                    "name": "新規",
                    "anchor": "2026-04-01",
                },
                {"municipality_id": stranger.id, "name": "新規", "anchor": "2026-04-01"},
            ],
        },
    )
    assert response.status_code == 404, response.text
    assert response.json()["errors"][0]["field"] == "projects[1].municipality_id"
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Project)) == before
    draft = client.post(
        f"/api/v1/templates/{template_id}/versions", headers=world.auth("vendor_x"), json={}
    )
    assert draft.status_code == 201
    from_draft = client.post(
        f"/api/v1/templates/{template_id}/projects",
        headers=world.auth("vendor_x"),
        json={
            "version": 2,
            "projects": [
                {"municipality_id": world.orgs["town_a"].id, "name": "新規", "anchor": "2026-04-01"}
            ],
        },
    )
    assert from_draft.status_code == 409
    assert "publish it" in from_draft.json()["detail"]


def national_workbook() -> bytes:
    """The national procedure's layout: step groups, circled codes, one column per party."""
    workbook, sheet = build(
        [
            ["住民記録システム標準化 作業計画"],
            [],
            [],
            ["大項目", "項番", "作業項目", "役割分担", None, "予定", None, "成果物"],
            [None, None, None, "団体", "事業者", "開始", "終了"],
            [
                "① 推進体制の立上げ",
                "①-1",
                "推進体制の検討",
                "◎",
                "○",
                "R7.4.1",
                "R7.4月下旬",
                "体制図",
            ],
            [None, "①-2", "庁内への周知", "◎", "△", "R7.4.21", "R7.5.9"],
            ["③ 標準仕様との比較分析", "③-2", "差異への対応方針", "◎", "◎", "R7.8.1", "R7.10月"],
            [None, "③-2-ア", "業務運用の見直し", "◎", "△", "R7.8.1", "R7.9.30"],
        ]
    )
    for span in ("A4:A5", "B4:B5", "C4:C5", "D4:E4", "F4:G4", "H4:H5", "A6:A7", "A8:A9"):
        sheet.merge_cells(span)
    return save(workbook)


def test_a_template_from_a_workbook_in_the_national_layout(
    client: TestClient, world: World
) -> None:
    response = client.post(
        "/api/v1/templates/workbook",
        headers=world.auth("vendor_x"),
        files={"file": ("national.xlsx", national_workbook(), "application/octet-stream")},
        data={"anchor": "2025-04-01"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "national"
    items = client.get(
        f"/api/v1/templates/{response.json()['id']}/versions/1", headers=world.auth("vendor_x")
    ).json()["items"]
    shown = {
        i["code"]: (
            i["title"],
            i["parent_code"],
            i["responsibility"],
            i["start_offset"],
            i["end_offset"],
        )
        for i in items
    }
    assert shown == {
        "1": ("推進体制の立上げ", None, "joint", 0, 38),
        "1-1": ("推進体制の検討", "1", "joint", 0, 29),
        "1-2": ("庁内への周知", "1", "municipality", 20, 38),
        "3": ("標準仕様との比較分析", None, "joint", 122, 213),
        "3-2": ("差異への対応方針", "3", "joint", 122, 213),
        "3-2-ア": ("業務運用の見直し", "3-2", "municipality", 122, 182),
    }
    assert {i["code"]: i["deliverable"] for i in items}["1-1"] == "体制図"


def test_a_workbook_with_problems_is_refused_row_by_row(client: TestClient, world: World) -> None:
    sheet = "項番,作業項目,担当,開始,終了\n1,計画,共同,2026/4/1,2026/4/30\n1-1,確認,だれか,2026/4/1,2026/4/10\n2-1,親なし,ベンダー,,\n"
    response = client.post(
        "/api/v1/templates/workbook",
        headers=world.auth("vendor_x"),
        files={"file": ("wbs.csv", sheet.encode(), "text/csv")},
    )
    assert response.status_code == 422, response.text
    rows = {problem["row"] for problem in response.json()["sheet_errors"]}
    assert 3 in rows
    read_only = client.post(
        "/api/v1/templates/workbook",
        headers=world.auth("town_a"),
        files={"file": ("wbs.csv", sheet.encode(), "text/csv")},
    )
    assert read_only.status_code == 403


def test_a_template_keeps_the_national_steps_and_business_its_projects_carry(
    client: TestClient, world: World
) -> None:
    vendor = world.auth("vendor_x")
    made = client.post(
        "/api/v1/templates/workbook",
        headers=vendor,
        files={"file": ("national.xlsx", national_workbook(), "application/octet-stream")},
        data={"anchor": "2025-04-01"},
    )
    assert made.status_code == 201, made.text
    template_id = made.json()["id"]
    url = f"/api/v1/templates/{template_id}/versions/1"
    items = client.get(url, headers=vendor).json()["items"]
    # The code gives the step (③-2-ア is a part of ③-2), the title block the business.
    assert {i["code"]: (i["step"], i["business"]) for i in items if i["step"]} == {
        "1-1": ("1-1", "住民記録"),
        "1-2": ("1-2", "住民記録"),
        "3-2": ("3-2", "住民記録"),
        "3-2-ア": ("3-2", "住民記録"),
    }
    if client.get(url, headers=vendor).json()["state"] == "draft":
        assert client.post(f"{url}/publish", headers=vendor).status_code == 200
    projects = client.post(
        f"/api/v1/templates/{template_id}/projects",
        headers=vendor,
        json={
            "version": 1,
            "projects": [
                {
                    "municipality_id": world.orgs["town_a"].id,
                    "name": "標準化",
                    "anchor": "2026-04-01",
                }
            ],
        },
    )
    assert projects.status_code == 201, projects.text
    project_id = projects.json()["items"][0]["project"]["id"]
    item = client.get(f"/api/v1/projects/{project_id}/items/3-2-ア", headers=vendor).json()
    assert (item["step"], item["business"]) == ("3-2", "住民記録")
    report = client.get("/api/v1/reports/national-progress", headers=world.auth("town_a")).json()
    rows = [row for row in report["rows"] if row["business"] == "住民記録"]
    assert [row["steps"]["3-2"] for row in rows] == ["not_started"]
