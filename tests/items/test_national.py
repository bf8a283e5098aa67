"""An item's national step and business, set through the API in the notations people write."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from service.national import STEPS, Business
from tests.conftest import ItemFactory, World


def items_url(world: World, project: str = "a_x") -> str:
    return f"/api/v1/projects/{world.projects[project].id}/items"


@pytest.mark.parametrize(
    "written", ["3-2", "③-2", "手順3-2", "３－２", "手順③－２", "ステップ3-2", "3−2"]
)
def test_a_step_in_any_notation_is_stored_as_major_dash_sub(
    client: TestClient, world: World, written: str
) -> None:
    response = client.post(
        items_url(world),
        headers=world.auth("vendor_x"),
        json={
            "code": "1",
            "title": "差異への対応方針の検討",
            "responsibility": "joint",
            "step": written,
            "business": "住民記録",
        },
    )
    assert response.status_code == 201, response.text
    assert (response.json()["step"], response.json()["business"]) == ("3-2", "住民記録")
    shown = client.get(f"{items_url(world)}/1", headers=world.auth("town_a")).json()
    assert (shown["step"], shown["business"]) == ("3-2", "住民記録")


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("step", "3-10", "③ has ③-1, ③-2"),
        ("step", "19-1", "its steps are ① to ⑱"),
        ("step", "③", "names a whole step"),
        ("step", "三の二", "not a step of the procedure"),
        ("step", 32, "a step is text"),
        # Sheets may write these; the API takes a step exactly as its schema states.
        ("step", " 3-2", "with nothing around it"),
        ("step", "3の2", "with nothing around it"),
        ("business", "住基", "住民記録"),
        ("business", "", "共通"),
    ],
)
def test_a_step_or_business_that_is_none_of_the_procedures_is_a_422_problem(
    client: TestClient, world: World, make_item: ItemFactory, field: str, value: object, says: str
) -> None:
    make_item(code="1")
    response = client.patch(
        f"{items_url(world)}/1", headers=world.auth("vendor_x"), json={field: value}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert [error["field"] for error in errors] == [field]
    assert says in errors[0]["message"]


def test_the_step_and_business_are_the_vendors_to_set_and_null_clears_them(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    make_item(code="1", responsibility="municipality")
    url = f"{items_url(world)}/1"
    refused = client.patch(url, headers=world.auth("town_a"), json={"step": "1-1"})
    assert refused.status_code == 403, refused.text
    set_ = client.patch(
        url, headers=world.auth("vendor_x"), json={"step": "①-1", "business": "介護保険"}
    )
    assert set_.status_code == 200, set_.text
    cleared = client.patch(
        url, headers=world.auth("vendor_x"), json={"step": None, "business": None}
    )
    assert (cleared.json()["step"], cleared.json()["business"]) == (None, None)


def test_items_are_listed_by_step_and_business(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    make_item(code="1", step="1-1", business="住民記録")
    make_item(code="2", step="1-2", business="住民記録")
    make_item(code="3", step="1-1", business="介護保険")
    make_item(code="4")

    def codes(query: str) -> list[str]:
        response = client.get(f"{items_url(world)}?{query}", headers=world.auth("town_a"))
        assert response.status_code == 200, response.text
        return [item["code"] for item in response.json()["items"]]

    assert codes("step=①-1") == ["1", "3"]
    assert codes("step=1-1&step=1-2&business=住民記録") == ["1", "2"]
    assert codes("business=介護保険&business=共通") == ["3"]
    bad = client.get(f"{items_url(world)}?step=1-10", headers=world.auth("town_a"))
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    assert "① has ①-1, ①-2, ①-3" in bad.text


def test_the_procedure_has_forty_steps_under_eighteen_and_twenty_one_businesses() -> None:
    assert [step.number for step in STEPS] == list(range(1, 41))
    assert len({step.code.split("-")[0] for step in STEPS}) == 18
    assert (STEPS[0].circled, STEPS[-1].circled) == ("①-1", "⑱-2")
    assert len(Business) == 21
    assert Business.kyotsu == "共通"


def test_a_bulk_push_sets_steps_and_businesses_in_any_notation(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    make_item(code="1", step="1-1", business="住民記録")
    response = client.post(
        f"{items_url(world)}/bulk",
        headers=world.auth("vendor_x"),
        json={
            "items": [
                {"code": "1", "step": "⑬-1", "business": "介護保険"},
                {"code": "2", "title": "運用テスト", "responsibility": "joint", "step": "手順13-2"},
            ]
        },
    )
    assert response.status_code == 200, response.text
    listed = client.get(items_url(world), headers=world.auth("town_a")).json()["items"]
    assert [(i["code"], i["step"], i["business"]) for i in listed] == [
        ("1", "13-1", "介護保険"),
        ("2", "13-2", None),
    ]
    refused = client.post(
        f"{items_url(world)}/bulk",
        headers=world.auth("vendor_x"),
        json={"items": [{"code": "1", "step": "⑬-10"}]},
    )
    assert refused.status_code == 422
    assert "⑬ has ⑬-1, ⑬-2, ⑬-3" in refused.text
