"""The national progress layout (業務別ステップ別進捗一覧), cell by cell on a known set."""

from __future__ import annotations

import csv
import io
from datetime import date

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from service.items.models import Status
from service.national import STEPS
from service.reports.national import ItemState, step_state
from service.reports.schemas import StepState
from tests.conftest import ItemFactory, World

URL = "/api/v1/reports/national-progress"
DONE, NA, TODO = Status.done, Status.not_applicable, Status.not_started


def state(status: Status, progress: int = 0, actual_start: date | None = None) -> ItemState:
    return ItemState(status, progress, actual_start)


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([], StepState.not_started),
        ([state(DONE)], StepState.complete),
        ([state(DONE), state(NA)], StepState.complete),
        ([state(NA), state(NA)], StepState.not_applicable),
        ([state(DONE), state(TODO)], StepState.in_progress),
        ([state(Status.on_hold)], StepState.in_progress),
        ([state(Status.delayed), state(TODO)], StepState.in_progress),
        ([state(TODO, progress=10)], StepState.in_progress),
        ([state(TODO, actual_start=date(2026, 4, 1))], StepState.in_progress),
        ([state(TODO), state(NA)], StepState.not_started),
        ([state(TODO), state(TODO)], StepState.not_started),
    ],
)
def test_the_rule_that_rolls_a_steps_items_into_its_state(
    items: list[ItemState], expected: StepState
) -> None:
    assert step_state(items) is expected


@pytest.fixture
def national_world(world: World, db: Session, make_item: ItemFactory) -> World:
    """Town A (茨城県) and town B (北海道), their projects' items tagged with steps."""
    world.orgs["town_a"].local_government_code = "085464"
    world.orgs["town_b"].local_government_code = "011002"
    db.commit()
    for code, step, status, extra in (
        ("1", "1-1", "done", {}),
        ("2", "1-2", "done", {}),
        ("3", "①-2", "not_applicable", {}),
        ("4", "1-3", "not_applicable", {}),
        ("5", "1-3", "not_applicable", {}),
        ("6", "2-1", "done", {}),
        ("7", "2-1", "not_started", {}),
        ("8", "2-2", "not_started", {}),
        ("9", "2-2", "not_applicable", {}),
        ("10", "3-1", "not_started", {"progress": 10}),
        ("11", "3-2", "on_hold", {}),
        ("12", "4-1", "done", {"business": "介護保険"}),
        ("13", None, "done", {}),
    ):
        make_item(code=code, step=step, status=status, **extra)
    # The project named 住民記録 gives its items that business; 税務 names none.
    make_item("b_x", code="1", step="18-2", status="in_progress")
    make_item("b_y", code="1", step="1-1", status="done", business="個人住民税")
    make_item("b_y", code="2", step="1-2", status="done")
    return world


def _row(
    prefecture: str, town: str, business: str, states: dict[str, str], rate: float
) -> list[object]:
    return [prefecture, town, business, *(states.get(s.code, "未着手") for s in STEPS), rate]


TOWN_A_RESIDENTS = {
    "1-1": "完了済み",
    "1-2": "完了済み",
    "1-3": "対象外",
    "2-1": "作業中",
    "2-2": "未着手",
    "3-1": "作業中",
    "3-2": "作業中",
}
EXPECTED = [
    _row("北海道", "みどり市", "住民記録", {"18-2": "作業中"}, 0.0),
    _row("北海道", "みどり市", "個人住民税", {"1-1": "完了済み"}, 2.5),
    _row("茨城県", "さくら町", "住民記録", TOWN_A_RESIDENTS, 7.5),
    _row("茨城県", "さくら町", "介護保険", {"4-1": "完了済み"}, 2.5),
]
HEADER = ["都道府県名", "市区町村名", "業務", *(s.circled for s in STEPS), "完了率(%)"]


