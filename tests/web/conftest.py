"""The pages in a real browser against a real `wbs-sync serve`.

One Chromium and one server for the whole run: each test opens its own browser context
(cookies, JavaScript on or off) and arranges its own data, which the `db` fixture empties
afterwards as for every other test.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.conftest import ItemFactory, World, start_server, stop_server
from tests.web.chromium import launch, missing_reason

WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    reason = missing_reason()
    if reason:
        # Loudly, never a skip: a run without the browser has not tested the pages.
        pytest.fail(reason, pytrace=False)
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = launch(playwright)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def site(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The server every page test talks to; the failed-sign-in limit has its own tests."""
    base, process = start_server(
        database_url, tmp_path_factory.mktemp("site"), WBS_AUTH_FAILURE_LIMIT="1000000"
    )
    yield base
    stop_server(process)


@dataclass
class Visit:
    """One person's browser: a page, every address it asked for, and what it printed."""

    page: Page
    site: str
    requested: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def go(self, path: str) -> Page:
        self.page.goto(self.site + path)
        return self.page

    def sign_in(self, token: str) -> Page:
        page = self.go("/sign-in")
        page.get_by_label("API トークン").fill(token)
        page.get_by_role("button", name="サインイン").click()
        page.wait_for_url(re.compile(rf"{re.escape(self.site)}/(overview)?$"))
        return page

    def foreign_requests(self) -> list[str]:
        return [url for url in self.requested if not url.startswith((self.site, "data:"))]


VisitFactory = Callable[..., Visit]


@pytest.fixture
def visit(browser: Browser, site: str) -> Iterator[VisitFactory]:
    contexts: list[BrowserContext] = []

    def open_visit(*, javascript: bool = True) -> Visit:
        context = browser.new_context(
            java_script_enabled=javascript, locale="ja-JP", viewport={"width": 1280, "height": 900}
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        opened = Visit(page, site)
        page.on("request", lambda request: opened.requested.append(request.url))
        page.on(
            "console",
            lambda message: (
                opened.console_errors.append(message.text) if message.type == "error" else None
            ),
        )
        return opened

    yield open_visit
    for context in contexts:
        context.close()


def axe_violations(page: Page) -> list[str]:
    """axe-core's WCAG 2 A/AA violations on the page, one line each."""
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
    return [
        f"{v['id']}: {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
    ]


@dataclass(frozen=True)
class Plan:
    """A town's project with one overdue municipal item holding up a vendor item."""

    project_id: int
    late_code: str
    blocked_code: str


@pytest.fixture
def plan(world: World, make_item: ItemFactory) -> Plan:
    today = date.today()
    make_item(code="1", title="データ移行", responsibility="joint")
    make_item(
        code="1-1",
        title="現行データ抽出依頼",
        responsibility="municipality",
        planned_start=(today - timedelta(days=20)).isoformat(),
        planned_end=(today - timedelta(days=5)).isoformat(),
        status="in_progress",
        progress=60,
        assignee="住民課",
    )
    make_item(
        code="1-2",
        title="現行データ抽出",
        responsibility="vendor",
        planned_start=(today + timedelta(days=1)).isoformat(),
        planned_end=(today + timedelta(days=10)).isoformat(),
        predecessors=["1-1"],
    )
    make_item(
        code="1-3",
        title="移行リハーサル",
        responsibility="vendor",
        planned_start=(today - timedelta(days=10)).isoformat(),
        planned_end=(today - timedelta(days=2)).isoformat(),
        status="in_progress",
    )
    return Plan(world.projects["a_x"].id, "1-1", "1-2")
