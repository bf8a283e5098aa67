from __future__ import annotations

import json

from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.changes.models import ChangeEvent, ChangeSource
from service.config import Settings
from service.items.models import Item
from service.main import create_app
from tests.conftest import World
from tests.importers.sheets import build, rewritten, save, workbook_bytes

HEADER = [
    "項番",
    "作業項目",
    "担当",
    "開始予定日",
    "終了予定日",
    "進捗率",
    "状況",
    "先行作業",
    "備考",
]
ROWS = [
    ["1", "移行計画", "ベンダー", "R7.4.1", "R7.4.30", 100, "完了", None, None],
    ["1-1", "移行計画書作成", "ベンダー", "R7.4.1", "R7.4.20", 100, "完了", None, None],
    ["1-2", "現行データ抽出依頼", "自治体", "R7.4.21", "4月下旬", 0, "未着手", "1-1", None],
    ["2", "受入テスト", "共同", "R7.5.1", "R7年度末", 0, "未着手", "1", "要調整"],
]


def upload(
    client: TestClient, world: World, who: str, data: bytes, name: str = "wbs.xlsx", **form: str
) -> Response:
    return client.post(
        f"/api/v1/projects/{world.projects['a_x'].id}/imports",
        headers=world.auth(who),
        files={"file": (name, data)},
        data=form,
    )


def items(client: TestClient, world: World) -> dict[str, dict[str, object]]:
    response = client.get(
        f"/api/v1/projects/{world.projects['a_x'].id}/items?limit=1000", headers=world.auth("pmo")
    )
    return {item["code"]: item for item in response.json()["items"]}


def sheet(rows: list[list[object]] = ROWS, header: list[str] = HEADER) -> bytes:
    return workbook_bytes(("WBS", [["住民記録システム標準化 WBS"], [], header, *rows]))


def test_vendor_upload_creates_every_item_and_records_the_import(
    client: TestClient, world: World, db: Session
) -> None:
    response = upload(client, world, "vendor_x", sheet())
    assert response.status_code == 201, response.text
    result = response.json()
    assert result["counts"] | {} == {
        "rows": 4,
        "created": 4,
        "updated": 0,
        "unchanged": 0,
        "deleted": 0,
        "missing": 0,
        "conflicts": 0,
        "skipped": 0,
    }
    assert result["header_rows"] == [3]
    stored = items(client, world)
    assert stored["1-2"]["parent_code"] == "1"
    assert stored["1-2"]["responsibility"] == "municipality"
    assert (stored["1-2"]["planned_end"], stored["1-2"]["planned_end_text"]) == (
        "2025-04-30",
        "4月下旬",
    )
    assert stored["1-2"]["predecessors"] == ["1-1"]
    assert stored["2"]["planned_end"] == "2026-03-31"
    assert stored["2"]["notes"] == "要調整"
    assert stored["1"]["status"] == "done"

    events = list(db.scalars(select(ChangeEvent)))
    assert len(events) == 4
    assert {(e.source, e.source_id) for e in events} == {(ChangeSource.import_, str(result["id"]))}
    assert {e.actor_label for e in events} == {"vendor-x/test"}

    listing = client.get(
        f"/api/v1/projects/{world.projects['a_x'].id}/imports", headers=world.auth("town_a")
    )
    record = listing.json()["items"][0]
    assert (record["file_name"], record["sheet"], record["counts"]["created"]) == (
        "wbs.xlsx",
        "WBS",
        4,
    )
    assert len(record["sha256"]) == 64
    one = client.get(
        f"/api/v1/projects/{world.projects['a_x'].id}/imports/{record['id']}",
        headers=world.auth("town_a"),
    )
    assert one.json() == record


def test_reimporting_the_same_workbook_changes_nothing(
    client: TestClient, world: World, db: Session
) -> None:
    data = sheet()
    assert upload(client, world, "vendor_x", data).status_code == 201
    before = items(client, world)
    events = db.scalar(select(func.count()).select_from(ChangeEvent))
    again = upload(client, world, "vendor_x", data)
    assert again.status_code == 201
    assert again.json()["counts"]["unchanged"] == 4
    assert again.json()["counts"]["updated"] == 0
    assert items(client, world) == before
    assert db.scalar(select(func.count()).select_from(ChangeEvent)) == events


