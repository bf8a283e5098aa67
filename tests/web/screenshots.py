"""Pictures of each page for the README: `make screenshots` writes docs/screenshots/*.png.

A real `wbs-sync serve` on a fresh SQLite database with the demo data, Debian's Chromium,
the demo town, vendor and PMO signed in as a person would, by their token.
"""

from __future__ import annotations

import io
import sys
import tempfile
from datetime import date
from pathlib import Path

import openpyxl
from playwright.sync_api import Page, sync_playwright
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from service import migrations
from service.demo import issue_demo_tokens, load_demo
from service.exports.service import export_workbook
from service.items.models import Item
from service.projects.models import Project
from service.sessions import create_session_factory
from tests.conftest import start_server, stop_server
from tests.web.chromium import launch, missing_reason

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 900}


def sign_in(page: Page, base: str, token: str) -> None:
    page.goto(f"{base}/sign-in")
    page.get_by_label("API トークン").fill(token)
    page.get_by_role("button", name="サインイン").click()


def shoot(page: Page, name: str) -> None:
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
    print(f"wrote {OUT / name}.png")


def edited_export(session: Session, project: Project) -> bytes:
    """The vendor's export with a renamed item and a moved deadline: a diff worth showing."""
    workbook = openpyxl.load_workbook(io.BytesIO(export_workbook(session, project, "ja")))
    sheet = workbook["WBS"]
    headers = {cell.value: cell.column for cell in sheet[1]}
    for row in sheet.iter_rows(min_row=2):
        code = row[headers["項番"] - 1].value
        if code == "5-5":
            row[headers["作業項目"] - 1].value = "不具合対応・再テスト"
        if code == "6-3":
            row[headers["終了予定日"] - 1].value = date(2027, 3, 31)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def main() -> int:
    reason = missing_reason()
    if reason:
        print(reason, file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/screenshots.sqlite3"
        engine = create_engine(url)
        with engine.begin() as connection:
            migrations.upgrade(connection)
        with create_session_factory(engine)() as session, session.begin():
            load_demo(session, date.today())
            tokens = issue_demo_tokens(session)
        with create_session_factory(engine)() as session:
            project = session.scalars(select(Project).order_by(Project.id)).first()
            assert project is not None
            sheet = edited_export(session, project)
            late = session.scalar(
                select(Item.code).where(
                    Item.project_id == project.id,
                    Item.planned_end < date.today(),
                    Item.status == "in_progress",
                )
            )
        engine.dispose()
        base, server = start_server(url, Path(folder))
        try:
            with sync_playwright() as playwright:
                browser = launch(playwright)
                page = browser.new_page(viewport=VIEWPORT, locale="ja-JP")
                page.goto(f"{base}/sign-in")
                shoot(page, "sign-in")
                sign_in(page, base, tokens["sakura-town"])
                shoot(page, "home")
                page.goto(f"{base}/projects/{project.id}")
                shoot(page, "project")
                page.goto(f"{base}/projects/{project.id}/items/{late}")
                page.get_by_label("進捗率").fill("80")
                page.get_by_label("備考").fill("住民課で確認中。12月第2週に完了予定")
                page.get_by_role("button", name="保存").click()
                shoot(page, "item")
                page.goto(f"{base}/projects/{project.id}/gantt")
                shoot(page, "gantt")
                page.context.clear_cookies()

                sign_in(page, base, tokens["mirai-sys"])
                page.goto(f"{base}/projects/{project.id}/upload")
                page.get_by_label("WBSのファイル").set_input_files(
                    {"name": "WBS.xlsx", "mimeType": "application/octet-stream", "buffer": sheet}
                )
                page.get_by_role("button", name="変更内容を確認する").click()
                shoot(page, "upload-diff")
                page.context.clear_cookies()

                sign_in(page, base, tokens["pmo"])
                shoot(page, "overview")
                browser.close()
        finally:
            stop_server(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
