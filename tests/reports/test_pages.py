"""The reports by pages (JSON) and whole (CSV, XLSX), however many rows they hold."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Table
from sqlalchemy.orm import Session

from service.db import insert_rows
from service.items.codes import code_columns
from service.items.models import Item, Responsibility, Status
from tests.conftest import World

AS_OF = date(2026, 4, 10)
NOW = datetime(2026, 4, 1, tzinfo=UTC)


def seed_late(db: Session, world: World, counts: dict[str, int]) -> None:
    """Late items in these projects: planned ends over a few days, so that many rows share
    their day (and their project), and every fifth item closed (never overdue)."""
    rows = []
    for name, count in counts.items():
        for n in range(count):
            rows.append(
                {
                    **code_columns(f"{n // 100 + 1}-{n % 100 + 1}"),
                    "project_id": world.projects[name].id,
                    "parent_id": None,
                    "title": f"作業 {n}",
                    "responsibility": Responsibility.municipality,
                    "status": Status.done if n % 5 == 4 else Status.in_progress,
                    "planned_end": AS_OF - timedelta(days=1 + n % 7),
                    "progress": 0,
                    "version": 1,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            )
    insert_rows(db, cast(Table, Item.__table__), rows)
    db.commit()


def get(client: TestClient, world: World, who: str, url: str) -> Any:
    response = client.get(url, headers=world.auth(who))
    assert response.status_code == 200, response.text
    return response


def walk(client: TestClient, world: World, who: str, url: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    cursor = ""
    for _ in range(1000):
        response = get(client, world, who, f"{url}{cursor}")
        body = response.json()
        rows += body["rows"]
        assert body["truncated"] is (body["next_cursor"] is not None)
        if body["next_cursor"] is None:
            assert "Link" not in response.headers
            return rows
        assert f"cursor={body['next_cursor']}" in response.headers["Link"]
        cursor = f"&cursor={body['next_cursor']}"
    raise AssertionError("the report never ended")


def key(row: dict[str, Any]) -> tuple[int, str]:
    return row["project"]["id"], row["code"]


def test_paging_through_the_overdue_report_gives_the_whole_report_once(
    client: TestClient, db: Session, world: World
) -> None:
    seed_late(db, world, {"a_x": 230, "b_x": 120, "b_y": 45})
    url = f"/api/v1/reports/overdue?as_of={AS_OF}"
    whole = get(client, world, "pmo", f"{url}&limit=10000").json()
    assert whole["total"] == len(whole["rows"]) == (230 + 120 + 45) * 4 // 5
    assert whole["next_cursor"] is None
    assert whole["truncated"] is False
    pages = walk(client, world, "pmo", f"{url}&limit=7")
    assert pages == whole["rows"]
    assert len({key(row) for row in pages}) == len(pages)
    # Most overdue first, throughout.
    ends = [row["planned_end"] for row in pages]
    assert ends == sorted(ends)
    # Each page tells the whole report's size.
    first = get(client, world, "pmo", f"{url}&limit=7").json()
    assert first["total"] == whole["total"]
    assert len(first["rows"]) == 7


def test_a_municipality_pages_through_its_own_late_items_only(
    client: TestClient, db: Session, world: World
) -> None:
    seed_late(db, world, {"a_x": 60, "b_x": 60, "b_y": 60})
    url = f"/api/v1/reports/overdue?as_of={AS_OF}&limit=9"
    town_b = walk(client, world, "town_b", url)
    assert {row["municipality"]["code"] for row in town_b} == {"town-b"}
    assert len(town_b) == 2 * 60 * 4 // 5
    project = walk(
        client,
        world,
        "town_b",
        f"/api/v1/projects/{world.projects['b_y'].id}/reports/overdue?as_of={AS_OF}&limit=11",
    )
    assert {row["project"]["id"] for row in project} == {world.projects["b_y"].id}
    assert len(project) == 48
    # Another organisation's project is not found, whatever the cursor.
    other = client.get(
        f"/api/v1/projects/{world.projects['a_x'].id}/reports/overdue?as_of={AS_OF}",
        headers=world.auth("town_b"),
    )
    assert other.status_code == 404


def test_the_csv_holds_every_row_past_ten_thousand(
    client: TestClient, db: Session, world: World
) -> None:
    seed_late(db, world, {"a_x": 13_000})
    response = get(client, world, "town_a", f"/api/v1/reports/overdue?as_of={AS_OF}&format=csv")
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert response.content.count(b"\xef\xbb\xbf") == 1  # one BOM, however many pages
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][3] == "項番"
    body = rows[1:]
    assert len(body) == 13_000 * 4 // 5 == 10_400
    assert len({row[3] for row in body}) == len(body)
    json_total = get(client, world, "town_a", f"/api/v1/reports/overdue?as_of={AS_OF}").json()
    assert json_total["total"] == len(body)


def test_the_xlsx_holds_every_row_over_several_pages(
    client: TestClient, db: Session, world: World
) -> None:
    seed_late(db, world, {"a_x": 1500, "b_x": 200})
    response = get(
        client, world, "pmo", f"/api/v1/reports/overdue?as_of={AS_OF}&format=xlsx&lang=en"
    )
    sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][3] == "Code"
    assert len(values) - 1 == 1700 * 4 // 5
    whole = get(client, world, "pmo", f"/api/v1/reports/overdue?as_of={AS_OF}&limit=10000")
    assert [(r[0], r[3]) for r in values[1:]] == [
        (r["project"]["name"], r["code"]) for r in whole.json()["rows"]
    ]


def test_downloads_start_after_a_cursor_and_stop_at_a_limit(
    client: TestClient, db: Session, world: World
) -> None:
    seed_late(db, world, {"a_x": 50})
    url = f"/api/v1/reports/overdue?as_of={AS_OF}"
    first = get(client, world, "town_a", f"{url}&limit=15").json()
    rest = get(client, world, "town_a", f"{url}&format=csv&cursor={first['next_cursor']}").content
    rest_codes = [row[3] for row in csv.reader(io.StringIO(rest.decode("utf-8-sig")))][1:]
    whole = get(client, world, "town_a", f"{url}&limit=1000").json()["rows"]
    assert rest_codes == [row["code"] for row in whole[15:]]
    limited = get(client, world, "town_a", f"{url}&format=csv&limit=12").content
    assert len(list(csv.reader(io.StringIO(limited.decode("utf-8-sig"))))) == 1 + 12


@pytest.mark.parametrize("fmt", ["json", "csv", "xlsx"])
def test_a_cursor_the_report_never_handed_out_is_refused_before_any_row(
    client: TestClient, world: World, fmt: str
) -> None:
    for cursor in ("abc", "1.2.3", "739706.1.zz.3"):
        response = client.get(
            f"/api/v1/reports/overdue?as_of={AS_OF}&format={fmt}&cursor={cursor}",
            headers=world.auth("pmo"),
        )
        assert response.status_code == 422, (cursor, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    # Any cursor the pattern admits is a place in the order: past the end, an empty page.
    response = client.get(
        f"/api/v1/reports/overdue?as_of={AS_OF}&format={fmt}&cursor=3652059.1.ff.1",
        headers=world.auth("pmo"),
    )
    assert response.status_code == 200, response.text


def test_the_progress_report_pages_its_projects_with_the_totals_on_every_page(
    client: TestClient, db: Session, world: World
) -> None:
    seed_late(db, world, {"a_x": 10, "b_x": 20, "b_y": 30})
    url = f"/api/v1/reports/progress?as_of={AS_OF}"
    whole = get(client, world, "pmo", url).json()
    assert whole["next_cursor"] is None
    assert len(whole["projects"]) == 3
    seen: list[dict[str, Any]] = []
    cursor = ""
    for _ in range(10):
        response = get(client, world, "pmo", f"{url}&limit=2{cursor}")
        page = response.json()
        assert page["overall"] == whole["overall"]
        assert page["municipalities"] == whole["municipalities"]
        seen += page["projects"]
        if page["next_cursor"] is None:
            break
        assert 'rel="next"' in response.headers["Link"]
        cursor = f"&cursor={page['next_cursor']}"
    assert seen == whole["projects"]
    # A download holds every project whatever the page asked.
    rows = get(client, world, "pmo", f"{url}&limit=1&format=csv").content.decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(rows)))) == 1 + 3
