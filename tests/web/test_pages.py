"""The pages' rules, through the TestClient: the API's ownership and visibility, the upload
kept between its diff and its confirmation, and nothing loaded from elsewhere."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.config import Settings
from service.items.models import Item, Status
from service.main import create_app
from service.people.models import PendingUpload
from service.web.render import era_day, western_day
from tests.conftest import ItemFactory, World
from tests.web.forms import csrf_of, post_form, sign_in
from tests.web.test_flows import sheet

LATE = (date.today() - timedelta(days=3)).isoformat()


@pytest.fixture
def items(make_item: ItemFactory) -> None:
    make_item(code="1", title="計画", responsibility="joint")
    make_item(code="1-1", title="体制の確定", responsibility="municipality", planned_end=LATE)
    make_item(code="1-2", title="計画書作成", responsibility="vendor", planned_end=LATE)


def test_dates_are_written_as_people_write_them() -> None:
    assert western_day(date(2026, 3, 31)) == "2026年3月31日"
    assert era_day(date(2026, 3, 31)) == "令和8年3月31日"
    assert era_day(date(2019, 5, 1)) == "令和元年5月1日"
    assert era_day(date(2019, 4, 30)) == "平成31年4月30日"


@pytest.mark.usefixtures("items")
def test_a_person_chooses_english_and_era_dates(client: TestClient, world: World) -> None:
    sign_in(client, world.tokens["town_a"])
    project = f"/projects/{world.projects['a_x'].id}"
    assert 'lang="ja"' in client.get(project).text
    saved = post_form(client, "/preferences", "/preferences", lang="en", dates="era")
    assert saved.status_code == 303
    page = client.get(f"{project}/items/1-1").text
    assert 'lang="en"' in page
    assert "Overdue" in page
    # The operator's default is the western calendar; the person chose the era.
    assert re.search(r"令和\d+年\d+月\d+日", client.get("/language?lang=ja&next=/").text)


@pytest.mark.usefixtures("items")
def test_the_responsible_side_updates_its_item_and_history_names_the_person(
    client: TestClient, world: World, db: Session
) -> None:
    sign_in(client, world.tokens["town_a"])
    item = f"/projects/{world.projects['a_x'].id}/items/1-1"
    page = client.get(item)
    version = re.search(r'name="version" value="(\d+)"', page.text)
    assert version
    answer = post_form(
        client,
        item,
        item,
        version=version.group(1),
        status="in_progress",
        progress="50",
        actual_start="2026-01-05",
        actual_end="",
        assignee="住民課",
        notes="確認中",
    )
    assert answer.status_code == 303
    history = client.get(item).text
    assert "保存しました" not in history  # only after the redirect's query
    assert "さくら町（test）" in history
    assert "進捗率: 0% → 50%" in history
    stored = db.scalar(select(Item).where(Item.code == "1-1"))
    assert stored is not None
    assert (stored.status, stored.progress, stored.assignee) == (Status.in_progress, 50, "住民課")


@pytest.mark.usefixtures("items")
def test_a_field_the_side_does_not_own_is_refused_in_words(
    client: TestClient, world: World, db: Session
) -> None:
    sign_in(client, world.tokens["town_a"])
    item = f"/projects/{world.projects['a_x'].id}/items/1-2"
    page = client.get(item)
    # The vendor's progress is not the town's: the page offers notes only.
    assert 'name="status"' not in page.text
    assert "ベンダーが更新します" in page.text
    version = re.search(r'name="version" value="(\d+)"', page.text)
    assert version
    refused = post_form(client, item, item, version=version.group(1), status="done")
    assert refused.status_code == 403
    assert "状況 はベンダーが更新する項目のため、変更できません。" in refused.text
    stored = db.scalar(select(Item).where(Item.code == "1-2"))
    assert stored is not None
    assert stored.status is Status.not_started


@pytest.mark.usefixtures("items")
def test_bad_values_and_a_stale_page_are_explained_and_nothing_is_saved(
    client: TestClient, world: World, db: Session
) -> None:
    sign_in(client, world.tokens["town_a"])
    item = f"/projects/{world.projects['a_x'].id}/items/1-1"
    bad = post_form(client, item, item, version="1", progress="150")
    assert bad.status_code == 422
    assert "100以下の数を入力してください" in bad.text
    assert 'aria-invalid="true"' in bad.text
    backwards = post_form(
        client, item, item, version="1", actual_start="2026-02-01", actual_end="2026-01-01"
    )
    assert backwards.status_code == 422
    assert "終了日が開始日より前" in backwards.text
    stale = post_form(client, item, item, version="1", progress="10")
    assert stale.status_code == 303
    again = post_form(client, item, item, version="1", progress="20")
    assert again.status_code == 409
    assert "ほかの人が更新しました" in again.text
    stored = db.scalar(select(Item).where(Item.code == "1-1"))
    assert stored is not None
    assert stored.progress == 10


@pytest.mark.usefixtures("items")
def test_a_read_only_person_cannot_post_a_change(client: TestClient, world: World) -> None:
    sign_in(client, world.tokens["town_a_read_only"])
    item = f"/projects/{world.projects['a_x'].id}/items/1-1"
    refused = post_form(client, "/", f"{item}/done")
    assert refused.status_code == 403
    assert "閲覧専用" in refused.text


PAGES = (
    "",
    "/items/1-1",
    "/gantt",
    "/gantt.svg",
    "/upload",
    "/wbs.xlsx",
    "/reports/overdue.csv",
    "/reports/progress.xlsx",
)


@pytest.mark.usefixtures("items")
@pytest.mark.parametrize("page", PAGES)
def test_every_page_of_another_towns_project_is_404(
    client: TestClient, world: World, page: str
) -> None:
    sign_in(client, world.tokens["town_b"])
    assert client.get(f"/projects/{world.projects['a_x'].id}{page}").status_code == 404
    sign_in(client, world.tokens["town_a"])
    assert client.get(f"/projects/{world.projects['a_x'].id}{page}").status_code == 200


_OUTSIDE = re.compile(r"""(?:src|href|action)\s*=\s*["']\s*(?:https?:)?//""", re.IGNORECASE)