def test_dry_run_reports_the_diff_and_writes_nothing(
    client: TestClient, world: World, db: Session
) -> None:
    response = upload(client, world, "vendor_x", sheet(), dry_run="true")
    assert response.status_code == 200
    assert response.json()["id"] is None
    assert [c["code"] for c in response.json()["created"]] == ["1", "1-1", "1-2", "2"]
    assert db.scalar(select(func.count()).select_from(Item)) == 0
    assert (
        client.get(
            f"/api/v1/projects/{world.projects['a_x'].id}/imports", headers=world.auth("pmo")
        ).json()["items"]
        == []
    )

    upload(client, world, "vendor_x", sheet())
    changed = [row[:] for row in ROWS]
    changed[3][4] = "R9.3.31"
    diff = upload(client, world, "vendor_x", sheet(changed), dry_run="true").json()
    assert diff["updated"] == [{"row": 7, "code": "2", "changes": [
        {"field": "planned_end", "old": "2026-03-31", "new": "2027-03-31"},
        {"field": "planned_end_text", "old": "R7年度末", "new": None},
    ]}]  # fmt: skip
    assert items(client, world)["2"]["planned_end"] == "2026-03-31"


def test_any_error_rejects_the_whole_file_and_lists_every_problem(
    client: TestClient, world: World, db: Session
) -> None:
    bad = [
        *ROWS,
        ["3", "検収", "外注先", None, None, None, None, None, None],
        ["4", "完了報告", "ベンダー", None, "平成27年13月40日", None, None, "9", None],
    ]
    response = upload(client, world, "vendor_x", sheet(bad))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problems = {(e["row"], e["column"]) for e in response.json()["sheet_errors"]}
    assert problems == {(8, "C"), (9, "E"), (9, "H")}
    assert db.scalar(select(func.count()).select_from(Item)) == 0

    unknown_predecessor = [*ROWS, ["4", "完了報告", "ベンダー", None, None, None, None, "9", None]]
    response = upload(client, world, "vendor_x", sheet(unknown_predecessor))
    assert response.status_code == 422
    assert response.json()["sheet_errors"][0]["column"] == "H"
    assert "9" in response.json()["sheet_errors"][0]["message"]
    orphan = [*ROWS, ["5-1", "孤児", "ベンダー", None, None, None, None, None, None]]
    assert upload(client, world, "vendor_x", sheet(orphan)).status_code == 422
    assert db.scalar(select(func.count()).select_from(Item)) == 0


def test_municipality_round_trip_applies_its_progress_and_reports_the_rest(
    client: TestClient, world: World
) -> None:
    upload(client, world, "vendor_x", sheet())
    filled = [row[:] for row in ROWS]
    filled[2][5], filled[2][6] = 100, "完了"  # its own item: applied
    filled[0][1] = "移行計画（改）"  # the vendor's title: a conflict
    filled[1][6] = "作業中"  # the vendor's progress: a conflict
    filled[3][8] = "日程は町が調整"  # notes: anyone's
    response = upload(client, world, "town_a", sheet(filled))
    assert response.status_code == 201, response.text
    result = response.json()
    assert {(c["code"], c["field"]) for c in result["conflicts"]} == {
        ("1", "title"),
        ("1-1", "status"),
    }
    stored = items(client, world)
    assert (stored["1-2"]["status"], stored["1-2"]["progress"]) == ("done", 100)
    assert stored["1"]["title"] == "移行計画"
    assert stored["1-1"]["status"] == "done"
    assert stored["2"]["notes"] == "日程は町が調整"


