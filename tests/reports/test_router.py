from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from fastapi.testclient import TestClient

from tests.conftest import ItemFactory, World

AS_OF = "2026-04-10"


@pytest.fixture
def late_world(world: World, make_item: ItemFactory) -> World:
    """Town A's project: one late item per side, the boundary days, and the closed statuses."""
    make_item(
        code="1",
        title="計画",
        responsibility="joint",
        planned_start="2026-03-01",
        planned_end="2026-04-30",
        status="in_progress",
    )
    make_item(
        code="1-1",
        title='=HYPERLINK("x")',
        responsibility="municipality",
        planned_end="2026-04-01",
        status="in_progress",
        progress=40,
        assignee="住民課",
    )
    make_item(
        code="1-2",
        title="抽出",
        responsibility="vendor",
        planned_end="2026-04-09",
        predecessors=["1-1"],
    )
    make_item(
        code="1-3",
        title="確認",
        responsibility="municipality",
        planned_end="2026-04-10",
        predecessors=["1-2"],
    )
    make_item(
        code="1-4",
        title="完了済",
        responsibility="vendor",
        planned_end="2026-03-01",
        status="done",
        progress=100,
    )
    make_item(
        code="1-5",
        title="対象外",
        responsibility="vendor",
        planned_end="2026-03-01",
        status="not_applicable",
    )
    make_item(
        code="1-6",
        title="後続（着手済）",
        responsibility="vendor",
        planned_end="2026-05-01",
        status="in_progress",
        predecessors=["1-1"],
    )
    make_item(
        code="1-7",
        title="判定会議",
        responsibility="joint",
        planned_start="2026-04-20",
        planned_end="2026-04-20",
    )
    make_item(
        project="b_x",
        code="1",
        title="B町の遅延",
        responsibility="municipality",
        planned_end="2026-04-05",
    )
    return world


def overdue(
    client: TestClient, world: World, who: str, query: str = "", project: str | None = None
) -> dict[str, object]:
    base = (
        f"/api/v1/projects/{world.projects[project].id}/reports/overdue"
        if project
        else "/api/v1/reports/overdue"
    )
    response = client.get(f"{base}?as_of={AS_OF}&{query}", headers=world.auth(who))
    assert response.status_code == 200, response.text
    return dict(response.json())


def codes(report: dict[str, object]) -> list[tuple[str, str, int]]:
    return [(r["municipality"]["code"], r["code"], r["days_overdue"]) for r in report["rows"]]  # type: ignore[attr-defined, index]


def test_boundaries_and_closed_statuses(client: TestClient, late_world: World) -> None:
    report = overdue(client, late_world, "town_a")
    # 1-3 is due on the as-of day itself: not overdue. 1-4 done and 1-5 N/A never are.
    assert codes(report) == [("town-a", "1-1", 9), ("town-a", "1-2", 1)]
    assert report["total"] == 2
    assert report["truncated"] is False


def test_each_late_item_names_the_unstarted_work_it_holds_up_and_marks_the_other_side(
    client: TestClient, late_world: World
) -> None:
    rows = {r["code"]: r for r in overdue(client, late_world, "vendor_x", project="a_x")["rows"]}  # type: ignore[attr-defined]
    # 1-6 already started despite 1-1, so it is not listed as held up.
    assert rows["1-1"]["blocks"] == [
        {"code": "1-2", "title": "抽出", "responsibility": "vendor", "other_side": True}
    ]
    assert rows["1-2"]["blocks"] == [
        {"code": "1-3", "title": "確認", "responsibility": "municipality", "other_side": True}
    ]
    assert rows["1-1"]["project"]["name"] == "住民記録"
    assert rows["1-1"]["vendor"]["code"] == "vendor-x"
    assert (rows["1-1"]["assignee"], rows["1-1"]["status"], rows["1-1"]["progress"]) == (
        "住民課",
        "in_progress",
        40,
    )


def test_filters_and_due_soon(client: TestClient, late_world: World) -> None:
    pmo = "pmo"
    assert codes(overdue(client, late_world, pmo)) == [
        ("town-a", "1-1", 9),
        ("town-b", "1", 5),
        ("town-a", "1-2", 1),
    ]
    assert codes(overdue(client, late_world, pmo, "responsibility=municipality")) == [
        ("town-a", "1-1", 9),
        ("town-b", "1", 5),
    ]
    assert codes(overdue(client, late_world, pmo, "municipality=town-b")) == [("town-b", "1", 5)]
    assert codes(overdue(client, late_world, pmo, "vendor=vendor-y")) == []
    assert codes(overdue(client, late_world, pmo, "consortium=east&assignee=住民課")) == [
        ("town-a", "1-1", 9)
    ]
    soon = overdue(client, late_world, "town_a", "due_within=10")
    assert [(r["code"], r["state"]) for r in soon["rows"]] == [  # type: ignore[attr-defined]
        ("1-1", "overdue"), ("1-2", "overdue"), ("1-3", "due_soon"), ("1-7", "due_soon"),
    ]  # fmt: skip
    limited = overdue(client, late_world, pmo, "limit=1")
    assert (limited["total"], limited["truncated"], len(limited["rows"])) == (3, True, 1)  # type: ignore[arg-type]


