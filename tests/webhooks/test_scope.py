"""What a subscription may see and whom it reaches: exactly its organisation's projects, its
filters, and only addresses this server may call."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.webhooks.worker import Worker
from tests.conftest import ItemFactory, World
from tests.webhooks.conftest import Subscribe, drain
from tests.webhooks.receivers import receiving


def csv_sheet(rows: list[tuple[str, str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["項番", "作業項目", "担当", "状況"])
    writer.writerows([code, f"作業 {code}", "ベンダー", status] for code, status, _ in rows)
    return buffer.getvalue().encode("utf-8-sig")


def test_an_import_of_1000_rows_reaches_a_status_subscriber_as_exactly_the_changed_items(
    client: TestClient, world: World, subscribe: Subscribe, worker: Worker
) -> None:
    url = f"/api/v1/projects/{world.projects['a_x'].id}/imports"
    codes = [str(number) for number in range(1, 1001)]
    first = client.post(
        url,
        headers=world.auth("vendor_x"),
        files={"file": ("wbs.csv", csv_sheet([(c, "未着手", "") for c in codes]))},
    )
    assert first.status_code == 201, first.text[:500]
    with receiving() as town, receiving() as vendor, receiving() as other_town:
        subscribe("town_a", target=town.url, event_types=["item.status_changed"])
        subscribe("vendor_x", target=vendor.url, event_types=["import.completed"])
        subscribe("town_b", target=other_town.url)
        changed = codes[::7]
        rows = [(c, "作業中" if c in changed else "未着手", "") for c in codes]
        second = client.post(
            url, headers=world.auth("vendor_x"), files={"file": ("wbs.csv", csv_sheet(rows))}
        )
        assert second.status_code == 201, second.text[:500]
        drain(worker)

        received = town.wait_for(len(changed))
        bodies = town.bodies()
        assert [b["data"]["item_code"] for b in bodies] == changed
        assert {b["type"] for b in bodies} == {"item.status_changed"}
        positions = [b["data"]["position"] for b in bodies]
        assert positions == sorted(positions)
        assert len({r.webhook_id for r in received}) == len(changed)
        assert {b["data"]["source"] for b in bodies} == {"import"}

        [completed] = vendor.bodies()
        assert completed["type"] == "import.completed"
        assert completed["data"]["counts"]["updated"] == len(changed)
        assert completed["data"]["file_name"] == "wbs.csv"
        # The import's cursor resumes the feed after its last event.
        after = client.get(
            f"/api/v1/changes?since={completed['data']['cursor']}", headers=world.auth("vendor_x")
        ).json()
        assert after["items"] == []
        assert other_town.received == []


def test_a_municipalitys_hook_never_carries_another_municipalitys_items(
    client: TestClient, world: World, make_item: ItemFactory, subscribe: Subscribe, worker: Worker
) -> None:
    with receiving() as town_a, receiving() as town_b, receiving() as vendor_y, receiving() as pmo:
        subscribe("town_a", target=town_a.url)
        subscribe("town_b", target=town_b.url)
        subscribe("vendor_y", target=vendor_y.url)
        subscribe("pmo", target=pmo.url)
        make_item(project="a_x", code="1")
        make_item(project="b_x", code="2")
        make_item(project="b_y", code="3")
        drain(worker)
        pmo.wait_for(3)
        assert [b["data"]["item_code"] for b in town_a.bodies()] == ["1"]
        assert [b["data"]["item_code"] for b in town_b.bodies()] == ["2", "3"]
        assert [b["data"]["item_code"] for b in vendor_y.bodies()] == ["3"]

    # Nor can its token reach the other's subscriptions, or point one at the other's project.
    theirs = subscribe("town_b", target="https://hooks.example.jp/b")
    for method, path in (
        ("GET", f"/api/v1/webhooks/{theirs['id']}"),
        ("PATCH", f"/api/v1/webhooks/{theirs['id']}"),
        ("DELETE", f"/api/v1/webhooks/{theirs['id']}"),
        ("GET", f"/api/v1/webhooks/{theirs['id']}/secret"),
        ("GET", f"/api/v1/webhooks/{theirs['id']}/deliveries"),
        ("POST", f"/api/v1/webhooks/{theirs['id']}/test"),
        ("POST", f"/api/v1/webhooks/{theirs['id']}/digest"),
    ):
        answer = client.request(method, path, headers=world.auth("town_a"), json={"enabled": False})
        assert answer.status_code == 404, (method, path, answer.text)
    listed = client.get("/api/v1/webhooks", headers=world.auth("town_a")).json()["items"]
    assert theirs["id"] not in [hook["id"] for hook in listed]
    foreign = client.post(
        "/api/v1/webhooks",
        headers=world.auth("town_a"),
        json={
            "name": "peek",
            "kind": "webhook",
            "target": "https://hooks.example.jp/a",
            "project_ids": [world.projects["b_x"].id],
        },
    )
    assert foreign.status_code == 422
    assert foreign.json()["errors"][0]["field"] == "project_ids"
    on_behalf = client.post(
        "/api/v1/webhooks",
        headers=world.auth("town_a"),
        json={"name": "x", "kind": "webhook", "target": "https://h.example.jp/",
              "organisation_id": world.orgs["town_b"].id},
    )  # fmt: skip
    assert on_behalf.status_code == 403
    # The PMO may set one up for a town; it then sees what the town sees.
    made = client.post(
        "/api/v1/webhooks",
        headers=world.auth("pmo"),
        json={"name": "for town", "kind": "email", "target": "joho@town-b.example.jp",
              "organisation_id": world.orgs["town_b"].id},
    )  # fmt: skip
    assert made.status_code == 201, made.text
    assert made.json()["organisation"]["code"] == "town-b"
    assert made.json()["event_types"] == ["digest.daily"]
    assert made.json()["target"] == "j…@town-b.example.jp"
    viewer = client.post(
        "/api/v1/webhooks",
        headers=world.auth("town_a_read_only"),
        json={"name": "x", "kind": "webhook", "target": "https://h.example.jp/"},
    )
    assert viewer.status_code == 403


def test_filters_choose_projects_fields_and_sides(
    client: TestClient, world: World, make_item: ItemFactory, subscribe: Subscribe, worker: Worker
) -> None:
    with receiving() as one_project, receiving() as planned_end, receiving() as ours:
        subscribe("vendor_x", target=one_project.url, project_ids=[world.projects["b_x"].id])
        subscribe("vendor_x", target=planned_end.url, fields=["planned_end"])
        subscribe("town_a", target=ours.url, responsibilities=["municipality"],
                  event_types=["item.updated"])  # fmt: skip
        make_item(project="a_x", code="1", responsibility="municipality")
        make_item(project="a_x", code="2", responsibility="vendor")
        make_item(project="b_x", code="3", planned_end="2027-03-31")
        base = f"/api/v1/projects/{world.projects['a_x'].id}/items"
        for code in ("1", "2"):
            client.patch(f"{base}/{code}", headers=world.auth("pmo"), json={"status": "done"})
        client.patch(f"{base}/2", headers=world.auth("pmo"), json={"planned_end": "2027-01-31"})
        drain(worker)
        assert [b["data"]["item_code"] for b in one_project.bodies()] == ["3"]
        # Created with a planned end (3), then changed (2): both changed the field.
        assert [(b["type"], b["data"]["item_code"]) for b in planned_end.bodies()] == [
            ("item.created", "3"),
            ("item.updated", "2"),
        ]
        # item.updated takes status changes too, typed as such; only the town's side.
        assert [(b["type"], b["data"]["item_code"]) for b in ours.bodies()] == [
            ("item.status_changed", "1")
        ]


def test_targets_must_be_https_and_public_unless_the_deployment_allows_otherwise(
    client: TestClient, world: World, settings: Settings, subscribe: Subscribe, worker: Worker
) -> None:
    strict = {"webhook_allow_http": False, "webhook_allow_private_addresses": False}
    client.app.state.settings = settings.model_copy(update=strict)  # type: ignore[attr-defined]
    for target, words in (
        ("http://hooks.example.jp/x", "https"),
        ("https://127.0.0.1/x", "loopback"),
        ("https://10.1.2.3/x", "private"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://[::1]/x", "loopback"),
        ("https://user:pass@hooks.example.jp/x", "credentials"),
        ("ftp://hooks.example.jp/x", "https"),
        ("not a url", "https"),
    ):
        refused = client.post(
            "/api/v1/webhooks",
            headers=world.auth("town_a"),
            json={"name": "x", "kind": "webhook", "target": target},
        )
        assert refused.status_code == 422, target
        assert words in refused.json()["detail"], (target, refused.json()["detail"])

    # A name that resolves to loopback passes the check of the text, and is refused when
    # it is resolved, at delivery: the receiver on loopback never hears of it.
    with receiving(host="127.0.0.1") as receiver:
        hostname_url = receiver.url.replace("127.0.0.1", "localhost")
        allowed_http = settings.model_copy(update={"webhook_allow_private_addresses": False})
        client.app.state.settings = allowed_http  # type: ignore[attr-defined]
        hook = subscribe("town_a", target=hostname_url)
        worker.settings = worker.sender.settings = allowed_http
        client.post(f"/api/v1/webhooks/{hook['id']}/test", headers=world.auth("town_a"))
        drain(worker)
        [delivery] = client.get(
            f"/api/v1/webhooks/{hook['id']}/deliveries", headers=world.auth("town_a")
        ).json()["items"]
        error = delivery["attempt_log"][0]["error"]
        assert error.startswith("refused: the host resolves to")
        assert "127.0.0.1" in error or "::1" in error
        assert receiver.received == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "email", "target": "not-an-address"}, "target"),
        ({"kind": "webhook", "target": "https://h.example.jp/", "fields": ["colour"]}, "fields"),
        ({"kind": "webhook", "target": "https://h.example.jp/", "digest_time": "25:00"},
         "digest_time"),
        ({"kind": "webhook", "target": "https://h.example.jp/", "event_types": ["item.moved"]},
         "event_types.0"),
        ({"kind": "fax", "target": "https://h.example.jp/"}, "kind"),
    ],
)  # fmt: skip
def test_a_bad_subscription_is_refused_naming_the_field(
    client: TestClient, world: World, body: dict[str, object], field: str
) -> None:
    answer = client.post(
        "/api/v1/webhooks", headers=world.auth("town_a"), json={"name": "x", **body}
    )
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert field in [error["field"] for error in answer.json()["errors"]]