@pytest.mark.usefixtures("items")
def test_no_page_names_anything_outside_the_service(client: TestClient, world: World) -> None:
    project = f"/projects/{world.projects['a_x'].id}"
    pages = ["/sign-in", "/docs"]
    sign_in(client, world.tokens["vendor_x"])
    for path in (
        *pages,
        "/",
        project,
        f"{project}/items/1-1",
        f"{project}/gantt",
        f"{project}/upload",
        "/overview",
        "/changes",
        "/preferences",
    ):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert not _OUTSIDE.search(answer.text), path
    docs = client.get("/docs").text
    assert "/static/vendor/swagger-ui-bundle.js" in docs
    assert client.get("/static/vendor/swagger-ui-bundle.js").status_code == 200
    assert client.get("/static/vendor/htmx.min.js").status_code == 200


@pytest.mark.usefixtures("items")
def test_an_uploaded_sheet_waits_in_the_database_for_its_confirmation(
    database_url: str, world: World, db: Session
) -> None:
    """The diff in one process, the confirmation in another: both see the same upload."""
    settings = Settings(database_url=database_url, auth_failure_limit=1000)
    upload = f"/projects/{world.projects['a_x'].id}/upload"
    with TestClient(create_app(settings)) as first, TestClient(create_app(settings)) as second:
        sign_in(first, world.tokens["vendor_x"])
        diff = first.post(
            upload,
            data={"csrf": csrf_of(first.get(upload))},
            files={"file": ("WBS.xlsx", sheet(["2", "テスト", "ベンダー", None, None, None]))},
        )
        assert diff.status_code == 200
        assert "変更内容の確認" in diff.text
        pending = db.scalars(select(PendingUpload)).one()
        assert pending.size == len(pending.content)
        assert db.scalar(select(func.count()).select_from(Item).where(Item.code == "2")) == 0
        second.cookies.update(first.cookies)
        confirmed = second.post(
            f"{upload}/{pending.id}/confirm",
            data={"csrf": csrf_of(diff)},
            follow_redirects=False,
        )
        assert confirmed.status_code == 303
    assert db.scalar(select(func.count()).select_from(Item).where(Item.code == "2")) == 1
    db.expire_all()
    assert db.scalars(select(PendingUpload)).all() == []


