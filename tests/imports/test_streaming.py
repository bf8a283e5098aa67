"""What an import that streams its rows must still get right across the slices it writes."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.changes.models import ChangeEvent
from service.items.models import Item
from tests.conftest import World
from tests.importers.sheets import workbook_bytes
from tests.imports.test_router import HEADER, ROWS, items, sheet, upload


def feed(client: TestClient, world: World) -> list[dict[str, object]]:
    response = client.get(
        f"/api/v1/projects/{world.projects['a_x'].id}/changes?limit=1000",
        headers=world.auth("pmo"),
    )
    assert response.status_code == 200, response.text
    events: list[dict[str, object]] = response.json()["items"]
    return events


def test_children_and_successors_listed_before_their_parents_and_predecessors_link_up(
    client: TestClient, world: World
) -> None:
    header = ["項番", "作業項目", "担当", "終了予定日", "先行作業", "親項番"]
    rows = [
        ["2-1", "本番移行", "ベンダー", "R8.3.31", "1-2", "2"],
        ["1-2", "移行リハーサル", "共同", "R8.2.27", "1-1", "1"],
        ["1-1", "移行計画書作成", "ベンダー", "R8.1.30", None, "1"],
        ["1", "移行", "ベンダー", "R8.3.31", None, None],
        ["2", "本番", "ベンダー", "R8.3.31", "1", None],
    ]
    response = upload(client, world, "vendor_x", sheet(rows, header))
    assert response.status_code == 201, response.text
    stored = items(client, world)
    assert {code: (item["parent_code"], item["predecessors"]) for code, item in stored.items()} == {
        "1": (None, []),
        "1-1": ("1", []),
        "1-2": ("1", ["1-1"]),
        "2": (None, ["1"]),
        "2-1": ("2", ["1-2"]),
    }
    created = {event["item_code"]: event for event in feed(client, world)}
    changes = {c["field"]: c["new"] for c in created["2-1"]["changes"]}  # type: ignore[union-attr]
    assert (changes["parent_code"], changes["predecessors"]) == ("2", ["1-2"])


def test_a_problem_in_the_last_rows_undoes_the_rows_already_written(
    client: TestClient, world: World, db: Session
) -> None:
    assert upload(client, world, "vendor_x", sheet()).status_code == 201
    before = items(client, world)
    events = db.scalar(select(func.count()).select_from(ChangeEvent))
    changed = [row[:] for row in ROWS]
    changed[0][5] = 50  # an update written in the first slice
    late = [*changed, ["3", "新規作業", None, None, None, None, None, None, None]]
    response = upload(client, world, "vendor_x", sheet(late))
    assert response.status_code == 422
    assert [(e["row"], e["column"]) for e in response.json()["sheet_errors"]] == [(8, "C")]
    assert items(client, world) == before
    assert db.scalar(select(func.count()).select_from(ChangeEvent)) == events
    assert db.scalar(select(func.count()).select_from(Item)) == len(ROWS)


def test_the_feed_numbers_every_event_of_an_import_once_in_the_order_written(
    client: TestClient, world: World
) -> None:
    assert upload(client, world, "vendor_x", sheet()).status_code == 201
    changed = [row[:] for row in ROWS]
    changed[1][5], changed[3][4] = 60, "R8.3.30"
    assert upload(client, world, "vendor_x", sheet(changed)).status_code == 201
    events = feed(client, world)
    positions = [event["position"] for event in events]
    assert positions == list(range(1, len(ROWS) + 3))
    assert [(e["kind"], e["item_code"]) for e in events] == [
        ("created", "1"),
        ("created", "1-1"),
        ("created", "1-2"),
        ("created", "2"),
        ("updated", "1-1"),
        ("updated", "2"),
    ]


def test_codes_renumbered_in_a_chain_move_every_item_one_down(
    client: TestClient, world: World
) -> None:
    first = [
        [str(n), f"作業{n}", "ベンダー", None, None, 0, "未着手", None, None] for n in (1, 2, 3)
    ]
    assert upload(client, world, "vendor_x", sheet(first)).status_code == 201
    ids = {code: item["id"] for code, item in items(client, world).items()}
    header = ["ID", *HEADER]
    shifted = [
        [None, "1", "差し込んだ作業", "ベンダー", None, None, 0, "未着手", None, None],
        *[[ids[row[0]], str(int(row[0]) + 1), *row[1:]] for row in first],
    ]
    response = upload(client, world, "vendor_x", sheet(shifted, header))
    assert response.status_code == 201, response.text
    stored = items(client, world)
    assert {code: item["title"] for code, item in stored.items()} == {
        "1": "差し込んだ作業",
        "2": "作業1",
        "3": "作業2",
        "4": "作業3",
    }
    assert [stored[str(n + 1)]["id"] for n in (1, 2, 3)] == [ids["1"], ids["2"], ids["3"]]


def test_groups_from_level_columns_are_created_with_their_childrens_side_and_span(
    client: TestClient, world: World
) -> None:
    data = workbook_bytes(
        (
            "WBS",
            [
                ["大項目", "中項目", "作業項目", "担当", "開始予定日", "終了予定日"],
                ["計画", "体制", "体制図作成", "ベンダー", "2025/10/5", "2025/10/16"],
                [None, None, "連絡先確認", "町", "2025/10/15", "2025/10/20"],
                ["移行", "データ", "抽出依頼", "ベンダー", "2025/11/1", "2026/1/31"],
            ],
        )
    )
    response = upload(client, world, "vendor_x", data)
    assert response.status_code == 201, response.text
    stored = items(client, world)
    assert {code: item["responsibility"] for code, item in stored.items()} == {
        "1": "joint",
        "1.1": "joint",
        "1.1.1": "vendor",
        "1.1.2": "municipality",
        "2": "vendor",
        "2.1": "vendor",
        "2.1.1": "vendor",
    }
    assert (stored["1"]["planned_start"], stored["1"]["planned_end"]) == (
        "2025-10-05",
        "2025-10-20",
    )


def test_an_answer_larger_than_memory_holds_comes_back_whole_and_in_order(
    client: TestClient, world: World, db: Session
) -> None:
    rows = [
        [f"{n}", f"作業{n}", "ベンダー", "R8.4.1", "R8.4.30", 0, "未着手", None, "備考" * 20]
        for n in range(1, 1201)
    ]
    response = upload(client, world, "vendor_x", sheet(rows))
    assert response.status_code == 201, response.text[:500]
    assert len(response.content) > 256 * 1024  # past what the answer keeps in memory
    answer = response.json()
    assert answer["counts"]["created"] == 1200
    assert [row["code"] for row in answer["created"]] == [str(n) for n in range(1, 1201)]
    assert {c["field"]: c["new"] for c in answer["created"][-1]["changes"]}["notes"] == "備考" * 20
    assert db.scalar(select(func.count()).select_from(Item)) == 1200

    again = upload(client, world, "vendor_x", sheet(rows)).json()
    assert again["unchanged"] == [str(n) for n in range(1, 1201)]
    assert (again["created"], again["updated"], again["conflicts"]) == ([], [], [])


def test_a_sheet_that_moves_an_item_under_its_own_child_is_refused(
    client: TestClient, world: World
) -> None:
    header = ["項番", "作業項目", "担当", "親項番"]
    first = [["1", "移行", "ベンダー", None], ["1-1", "移行計画", "ベンダー", "1"]]
    assert upload(client, world, "vendor_x", sheet(first, header)).status_code == 201
    looped = [["1", "移行", "ベンダー", "1-1"], ["1-1", "移行計画", "ベンダー", "1"]]
    response = upload(client, world, "vendor_x", sheet(looped, header))
    assert response.status_code == 422
    assert "cycle" in response.json()["detail"]
    assert items(client, world)["1"]["parent_code"] is None


def test_a_sheet_without_a_responsibility_column_gets_one_problem_not_one_per_row(
    client: TestClient, world: World, db: Session
) -> None:
    header = ["項番", "作業項目", "終了予定日"]
    rows = [[str(n), f"作業{n}", "R8.3.31"] for n in range(1, 40)]
    response = upload(client, world, "vendor_x", sheet(rows, header))
    assert response.status_code == 422
    problems = response.json()["sheet_errors"]
    assert len(problems) == 1
    assert problems[0]["row"] == 4
    assert "no such column" in problems[0]["message"]
    assert db.scalar(select(func.count()).select_from(Item)) == 0
