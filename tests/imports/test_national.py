"""Importing the national step and business: set where the sheet says them, kept where it does
not, and the vendor's like every planning field."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import ItemFactory, World
from tests.importers.sheets import workbook_bytes
from tests.imports.test_router import items, upload

NATIONAL = [
    ["大項目", "項番", "作業項目", "担当"],
    ["① 推進体制の立上げ", "①-1", "推進体制の検討", "共同"],
    [None, "①-2", "庁内への周知", "自治体"],
    ["② 現行システムの概要調査", "②-1", "現行システムの概要調査", "ベンダー"],
]


def test_a_national_sheet_sets_each_items_step_and_the_business_of_its_name(
    client: TestClient, world: World
) -> None:
    data = workbook_bytes(("住民記録 作業計画", NATIONAL))
    response = upload(client, world, "vendor_x", data)
    assert response.status_code == 201, response.text
    found = {code: (item["step"], item["business"]) for code, item in items(client, world).items()}
    assert found == {
        "1": (None, "住民記録"),
        "1-1": ("1-1", "住民記録"),
        "1-2": ("1-2", "住民記録"),
        "2": (None, "住民記録"),
        "2-1": ("2-1", "住民記録"),
    }
    again = upload(client, world, "vendor_x", data)
    assert again.status_code == 201, again.text
    assert again.json()["counts"]["unchanged"] == again.json()["counts"]["rows"] == 5


def test_a_sheet_that_says_no_step_keeps_the_steps_the_items_have(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    make_item(code="1", title="計画", step="4-2", business="介護保険")
    plain = workbook_bytes(
        ("WBS", [["項番", "作業項目", "担当"], ["1", "計画書の作成", "ベンダー"]])
    )
    response = upload(client, world, "vendor_x", plain)
    assert response.status_code == 201, response.text
    item = items(client, world)["1"]
    assert (item["title"], item["step"], item["business"]) == ("計画書の作成", "4-2", "介護保険")


def test_a_municipalitys_sheet_never_changes_the_vendors_step_or_business(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    make_item(
        code="1", title="計画", responsibility="municipality", step="4-2", business="介護保険"
    )
    sheet = workbook_bytes(
        (
            "WBS",
            [
                ["項番", "手順番号", "作業項目", "業務", "状況"],
                ["1", "4-1", "計画", "国保", "完了"],
            ],
        )
    )
    response = upload(client, world, "town_a", sheet)
    assert response.status_code == 201, response.text
    conflicts = {c["field"]: (c["current"], c["sheet"]) for c in response.json()["conflicts"]}
    assert conflicts == {"step": ("4-2", "4-1"), "business": ("介護保険", "国民健康保険")}
    item = items(client, world)["1"]
    assert (item["status"], item["step"], item["business"]) == ("done", "4-2", "介護保険")