def test_the_xlsx_is_the_layout_cell_by_cell(client: TestClient, national_world: World) -> None:
    response = client.get(f"{URL}?format=xlsx", headers=national_world.auth("pmo"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "national-progress.xlsx" in response.headers["content-disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content))["業務別ステップ別進捗一覧"]
    cells = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert cells[0] == HEADER
    assert (cells[0][3], cells[0][42], len(cells[0])) == ("①-1", "⑱-2", 44)
    assert cells[1:] == EXPECTED


def test_the_csv_is_utf8_with_a_bom_and_the_same_cells(
    client: TestClient, national_world: World
) -> None:
    response = client.get(URL, headers={**national_world.auth("pmo"), "Accept": "text/csv"})
    assert response.status_code == 200, response.text
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == HEADER
    assert rows[1:] == [[str(value) for value in row] for row in EXPECTED]


def test_the_json_names_each_step_and_counts_each_state(
    client: TestClient, national_world: World
) -> None:
    response = client.get(URL, headers=national_world.auth("pmo"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert [column["code"] for column in body["steps"]] == [step.code for step in STEPS]
    assert body["steps"][0] == {
        "number": 1,
        "code": "1-1",
        "circled": "①-1",
        "major_name": "推進体制の立上げ",
        "name": "推進体制の検討",
    }
    town_a = body["rows"][2]
    assert (town_a["prefecture"], town_a["local_government_code"]) == ("茨城県", "085464")
    assert town_a["municipality"]["name"] == "さくら町"
    assert list(town_a["steps"]) == [step.code for step in STEPS]
    assert town_a["steps"]["1-3"] == "not_applicable"
    assert town_a["counts"] == {
        "complete": 2,
        "in_progress": 3,
        "not_started": 34,
        "not_applicable": 1,
    }
    assert town_a["completion_rate"] == 7.5


@pytest.mark.parametrize(
    ("who", "rows"),
    [
        ("town_a", [("さくら町", "住民記録"), ("さくら町", "介護保険")]),
        ("vendor_y", [("みどり市", "個人住民税")]),
        (
            "vendor_x",
            [("みどり市", "住民記録"), ("さくら町", "住民記録"), ("さくら町", "介護保険")],
        ),
    ],
)
def test_each_caller_sees_the_rows_of_the_projects_it_may_see(
    client: TestClient, national_world: World, who: str, rows: list[tuple[str, str]]
) -> None:
    response = client.get(URL, headers=national_world.auth(who))
    assert response.status_code == 200, response.text
    found = [(row["municipality"]["name"], row["business"]) for row in response.json()["rows"]]
    assert found == rows


def test_a_town_without_a_code_or_any_step_still_has_its_row_of_steps_not_started(
    client: TestClient, world: World
) -> None:
    response = client.get(f"{URL}?lang=en&format=csv", headers=world.auth("pmo"))
    assert response.status_code == 200, response.text
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Prefecture", "Municipality", "Business"]
    assert rows[0][-1] == "Completion rate (%)"
    # Both projects named 住民記録 give a row; 税務 names no business.
    assert [row[:3] for row in rows[1:]] == [
        ["", "さくら町", "住民記録"],
        ["", "みどり市", "住民記録"],
    ]
    assert {cell for row in rows[1:] for cell in row[3:-1]} == {"Not started"}
    assert [row[-1] for row in rows[1:]] == ["0.0", "0.0"]


def test_a_sub_step_beyond_the_procedures_list_is_kept_and_gets_a_column_of_its_own(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    # A sheet from another edition of the procedure splits ⑩ in three where the list has two.
    assert "10-3" not in {step.code for step in STEPS}
    made = client.post(
        f"/api/v1/projects/{world.projects['a_x'].id}/items",
        headers=world.auth("vendor_x"),
        json={"code": "1", "title": "環境の確認", "responsibility": "vendor", "step": "⑩-3"},
    )
    assert made.status_code == 201, made.text
    assert made.json()["step"] == "10-3"
    make_item(code="2", step="10-2", status="done")
    body = client.get(URL, headers=world.auth("pmo")).json()
    codes = [column["code"] for column in body["steps"]]
    assert len(codes) == len(STEPS) + 1
    assert codes[codes.index("10-2") + 1] == "10-3"
    column = body["steps"][codes.index("10-3")]
    assert (column["number"], column["circled"]) == (None, "⑩-3")
    town_a = next(row for row in body["rows"] if row["municipality"]["name"] == "さくら町")
    assert (town_a["steps"]["10-2"], town_a["steps"]["10-3"]) == ("complete", "not_started")
    assert town_a["completion_rate"] == round(100 / (len(STEPS) + 1), 1)


def test_a_bad_format_is_a_422_problem(client: TestClient, world: World) -> None:
    response = client.get(f"{URL}?format=pdf", headers=world.auth("pmo"))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