def test_an_old_vendor_copy_never_reverts_the_municipalitys_progress(
    client: TestClient, world: World
) -> None:
    original = sheet()
    upload(client, world, "vendor_x", original)
    url = f"/api/v1/projects/{world.projects['a_x'].id}/items/1-2"
    assert (
        client.patch(
            url, headers=world.auth("town_a"), json={"status": "done", "progress": 100}
        ).status_code
        == 200
    )
    response = upload(client, world, "vendor_x", original)
    assert response.status_code == 201
    assert {c["field"] for c in response.json()["conflicts"]} == {"status", "progress"}
    assert items(client, world)["1-2"]["status"] == "done"


def test_municipality_cannot_add_or_prune_items_through_a_sheet(
    client: TestClient, world: World
) -> None:
    upload(client, world, "vendor_x", sheet())
    extra = [*ROWS, ["3", "追加作業", "自治体", None, None, None, None, None, None]]
    response = upload(client, world, "town_a", sheet(extra))
    assert response.status_code == 201
    assert [c["code"] for c in response.json()["conflicts"]] == ["3"]
    assert "3" not in items(client, world)
    assert upload(client, world, "town_a", sheet(ROWS[:2]), prune="true").status_code == 422


def test_missing_items_are_reported_and_deleted_only_with_prune(
    client: TestClient, world: World, db: Session
) -> None:
    upload(client, world, "vendor_x", sheet())
    shorter = ROWS[:2]
    response = upload(client, world, "vendor_x", sheet(shorter))
    assert [m["code"] for m in response.json()["missing"]] == ["1-2", "2"]
    assert set(items(client, world)) == {"1", "1-1", "1-2", "2"}
    pruned = upload(client, world, "vendor_x", sheet(shorter), prune="true")
    assert pruned.status_code == 201, pruned.text
    assert sorted(pruned.json()["deleted"]) == ["1-2", "2"]
    assert set(items(client, world)) == {"1", "1-1"}
    deleted = db.scalars(select(ChangeEvent.item_code).where(ChangeEvent.kind == "deleted"))
    assert sorted(deleted) == ["1-2", "2"]


def test_rows_carrying_the_exported_id_move_items_when_codes_are_renumbered(
    client: TestClient, world: World
) -> None:
    upload(client, world, "vendor_x", sheet())
    ids = {code: item["id"] for code, item in items(client, world).items()}
    header = ["ID", *HEADER]
    renumbered = [
        [ids["1"], *ROWS[0]],
        [None, "1-1", "新しい作業", "ベンダー", None, None, 0, "未着手", None, None],
        [ids["1-1"], "1-2", *ROWS[1][1:]],
        [ids["1-2"], "1-3", *ROWS[2][1:7], "1-2", None],
        [ids["2"], *ROWS[3]],
    ]
    response = upload(client, world, "vendor_x", sheet(renumbered, header))
    assert response.status_code == 201, response.text
    stored = items(client, world)
    assert stored["1-2"]["id"] == ids["1-1"]
    assert stored["1-2"]["title"] == "移行計画書作成"
    assert stored["1-3"]["id"] == ids["1-2"]
    assert stored["1-3"]["predecessors"] == ["1-2"]
    assert stored["1-1"]["title"] == "新しい作業"


def test_bad_files_get_415_413_and_sheet_choice_422(
    client: TestClient, world: World, database_url: str
) -> None:
    xls = upload(
        client, world, "vendor_x", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), "old.xls"
    )
    assert xls.status_code == 415
    assert ".xlsx" in xls.json()["detail"]
    assert upload(client, world, "vendor_x", sheet(), "wbs.csv").status_code == 415

    two = workbook_bytes(("A", [HEADER, *ROWS]), ("B", [HEADER, *ROWS]))
    choice = upload(client, world, "vendor_x", two)
    assert choice.status_code == 422
    assert choice.json()["candidates"] == ["A", "B"]
    assert upload(client, world, "vendor_x", two, sheet="B").status_code == 201

    small = Settings(database_url=database_url, import_max_upload_mb=1, auth_failure_limit=1000)
    with TestClient(create_app(small)) as limited:
        big = upload(limited, world, "vendor_x", b"a" * (2 * 1024 * 1024), "big.csv")
    assert big.status_code == 413

    assert upload(client, world, "vendor_x", sheet(), mapping="not json").status_code == 422


