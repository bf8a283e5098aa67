"""The flows people rely on, in Chromium, with JavaScript on and off."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.items.models import Item, Status
from tests.conftest import World
from tests.importers.sheets import workbook_bytes
from tests.web.conftest import Plan, VisitFactory

JS = pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])


@JS
def test_a_town_sees_its_late_item_and_what_it_holds_up_then_marks_it_done(
    visit: VisitFactory, world: World, plan: Plan, db: Session, javascript: bool
) -> None:
    browser = visit(javascript=javascript)
    page = browser.sign_in(world.tokens["town_a"])
    late = page.locator("#overdue-table tbody tr").filter(has_text="現行データ抽出依頼")
    expect(late).to_contain_text("期限超過（5日）")
    expect(late).to_contain_text("1-2 現行データ抽出")
    expect(late).to_contain_text("相手側が待っています")
    # The vendor's late item is what the other side owes the town.
    expect(page.locator("#theirs-table")).to_contain_text("移行リハーサル")

    late.get_by_role("button", name=re.compile("完了にする")).click()

    expect(page.locator("#flash")).to_contain_text("1-1 を完了にしました")
    expect(page.locator("#overdue-table")).to_have_count(0)
    expect(page.get_by_text("期限を過ぎた作業はありません。")).to_be_visible()
    if javascript:
        # htmx replaced the list in place and moved the focus to what happened.
        assert page.url == f"{browser.site}/"
        assert page.evaluate("document.activeElement.id") == "flash"
    else:
        assert page.url.endswith("/?done=1-1")
    item = db.scalar(select(Item).where(Item.code == "1-1"))
    assert item is not None
    db.refresh(item)
    assert (item.status, item.progress) == (Status.done, 100)
    assert item.actual_end is not None
    assert browser.foreign_requests() == []
    assert browser.console_errors == []


HEADER = ["項番", "作業項目", "担当", "開始予定日", "終了予定日", "状況"]


def sheet(*rows: list[object]) -> bytes:
    return workbook_bytes(("WBS", [["住民記録 WBS"], [], HEADER, *rows]))


@JS
def test_a_vendor_reads_the_errors_of_a_sheet_then_confirms_the_fixed_one(
    visit: VisitFactory, world: World, plan: Plan, db: Session, javascript: bool
) -> None:
    browser = visit(javascript=javascript)
    browser.sign_in(world.tokens["vendor_x"])
    page = browser.go(f"/projects/{plan.project_id}/upload")
    wrong = sheet(
        ["2", "テスト", "ベンダー", "R8.4.1", "R8.6.30", "未着手"],
        ["2-1", "受入テスト", "外注先", "R8.5.1", "R8.5.31", "未着手"],
    )
    upload = {"name": "WBS.xlsx", "mimeType": "application/octet-stream", "buffer": wrong}
    page.get_by_label("WBSのファイル").set_input_files(upload)
    page.get_by_role("button", name="変更内容を確認する").click()

    expect(page.get_by_role("alert")).to_contain_text("このファイルは取り込めません")
    problem = page.locator("#sheet-errors tbody tr")
    expect(problem).to_have_count(1)
    expect(problem.locator("td")).to_have_text(["WBS", "5", "C", "外注先", re.compile(".+")])

    fixed = sheet(
        ["2", "テスト", "ベンダー", "R8.4.1", "R8.6.30", "未着手"],
        ["2-1", "受入テスト", "自治体", "R8.5.1", "R8.5.31", "未着手"],
    )
    page.get_by_label("WBSのファイル").set_input_files({**upload, "buffer": fixed})
    page.get_by_role("button", name="変更内容を確認する").click()

    expect(page.get_by_role("heading", name="変更内容の確認")).to_be_visible()
    created = page.locator("#created tbody tr")
    expect(created).to_have_count(2)
    expect(created.nth(1)).to_contain_text("作業項目: （なし） → 受入テスト")
    assert db.scalar(select(Item).where(Item.code == "2-1")) is None  # nothing applied yet

    page.get_by_role("button", name="反映する").click()

    expect(page.locator("#flash")).to_contain_text("取り込みました")
    expect(page.locator("#flash")).to_contain_text("作成 2")
    db.expire_all()
    added = db.scalar(select(Item).where(Item.code == "2-1"))
    assert added is not None
    assert added.title == "受入テスト"
    assert browser.foreign_requests() == []


def test_another_towns_project_answers_404_like_the_api(
    visit: VisitFactory, world: World, plan: Plan
) -> None:
    browser = visit(javascript=False)
    browser.sign_in(world.tokens["town_b"])
    for path in (
        f"/projects/{plan.project_id}",
        f"/projects/{plan.project_id}/items/1-1",
        f"/projects/{plan.project_id}/gantt",
        f"/projects/{plan.project_id}/upload",
        f"/projects/{plan.project_id}/wbs.xlsx",
    ):
        response = browser.page.goto(browser.site + path)
        assert response is not None
        assert response.status == 404, path
        expect(browser.page.get_by_role("heading", level=1)).to_have_text("ページが見つかりません")
    # The project that is theirs opens.
    response = browser.page.goto(f"{browser.site}/projects/{world.projects['b_x'].id}")
    assert response is not None
    assert response.status == 200


def test_a_form_without_its_check_value_is_refused_with_a_page_that_says_why(
    visit: VisitFactory, world: World, plan: Plan, db: Session
) -> None:
    browser = visit()
    browser.sign_in(world.tokens["town_a"])
    target = f"{browser.site}/projects/{plan.project_id}/items/1-1/done"
    for form in ({"next": "/"}, {"next": "/", "csrf": "0" * 64}):
        # The browser's own cookies, a form the page did not make.
        response = browser.page.request.post(target, form=form, max_redirects=0)
        assert response.status == 403
        assert "フォームを受け付けられませんでした" in response.text()
    item = db.scalar(select(Item).where(Item.code == "1-1"))
    assert item is not None
    assert item.status is Status.in_progress


def test_when_the_server_refuses_a_one_click_change_the_page_says_why(
    visit: VisitFactory, world: World, plan: Plan
) -> None:
    """htmx would leave the page as it was; the form goes the plain way and shows the refusal."""
    browser = visit()
    page = browser.sign_in(world.tokens["town_a"])
    page.evaluate("document.querySelectorAll('input[name=csrf]').forEach(i => i.value = 'x')")
    page.locator("#overdue-table").get_by_role("button", name=re.compile("完了にする")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("この操作はできません")
    expect(page.get_by_role("alert")).to_contain_text("フォームを受け付けられませんでした")


@JS
def test_a_read_only_token_gets_pages_without_forms_that_would_fail(
    visit: VisitFactory, world: World, plan: Plan, javascript: bool
) -> None:
    browser = visit(javascript=javascript)
    page = browser.sign_in(world.tokens["town_a_read_only"])
    expect(page.get_by_text("閲覧専用")).to_be_visible()
    expect(page.locator("#overdue-table")).to_contain_text("現行データ抽出依頼")
    expect(page.get_by_role("button", name=re.compile("完了にする"))).to_have_count(0)
    page = browser.go(f"/projects/{plan.project_id}/items/1-1")
    expect(page.get_by_role("heading", name="進捗を更新する")).to_have_count(0)
    expect(page.get_by_role("link", name="シートのアップロード")).to_have_count(0)
    # Only signing out remains a form.
    assert page.locator("main form[method=post]").count() == 0
