"""Generic webhooks as a receiver written against the Standard Webhooks reference library
sees them: signed, in commit order, resumable from the change feed."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from service.webhooks.worker import Worker
from tests.conftest import ItemFactory, World
from tests.webhooks.conftest import Subscribe, drain, secret_of
from tests.webhooks.receivers import receiving


def test_every_write_arrives_signed_in_commit_order_with_the_feed_cursor(
    client: TestClient, world: World, make_item: ItemFactory, subscribe: Subscribe, worker: Worker
) -> None:
    with receiving() as receiver:
        hook = subscribe("town_a", target=receiver.url)
        assert hook["signed"] is True
        assert hook["target"].startswith("http://127.0.0.1:")
        assert "/hook" not in hook["target"]
        secret = secret_of(client, world, "town_a", hook["id"])
        assert secret.startswith("whsec_")

        make_item(code="1", responsibility="municipality", title="住民データ移行")
        url = f"/api/v1/projects/{world.projects['a_x'].id}/items/1"
        assert (
            client.patch(url, headers=world.auth("town_a"), json={"status": "done"}).status_code
            == 200
        )
        assert (
            client.patch(url, headers=world.auth("town_a"), json={"notes": "済"}).status_code == 200
        )
        bulk = client.post(
            f"/api/v1/projects/{world.projects['a_x'].id}/items/bulk",
            headers=world.auth("pmo"),
            json={"items": [{"code": "2", "title": "二", "responsibility": "vendor"}]},
        )
        assert bulk.status_code == 200, bulk.text
        assert client.delete(url, headers=world.auth("pmo")).status_code == 204
        drain(worker)

        received = receiver.wait_for(5)
        verifier = Webhook(secret)
        bodies = [verifier.verify(r.body, r.headers) for r in received]
        assert [b["type"] for b in bodies] == [
            "item.created", "item.status_changed", "item.updated", "item.created", "item.deleted",
        ]  # fmt: skip
        created = bodies[0]
        assert set(created) == {"type", "timestamp", "data"}
        assert created["data"]["project_name"] == "住民記録"
        assert created["data"]["item_title"] == "住民データ移行"
        assert created["data"]["actor"]["label"] == "pmo/test"
        status = bodies[1]["data"]
        assert {"field": "status", "old": "not_started", "new": "done"} in status["changes"]
        assert status["responsibility"] == "municipality"

        # The cursor of an event resumes the change feed right after it.
        feed = client.get(
            f"/api/v1/changes?since={bodies[1]['data']['cursor']}", headers=world.auth("town_a")
        ).json()
        assert [e["position"] for e in feed["items"]] == [b["data"]["position"] for b in bodies[2:]]
        assert len({r.webhook_id for r in received}) == 5

        # A tampered body or another secret does not verify.
        with pytest.raises(WebhookVerificationError):
            verifier.verify(received[0].body.replace(b"1", b"2"), received[0].headers)
        with pytest.raises(WebhookVerificationError):
            Webhook("whsec_" + "A" * 43 + "=").verify(received[0].body, received[0].headers)


def test_a_rotated_secret_signs_beside_the_new_one_until_the_overlap_ends(
    client: TestClient, world: World, make_item: ItemFactory, subscribe: Subscribe, worker: Worker
) -> None:
    with receiving() as receiver:
        hook = subscribe("vendor_x", target=receiver.url)
        old = secret_of(client, world, "vendor_x", hook["id"])
        rotated = client.post(
            f"/api/v1/webhooks/{hook['id']}/secret/rotate",
            headers=world.auth("vendor_x"),
            json={"overlap_hours": 24},
        )
        assert rotated.status_code == 200, rotated.text
        assert rotated.json()["previous_secret_expires_at"] is not None
        assert old not in rotated.text
        new = secret_of(client, world, "vendor_x", hook["id"])
        assert new != old

        make_item(code="1")
        drain(worker)
        [request] = receiver.wait_for(1)
        assert len(request.headers["webhook-signature"].split(" ")) == 2
        assert Webhook(old).verify(request.body, request.headers)["type"] == "item.created"
        assert Webhook(new).verify(request.body, request.headers)["type"] == "item.created"

        # Without overlap the old secret stops at once.
        client.post(
            f"/api/v1/webhooks/{hook['id']}/secret/rotate",
            headers=world.auth("vendor_x"),
            json={"overlap_hours": 0},
        )
        newest = secret_of(client, world, "vendor_x", hook["id"])
        make_item(code="2")
        drain(worker)
        second = receiver.wait_for(2)[1]
        assert len(second.headers["webhook-signature"].split(" ")) == 1
        Webhook(newest).verify(second.body, second.headers)
        with pytest.raises(WebhookVerificationError):
            Webhook(new).verify(second.body, second.headers)


def test_the_signing_secret_is_read_with_a_writing_token_only_and_never_cached(
    client: TestClient, world: World, subscribe: Subscribe
) -> None:
    hook = subscribe("town_a", target="https://hooks.example.jp/wbs?token=abc")
    viewer = client.get(
        f"/api/v1/webhooks/{hook['id']}/secret", headers=world.auth("town_a_read_only")
    )
    assert viewer.status_code == 403
    shown = client.get(f"/api/v1/webhooks/{hook['id']}/secret", headers=world.auth("town_a"))
    assert shown.headers["cache-control"] == "no-store"
    listed = client.get("/api/v1/webhooks", headers=world.auth("town_a")).text
    assert shown.json()["secret"] not in listed
    assert "token=abc" not in listed
    assert json.loads(listed)["items"][0]["target"] == "https://hooks.example.jp/…"
