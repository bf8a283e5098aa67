"""Layouts of the corpus imported through the API and compared field by field, and what a
person fixing a sheet reads in the preview and in the problems."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

import pytest
from fastapi.testclient import TestClient

from service.items.rules import derived_parent_code
from tests.conftest import World
from tests.importers.corpus import (
    Layout,
    english_ms_project,
    gantt_daily_fiscal_year,
    national_steps,
    people_beside_their_side,
    periods_in_one_cell,
    unicode_text_txt,
)
from tests.importers.sheets import build, save
from tests.imports.test_router import items, upload

THROUGH_THE_API = [
    national_steps,
    gantt_daily_fiscal_year,
    english_ms_project,
    people_beside_their_side,
    periods_in_one_cell,
    unicode_text_txt,
]


def as_stored(expected: dict[str, object], code: str) -> dict[str, object]:
    """An expectation of the corpus in the API's terms: days as ISO text, the parent always."""
    stored = {k: v.isoformat() if isinstance(v, date) else v for k, v in expected.items()}
    stored.setdefault("parent_code", derived_parent_code(code))
    stored.pop("id", None)  # Microsoft Project's own task numbers: no item of this project's
    return stored


@pytest.mark.parametrize("build_layout", THROUGH_THE_API, ids=lambda b: b.__name__)
def test_a_layout_imports_through_the_api_field_for_field(
    client: TestClient, world: World, build_layout: Callable[[], Layout]
) -> None:
    layout = build_layout()
    response = upload(client, world, "vendor_x", layout.data, layout.file_name)
    assert response.status_code == 201, response.text
    stored = items(client, world)
    assert set(stored) == set(layout.items)
    for code, expected in layout.items.items():
        wanted = as_stored(expected, code)
        assert {name: stored[code][name] for name in wanted} == wanted, code
    again = upload(client, world, "vendor_x", layout.data, layout.file_name).json()
    assert again["counts"]["updated"] == 0, again["updated"]


def preview(client: TestClient, world: World, data: bytes, **form: str) -> dict[str, object]:
    response = client.post(
        f"/api/v1/projects/{world.projects['a_x'].id}/imports/preview",
        headers=world.auth("town_a"),
        files={"file": ("wbs.xlsx", data)},
        data=form,
    )
    assert response.status_code in (200, 422), response.text
    answer: dict[str, object] = response.json()
    return answer


def test_the_preview_says_which_header_reading_it_chose_and_shows_each_cell(
    client: TestClient, world: World
) -> None:
    shown = preview(client, world, national_steps().data)
    detection = shown["detection"]
    assert detection["chosen"]["header_rows"] == [4, 5]  # type: ignore[index]
    assert detection["alternative"]["header_rows"] == [4]  # type: ignore[index]
    assert detection["chosen"]["fields_explained"] > detection["alternative"]["fields_explained"]  # type: ignore[index]
    assert detection["summary"].startswith("rows 4–5 read as the header")  # type: ignore[index]
    first = next(row for row in shown["rows"] if row["code"] == "1-1")  # type: ignore[attr-defined]
    cells = {cell["column"]: cell for cell in first["cells"]}
    assert cells["B"] == {"column": "B", "header": "項番", "value": "①-1", "field": "code",
                          "read": "1-1"}  # fmt: skip
    assert cells["D"]["header"] == "役割分担 団体"
    assert (cells["D"]["value"], cells["D"]["field"], cells["D"]["read"]) == (
        "◎", "marks:municipality", "joint",
    )  # fmt: skip
    assert (cells["G"]["value"], cells["G"]["read"]) == ("R7.4月下旬", "2025-04-30")
    assert first["step"] == {"number": "①", "name": "推進体制の立上げ", "code": "①-1"}


def test_marks_read_as_role_words_are_said_once_for_the_column_with_the_mapping(
    client: TestClient, world: World
) -> None:
    # A wrong mapping, as a user might give one: the ◎ column read as a column of role words.
    mapping = {"code": "B", "title": "C", "responsibility": "D", "planned_end": "G"}
    shown = preview(
        client, world, national_steps().data, mapping=json.dumps(mapping), header_row="5"
    )
    errors = shown["errors"]
    first = errors[0]  # type: ignore[index]
    assert (first["row"], first["column"]) == (0, "D")
    assert "one column per party" in first["message"]
    assert first["mapping"] == {"marks:municipality": "D", "marks:vendor": "E"}
    per_row = [e for e in errors if e["row"]]  # type: ignore[union-attr]
    assert len(per_row) == 10
    assert {e["column"] for e in per_row} == {"D"}
    fixed = {"code": "B", "title": "C", "planned_end": "G", **first["mapping"]}
    assert preview(client, world, national_steps().data, mapping=json.dumps(fixed),
                   header_row="5")["errors"] == []  # fmt: skip


def test_names_in_the_side_column_are_said_for_the_column_with_the_assignee_mapping(
    client: TestClient, world: World
) -> None:
    rows = [["項番", "作業項目", "担当", "期限"]] + [
        [str(n), f"作業{n}", name, "R7.9.30"]
        for n, name in enumerate(["山田", "住民課", "佐藤", "情報政策課"], 1)
    ]
    workbook, _ = build(rows)
    response = upload(client, world, "vendor_x", save(workbook))
    assert response.status_code == 422
    first = response.json()["sheet_errors"][0]
    assert (first["row"], first["column"], first["mapping"]) == (0, "C", {"assignee": "C"})
    assert "names or departments" in first["message"]
    assert len(response.json()["sheet_errors"]) == 1 + 4
