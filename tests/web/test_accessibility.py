"""Every page against WCAG 2 A/AA with axe-core, loading nothing from elsewhere; a keyboard
walk through every control in order, each with a visible focus."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from tests.conftest import World
from tests.web.conftest import Plan, Visit, VisitFactory, axe_violations
from tests.web.test_flows import sheet


def checked(browser: Visit, path: str, status: int = 200) -> list[str]:
    """The problems of one page: axe's violations, requests elsewhere, script errors."""
    response = browser.page.goto(browser.site + path)
    assert response is not None
    assert response.status == status, path
    page = browser.page
    page.wait_for_load_state("networkidle")
    problems = [f"{path}: {violation}" for violation in axe_violations(page)]
    problems += [f"{path}: asked {url}" for url in browser.foreign_requests()]
    # The browser reports an error page's own status as an error; nothing else may be one.
    problems += [
        f"{path}: console {text}"
        for text in browser.console_errors
        if status == 200 or f"status of {status}" not in text
    ]
    browser.requested.clear()
    browser.console_errors.clear()
    return problems


def test_every_page_passes_axe_and_loads_only_from_the_service(
    visit: VisitFactory, world: World, plan: Plan, client: TestClient
) -> None:
    problems: list[str] = []
    anonymous = visit()
    problems += checked(anonymous, "/sign-in")
    problems += checked(anonymous, "/sign-in/link/" + "x" * 43)

    town = visit()
    town.sign_in(world.tokens["town_a"])
    project = f"/projects/{plan.project_id}"
    for path in (
        "/",
        project,
        f"{project}?overdue=yes&status=in_progress",
        f"{project}/items/1-1",
        f"{project}/gantt",
        f"{project}/upload",
        "/overview",
        "/changes",
        "/preferences",
    ):
        problems += checked(town, path)
    problems += checked(town, "/projects/999999", status=404)
    town.go("/language?lang=en&next=/")
    problems += checked(town, "/")

    vendor = visit()
    vendor.sign_in(world.tokens["vendor_x"])
    page = vendor.go(f"{project}/upload")
    upload = {"name": "WBS.xlsx", "mimeType": "application/octet-stream"}
    page.get_by_label("WBSのファイル").set_input_files(
        {**upload, "buffer": sheet(["2-1", "受入テスト", "外注先", None, None, None])}
    )
    page.get_by_role("button", name="変更内容を確認する").click()
    problems += [f"upload errors: {v}" for v in axe_violations(page)]
    page.get_by_label("WBSのファイル").set_input_files(
        {**upload, "buffer": sheet(["1-3", "移行リハーサル", "ベンダー", None, None, "完了"])}
    )
    page.get_by_role("button", name="変更内容を確認する").click()
    expect(page.get_by_role("heading", name="変更内容の確認")).to_be_visible()
    problems += [f"upload diff: {v}" for v in axe_violations(page)]

    pmo = visit()
    pmo.sign_in(world.tokens["pmo"])
    problems += checked(pmo, "/overview")
    assert problems == []


def test_the_api_docs_load_from_the_service_itself(visit: VisitFactory) -> None:
    browser = visit()
    page = browser.go("/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("wbs-sync")
    expect(page.get_by_text("/api/v1/sign-in-links").first).to_be_visible()
    assert browser.foreign_requests() == []


def focus_ring(page: Page) -> dict[str, str]:
    return page.evaluate(
        """() => {
            const style = getComputedStyle(document.activeElement);
            return {outline: style.outlineStyle + ' ' + style.outlineWidth,
                    shadow: style.boxShadow};
        }"""
    )


FOCUSABLE = (
    "a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), "
    "select:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex='-1'])"
)


@pytest.mark.parametrize("path", ["/", "/projects/{project}/items/1-1"])
def test_the_keyboard_reaches_every_control_in_order_with_a_visible_focus(
    visit: VisitFactory, world: World, plan: Plan, path: str
) -> None:
    browser = visit()
    browser.sign_in(world.tokens["town_a"])
    page = browser.go(path.format(project=plan.project_id))
    expected = page.eval_on_selector_all(
        FOCUSABLE,
        "nodes => nodes.filter(n => n.offsetParent !== null || n.classList.contains('skip'))"
        ".map(n => n.outerHTML.slice(0, 120))",
    )
    reached: list[str] = []
    # A date box takes a stop for each of its year, month and day: one control all the same.
    for _ in range(4 * len(expected)):
        page.keyboard.press("Tab")
        here = page.evaluate("document.activeElement.outerHTML.slice(0, 120)")
        ring = focus_ring(page)
        assert ring["outline"] != "none 0px" or ring["shadow"] != "none", here
        if reached[-1:] != [here]:
            reached.append(here)
        if here == expected[-1]:
            break
    assert reached == expected
    # The first stop is the skip link, and it leads to the page's content.
    page.reload()
    page.keyboard.press("Tab")
    expect(page.locator(".skip")).to_be_focused()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_the_gantt_chart_prints_on_a3_landscape_and_names_itself(
    visit: VisitFactory, world: World, plan: Plan
) -> None:
    browser = visit()
    browser.sign_in(world.tokens["town_a"])
    page = browser.go(f"/projects/{plan.project_id}/gantt")
    chart = page.locator("svg.gantt")
    expect(chart).to_have_attribute("role", "img")
    expect(chart.locator("title")).to_contain_text("ガントチャート")
    expect(chart.locator("desc")).to_contain_text("期限超過2件")
    expect(chart.get_by_text(re.compile("⚠期限超過"))).to_have_count(2)
    expect(chart.get_by_text("[自] 現行データ抽出依頼")).to_have_count(1)
    pdf = page.pdf(prefer_css_page_size=True)
    # A3 landscape is 420 × 297 mm: 1190.55 × 841.89 points.
    box = re.search(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)
    assert box is not None
    assert (round(float(box.group(1))), round(float(box.group(2)))) == (1191, 842)