def test_preview_shows_the_layout_and_a_mapping_fixes_detection(
    client: TestClient, world: World
) -> None:
    workbook, _ = build([["番", "やること", "誰"], ["1", "計画", "ベンダー"]])
    data = save(workbook)
    url = f"/api/v1/projects/{world.projects['a_x'].id}/imports/preview"
    response = client.post(
        url, headers=world.auth("town_a_read_only"), files={"file": ("odd.xlsx", data)}
    )
    assert response.status_code == 422
    mapping = json.dumps({"code": "A", "title": "やること", "responsibility": "C"})
    response = client.post(
        url,
        headers=world.auth("town_a_read_only"),
        files={"file": ("odd.xlsx", data)},
        data={"mapping": mapping},
    )
    assert response.status_code == 200, response.text
    assert response.json()["mapping"] == {"code": ["A"], "title": ["B"], "responsibility": ["C"]}
    assert response.json()["rows"][0]["values"]["responsibility"] == "vendor"
    applied = upload(client, world, "vendor_x", data, "odd.xlsx", mapping=mapping)
    assert applied.status_code == 201
    assert items(client, world)["1"]["title"] == "計画"


def test_parents_that_name_each_other_are_refused_and_nothing_is_written(
    client: TestClient, world: World, db: Session
) -> None:
    cyclic = "項番,作業項目,担当,親項番\nA,計画,ベンダー,B\nB,設計,ベンダー,A\nC,試験,ベンダー,\n"
    response = upload(client, world, "vendor_x", cyclic.encode(), name="wbs.csv")
    assert response.status_code == 422
    assert "cycle" in response.json()["detail"]
    assert db.scalar(select(func.count()).select_from(Item)) == 0


def test_an_end_before_its_start_is_named_where_the_end_is_written(
    client: TestClient, world: World, db: Session
) -> None:
    late = [row[:] for row in ROWS]
    late[1][3], late[1][4] = "R7.5.1", "4月下旬"  # 1-1 ends before it starts
    late[2][3], late[2][4] = "R7.4.21", "R7.4.1"
    url = f"/api/v1/projects/{world.projects['a_x'].id}/imports/preview"
    preview = client.post(
        url, headers=world.auth("vendor_x"), files={"file": ("w.xlsx", sheet(late))}
    )
    expected = [
        {"sheet": "WBS", "row": 5, "column": "E", "value": "4月下旬",
         "message": "planned end 2025-04-30 is before its start 2025-05-01"},
        {"sheet": "WBS", "row": 6, "column": "E", "value": "2025-04-01",
         "message": "planned end 2025-04-01 is before its start 2025-04-21"},
    ]  # fmt: skip
    assert [{**e, "mapping": None} for e in expected] == preview.json()["errors"]
    response = upload(client, world, "vendor_x", sheet(late))
    assert response.status_code == 422
    assert response.json()["sheet_errors"] == expected
    assert db.scalar(select(func.count()).select_from(Item)) == 0


def test_a_workbook_declaring_xml_entities_answers_415_in_plain_words(
    client: TestClient, world: World, db: Session
) -> None:
    def poison(xml: bytes) -> bytes:
        dtd = b'<!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        return dtd + xml.replace("移行計画".encode(), b"&x;", 1)

    response = upload(
        client, world, "vendor_x", rewritten(sheet(), "xl/worksheets/sheet1.xml", poison)
    )
    assert response.status_code == 415
    assert "is not a normal Excel workbook" in response.json()["detail"]
    assert db.scalar(select(func.count()).select_from(Item)) == 0


def test_a_code_no_item_may_have_is_refused_on_its_row(
    client: TestClient, world: World, db: Session
) -> None:
    hidden = [*ROWS, ["3-\u200d1", "見えない文字", "ベンダー", None, None, None, None, None, None]]
    response = upload(client, world, "vendor_x", sheet(hidden))
    assert response.status_code == 422
    problem = response.json()["sheet_errors"][0]
    assert (problem["row"], problem["column"]) == (8, "A")
    assert "cannot be a code" in problem["message"]
    assert db.scalar(select(func.count()).select_from(Item)) == 0