def test_a_municipality_sees_only_its_own_late_items(client: TestClient, late_world: World) -> None:
    assert [c for _, c, _ in codes(overdue(client, late_world, "town_b"))] == ["1"]
    response = client.get(
        f"/api/v1/projects/{late_world.projects['a_x'].id}/reports/overdue",
        headers=late_world.auth("town_b"),
    )
    assert response.status_code == 404


def test_csv_has_a_bom_japanese_headers_and_no_formulas(
    client: TestClient, late_world: World
) -> None:
    response = client.get(
        f"/api/v1/reports/overdue?as_of={AS_OF}",
        headers={**late_world.auth("town_a"), "Accept": "text/csv"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["プロジェクト", "自治体", "ベンダー", "項番"]
    assert rows[1][3:6] == ["1-1", '\'=HYPERLINK("x")', "自治体"]
    assert rows[1][12] == "1-2 抽出"
    english = client.get(
        f"/api/v1/reports/overdue?as_of={AS_OF}&format=csv&lang=en",
        headers=late_world.auth("town_a"),
    )
    assert next(csv.reader(io.StringIO(english.content.decode("utf-8-sig"))))[3] == "Code"


def test_xlsx_opens_with_text_kept_as_text(client: TestClient, late_world: World) -> None:
    response = client.get(
        f"/api/v1/reports/overdue?as_of={AS_OF}&format=xlsx", headers=late_world.auth("town_a")
    )
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = workbook.active
    assert sheet is not None
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[1][3] == "1-1"
    title = sheet.cell(row=2, column=5)
    assert title.value == '=HYPERLINK("x")'
    assert title.data_type == "s"
    assert values[1][8] == 9


def test_progress_counts_leaves_by_side_and_status_and_rolls_up(
    client: TestClient, late_world: World
) -> None:
    response = client.get(f"/api/v1/reports/progress?as_of={AS_OF}", headers=late_world.auth("pmo"))
    assert response.status_code == 200
    report = response.json()
    a_x = next(p for p in report["projects"] if p["project"]["id"] == late_world.projects["a_x"].id)
    # Leaves of town A: 1-1 … 1-7 (item 1 has children, so it is not counted).
    assert a_x["items"] == 7
    assert a_x["complete"] == 2
    assert a_x["percent_complete"] == round((40 + 0 + 0 + 100 + 100 + 0 + 0) / 7, 1)
    assert a_x["overdue"] == {"vendor": 1, "municipality": 1, "joint": 0}
    assert a_x["by_status"]["vendor"] == {
        "not_started": 1,
        "in_progress": 1,
        "delayed": 0,
        "on_hold": 0,
        "done": 1,
        "not_applicable": 1,
    }
    assert report["overall"]["items"] == 8
    assert report["overall"]["overdue"]["municipality"] == 2
    assert [(m["key"], m["projects"], m["items"]) for m in report["municipalities"]] == [
        ("town-a", 1, 7),
        ("town-b", 2, 1),
    ]
    assert [(v["key"], v["projects"]) for v in report["vendors"]] == [
        ("vendor-x", 2),
        ("vendor-y", 1),
    ]
    assert [(c["key"], c["projects"], c["items"]) for c in report["consortia"]] == [("east", 2, 8)]
    assert [(m["code"], m["planned_end"]) for m in report["next_milestones"]] == [
        ("1-7", "2026-04-20")
    ]


def test_progress_in_csv_and_xlsx(client: TestClient, late_world: World) -> None:
    auth = late_world.auth("vendor_x")
    rows = list(
        csv.reader(
            io.StringIO(
                client.get(
                    f"/api/v1/reports/progress?as_of={AS_OF}&format=csv", headers=auth
                ).content.decode("utf-8-sig")
            )
        )
    )
    assert rows[0][0] == "名称"
    assert [r[2] for r in rows[1:]] == ["7", "1"]
    response = client.get(
        f"/api/v1/projects/{late_world.projects['a_x'].id}/reports/progress?as_of={AS_OF}",
        headers={
            **auth,
            "Accept": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        },
    )
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["プロジェクト別", "自治体別", "ベンダー別", "グループ別"]
    assert workbook["プロジェクト別"].cell(row=2, column=3).value == 7
