"""Export, fill in, upload: the round trip a municipality and its vendor actually do."""

from __future__ import annotations

import io
from datetime import date, datetime

import openpyxl
import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.changes.models import ChangeEvent
from service.demo import load_demo
from service.projects.models import Project
from tests.conftest import ItemFactory, World


def export(client: TestClient, world: World, who: str, project_id: int, lang: str = "ja") -> bytes:
    response = client.get(
        f"/api/v1/projects/{project_id}/export.xlsx?lang={lang}", headers=world.auth(who)
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    return response.content


def upload(client: TestClient, world: World, who: str, project_id: int, data: bytes) -> Response:
    return client.post(
        f"/api/v1/projects/{project_id}/imports",
        headers=world.auth(who),
        files={"file": ("wbs.xlsx", data)},
    )


def rows_by_code(sheet: Worksheet) -> dict[str, int]:
    header = [c.value for c in sheet[1]]
    code_column = header.index("項番") + 1
    return {
        str(sheet.cell(row=r, column=code_column).value): r for r in range(2, sheet.max_row + 1)
    }


def column(sheet: Worksheet, name: str) -> int:
    return [c.value for c in sheet[1]].index(name) + 1


@pytest.fixture
def demo_project(world: World, db: Session) -> int:
    """The demo WBS of さくら町, moved into the test world's project of town A and vendor X."""
    load_demo(db, date(2026, 11, 26))
    demo = db.scalars(
        select(Project).where(Project.name == "住民記録システム標準化移行").order_by(Project.id)
    ).first()
    assert demo is not None
    demo.municipality_id = world.orgs["town_a"].id
    demo.vendor_id = world.orgs["vendor_x"].id
    db.commit()
    return demo.id


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_exporting_and_reimporting_changes_nothing(
    client: TestClient, world: World, db: Session, demo_project: int, lang: str
) -> None:
    events = db.scalar(select(func.count()).select_from(ChangeEvent))
    result = upload(
        client,
        world,
        "vendor_x",
        demo_project,
        export(client, world, "vendor_x", demo_project, lang),
    )
    assert result.status_code == 201, result.text
    counts = result.json()["counts"]
    assert counts["unchanged"] == counts["rows"] == 43
    assert (counts["updated"], counts["created"], counts["conflicts"], counts["missing"]) == (
        0,
        0,
        0,
        0,
    )
    assert db.scalar(select(func.count()).select_from(ChangeEvent)) == events


def test_the_workbook_is_clean_for_people(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    make_item(code="1", title="計画", planned_end="2026-04-30", responsibility="joint")
    make_item(code="1-1", title="=SUM(A1:A9)", planned_end="2026-04-10", notes="+81 3-1234")
    workbook = openpyxl.load_workbook(
        io.BytesIO(export(client, world, "town_a", world.projects["a_x"].id))
    )
    sheet = workbook["WBS"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:R3"
    rows = rows_by_code(sheet)
    title = sheet.cell(row=rows["1-1"], column=column(sheet, "作業項目"))
    assert (title.value, title.data_type) == ("=SUM(A1:A9)", "s")
    assert sheet.cell(row=rows["1-1"], column=column(sheet, "備考")).data_type == "s"
    assert title.alignment.indent == 1
    assert sheet.row_dimensions[rows["1-1"]].outline_level == 1
    end = sheet.cell(row=rows["1"], column=column(sheet, "終了予定日"))
    assert end.is_date
    assert end.value == datetime(2026, 4, 30)
    assert sheet.cell(row=rows["1"], column=column(sheet, "役割分担")).value == "共同"


def test_the_municipality_fills_in_its_statuses_and_only_those_apply(
    client: TestClient, world: World, demo_project: int
) -> None:
    workbook = openpyxl.load_workbook(io.BytesIO(export(client, world, "town_a", demo_project)))
    sheet = workbook["WBS"]
    rows = rows_by_code(sheet)
    status, progress, title = (
        column(sheet, "状況"),
        column(sheet, "進捗率"),
        column(sheet, "作業項目"),
    )
    sheet.cell(row=rows["3-6"], column=status, value="完了")  # its own late item
    sheet.cell(row=rows["3-6"], column=progress, value=1.0).number_format = "0%"
    sheet.cell(row=rows["5-3"], column=status, value="遅延")  # its own
    sheet.cell(row=rows["3-7"], column=status, value="完了")  # the vendor's: a conflict
    sheet.cell(
        row=rows["1-1"], column=title, value="計画書（町で修正）"
    )  # the vendor's plan: a conflict
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = upload(client, world, "town_a", demo_project, buffer.getvalue())
    assert result.status_code == 201, result.text
    body = result.json()
    assert sorted((u["code"], tuple(c["field"] for c in u["changes"])) for u in body["updated"]) == [
        ("3-6", ("status", "progress")), ("5-3", ("status",)),
    ]  # fmt: skip
    assert sorted((c["code"], c["field"]) for c in body["conflicts"]) == [
        ("1-1", "title"),
        ("3-7", "status"),
    ]
    item = client.get(
        f"/api/v1/projects/{demo_project}/items/3-6", headers=world.auth("town_a")
    ).json()
    assert (item["status"], item["progress"]) == ("done", 100)


def test_an_old_vendor_copy_never_reverts_the_municipalitys_progress(
    client: TestClient, world: World, demo_project: int
) -> None:
    old_copy = export(client, world, "vendor_x", demo_project)
    url = f"/api/v1/projects/{demo_project}/items/3-6"
    assert (
        client.patch(
            url, headers=world.auth("town_a"), json={"status": "done", "progress": 100}
        ).status_code
        == 200
    )
    result = upload(client, world, "vendor_x", demo_project, old_copy)
    assert result.status_code == 201
    assert {(c["code"], c["field"]) for c in result.json()["conflicts"]} == {
        ("3-6", "status"),
        ("3-6", "progress"),
    }
    assert client.get(url, headers=world.auth("town_a")).json()["status"] == "done"


def test_inserting_a_row_and_renumbering_moves_items_instead_of_rewriting_them(
    client: TestClient, world: World, demo_project: int
) -> None:
    before = {
        i["code"]: i
        for i in client.get(
            f"/api/v1/projects/{demo_project}/items?limit=1000", headers=world.auth("vendor_x")
        ).json()["items"]
    }
    workbook = openpyxl.load_workbook(io.BytesIO(export(client, world, "vendor_x", demo_project)))
    sheet = workbook["WBS"]
    rows = rows_by_code(sheet)
    code_column, id_column = column(sheet, "項番"), column(sheet, "ID")
    # A new step between 1-1 and 1-2; the steps after it are renumbered, as people do in Excel.
    sheet.insert_rows(rows["1-2"])
    new_row = rows["1-2"]
    for name, value in {
        "項番": "1-2",
        "作業項目": "関係課ヒアリング",
        "役割分担": "自治体",
        "親項番": "1",
    }.items():
        sheet.cell(row=new_row, column=column(sheet, name), value=value)
    sheet.cell(row=new_row + 1, column=code_column, value="1-3")
    sheet.cell(row=new_row + 2, column=code_column, value="1-4")
    predecessors = column(sheet, "先行作業")
    for r in range(2, sheet.max_row + 1):
        value = sheet.cell(row=r, column=predecessors).value
        if value:
            renamed = {"1-2": "1-3", "1-3": "1-4"}
            sheet.cell(
                row=r,
                column=predecessors,
                value=", ".join(renamed.get(c.strip(), c.strip()) for c in str(value).split(",")),
            )
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = upload(client, world, "vendor_x", demo_project, buffer.getvalue())
    assert result.status_code == 201, result.text
    assert [c["code"] for c in result.json()["created"]] == ["1-2"]
    after = {
        i["code"]: i
        for i in client.get(
            f"/api/v1/projects/{demo_project}/items?limit=1000", headers=world.auth("vendor_x")
        ).json()["items"]
    }
    assert after["1-3"]["id"] == before["1-2"]["id"]
    assert after["1-3"]["title"] == before["1-2"]["title"]
    assert after["1-4"]["id"] == before["1-3"]["id"]
    assert after["1-4"]["predecessors"] == ["1-1", "1-3"]
    assert after["1-2"]["responsibility"] == "municipality"
    assert sheet.cell(row=new_row, column=id_column).value is None


def test_approximate_dates_and_loose_text_survive_the_round_trip(
    client: TestClient, world: World, make_item: ItemFactory, db: Session
) -> None:
    project_id = world.projects["a_x"].id
    sheet = "項番,作業項目,担当,終了予定日\n1,計画,ベンダー,令和7年10月下旬\n".encode()
    assert (
        client.post(
            f"/api/v1/projects/{project_id}/imports",
            headers=world.auth("vendor_x"),
            files={"file": ("w.csv", sheet)},
        ).status_code
        == 201
    )
    make_item(
        code="2", title="移行  リハーサル", notes="一行目\n\n  二行目  ", responsibility="vendor"
    )
    make_item(code="ア", parent_code="2", title="子", responsibility="vendor")
    events = db.scalar(select(func.count()).select_from(ChangeEvent))
    result = upload(
        client, world, "vendor_x", project_id, export(client, world, "vendor_x", project_id)
    )
    assert result.status_code == 201, result.text
    assert result.json()["counts"]["unchanged"] == 3, result.json()["updated"]
    assert db.scalar(select(func.count()).select_from(ChangeEvent)) == events
    item = client.get(
        f"/api/v1/projects/{project_id}/items/1", headers=world.auth("vendor_x")
    ).json()
    assert (item["planned_end"], item["planned_end_text"]) == ("2025-10-31", "令和7年10月下旬")


def test_control_characters_are_refused_and_old_ones_never_break_the_export(
    client: TestClient, world: World, make_item: ItemFactory, db: Session
) -> None:
    url = f"/api/v1/projects/{world.projects['a_x'].id}/items"
    refused = client.post(
        url,
        headers=world.auth("vendor_x"),
        json={"code": "1", "title": "bell\x07", "responsibility": "vendor"},
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "title"
    make_item(code="2", title="ok", responsibility="vendor")
    from service.items.models import Item

    stored = db.scalar(select(Item).where(Item.code == "2"))
    assert stored is not None
    stored.notes = "written before the rule\x1b"
    db.commit()
    sheet = openpyxl.load_workbook(
        io.BytesIO(export(client, world, "vendor_x", world.projects["a_x"].id))
    )["WBS"]
    assert sheet.cell(row=2, column=column(sheet, "備考")).value == "written before the rule\ufffd"