@pytest.mark.usefixtures("items")
def test_a_waiting_upload_is_its_uploaders_and_shows_the_new_diff_if_the_project_moved(
    client: TestClient, world: World, db: Session, make_item: ItemFactory
) -> None:
    upload = f"/projects/{world.projects['a_x'].id}/upload"
    sign_in(client, world.tokens["vendor_x"])
    diff = client.post(
        upload,
        data={"csrf": csrf_of(client.get(upload))},
        files={"file": ("WBS.xlsx", sheet(["2", "テスト", "ベンダー", None, None, None]))},
    )
    pending = db.scalars(select(PendingUpload)).one()
    make_item(code="3", title="追加")  # someone changes the project meanwhile

    other = TestClient(client.app)
    sign_in(other, world.tokens["pmo"])
    assert other.get(f"{upload}/{pending.id}").status_code == 404

    moved = client.post(f"{upload}/{pending.id}/confirm", data={"csrf": csrf_of(diff)})
    assert moved.status_code == 409
    assert "表示し直しました" in moved.text
    assert "シートにない項目" in moved.text  # item 3 is not in the sheet
    confirmed = client.post(
        f"{upload}/{pending.id}/confirm", data={"csrf": csrf_of(diff)}, follow_redirects=False
    )
    assert confirmed.status_code == 303


@pytest.mark.usefixtures("items")
def test_an_upload_beyond_the_import_cap_is_refused_and_nothing_waits(
    database_url: str, world: World, db: Session
) -> None:
    settings = Settings(database_url=database_url, import_max_upload_mb=1, auth_failure_limit=1000)
    upload = f"/projects/{world.projects['a_x'].id}/upload"
    with TestClient(create_app(settings)) as client:
        sign_in(client, world.tokens["vendor_x"])
        refused = client.post(
            upload,
            data={"csrf": csrf_of(client.get(upload))},
            files={"file": ("WBS.xlsx", b"x" * (1024 * 1024 + 1))},
        )
    assert refused.status_code == 413
    assert "1MiBを超えています" in refused.text
    assert db.scalars(select(PendingUpload)).all() == []


def test_a_newcomer_opening_the_root_is_sent_to_sign_in_not_a_json_404(
    client: TestClient,
) -> None:
    answer = client.get("/", headers={"Accept": "text/html"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert "サインイン" in answer.text
    missing = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert missing.status_code == 404
    assert "ページが見つかりません" in missing.text
    # Programs keep their problem details.
    api = client.get("/api/v1/no-such-thing", headers={"Accept": "text/html"})
    assert api.headers["content-type"] == "application/problem+json"


def test_the_overview_links_the_national_progress_layout_for_the_pmo_and_towns(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    make_item(code="1", step="①-1", status="done", business="住民記録")
    make_item("b_x", code="1", step="1-1", status="in_progress")
    sign_in(client, world.tokens["pmo"])
    overview = client.get("/overview")
    assert overview.status_code == 200
    assert 'href="/overview/national-progress.xlsx"' in overview.text
    assert 'href="/overview/national-progress.csv"' in overview.text
    workbook = client.get("/overview/national-progress.xlsx")
    assert workbook.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.content))["業務別ステップ別進捗一覧"]
    rows = [[cell.value for cell in row][:4] for row in sheet.iter_rows()]
    assert rows == [
        ["都道府県名", "市区町村名", "業務", "①-1"],
        [None, "さくら町", "住民記録", "完了済み"],
        [None, "みどり市", "住民記録", "作業中"],
    ]
    item = client.get(f"/projects/{world.projects['a_x'].id}/items/1").text
    assert "<dt>手順番号</dt><dd>①-1</dd>" in item
    assert "<dt>業務</dt><dd>住民記録</dd>" in item
    # A town's link gives its own rows only, as the API would.
    sign_in(client, world.tokens["town_a"])
    table = client.get("/overview/national-progress.csv")
    assert table.status_code == 200
    assert table.content.startswith(b"\xef\xbb\xbf")
    lines = table.content.decode("utf-8-sig").splitlines()
    assert [line.split(",")[1] for line in lines[1:]] == ["さくら町"]
