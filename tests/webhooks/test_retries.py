"""Retries as the owner of a failing receiver lives them: the same message again on the
schedule, in order, Retry-After honoured, and never a silent stop."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.webhooks.models import Delivery
from service.webhooks.worker import Worker
from tests.conftest import ItemFactory, World
from tests.webhooks.conftest import Clock, Subscribe, drain
from tests.webhooks.receivers import Mailbox, receiving


def log(client: TestClient, world: World, who: str, hook: int) -> list[dict[str, object]]:
    response = client.get(f"/api/v1/webhooks/{hook}/deliveries", headers=world.auth(who))
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def test_a_receiver_that_fails_then_recovers_gets_each_message_once_acknowledged_in_order(
    client: TestClient,
    world: World,
    make_item: ItemFactory,
    subscribe: Subscribe,
    worker: Worker,
    clock: Clock,
) -> None:
    with receiving() as receiver:
        receiver.script = [(500, {}, b"down"), (503, {}, b"still down")]
        hook = subscribe("vendor_x", target=receiver.url)
        make_item(code="1")
        make_item(code="2")
        drain(worker)
        # The first failed: the second waits behind it rather than overtaking.
        assert len(receiver.wait_for(1)) == 1
        [waiting, first] = log(client, world, "vendor_x", hook["id"])
        assert first["state"] == "pending"
        assert first["attempt_log"][0]["status_code"] == 500  # type: ignore[index]
        assert first["attempt_log"][0]["response_excerpt"] == "down"  # type: ignore[index]
        assert waiting["attempts"] == 0

        clock.advance(seconds=5)  # the schedule's second wait
        drain(worker)
        clock.advance(seconds=300)
        drain(worker)
        received = receiver.wait_for(4)
        assert [r.webhook_id for r in received[:3]] == [first["message_id"]] * 3
        assert received[3].webhook_id == waiting["message_id"]
        assert [b["data"]["item_code"] for b in receiver.bodies()] == ["1", "1", "1", "2"]
        detail = client.get(
            f"/api/v1/webhooks/{hook['id']}/deliveries/{first['id']}",
            headers=world.auth("vendor_x"),
        ).json()
        assert detail["state"] == "delivered"
        assert [a["status_code"] for a in detail["attempt_log"]] == [500, 503, 200]
        assert all(a["duration_ms"] is not None for a in detail["attempt_log"])

        # Acknowledged is final: running again sends nothing.
        clock.advance(days=1)
        drain(worker)
        assert len(receiver.received) == 4
        assert (
            client.get(f"/api/v1/webhooks/{hook['id']}", headers=world.auth("vendor_x")).json()[
                "failing_since"
            ]
            is None
        )


def test_retry_after_is_honoured_and_a_spent_schedule_gives_up_and_lets_the_next_one_go(
    client: TestClient,
    world: World,
    db: Session,
    make_item: ItemFactory,
    subscribe: Subscribe,
    worker: Worker,
    clock: Clock,
) -> None:
    with receiving() as receiver:
        receiver.default = (429, {"Retry-After": "120"}, b"")
        hook = subscribe("vendor_x", target=receiver.url)
        make_item(code="1")
        make_item(code="2")
        drain(worker)
        receiver.wait_for(1)
        first = db.scalars(select(Delivery).order_by(Delivery.id)).first()
        assert first is not None
        # The schedule says 5 s; the receiver asked for 120.
        attempted = first.next_attempt_at - timedelta(seconds=120)
        assert clock.now() - timedelta(seconds=5) < attempted <= clock.now()
        clock.advance(seconds=60)
        drain(worker)
        assert len(receiver.received) == 1
        clock.advance(seconds=60)
        drain(worker)
        assert len(receiver.received) == 2
        clock.advance(seconds=300)
        drain(worker)
        # Three attempts spent (the test schedule): the first gives up, the second goes.
        received = receiver.wait_for(4)
        assert received[2].webhook_id == received[0].webhook_id
        assert received[3].webhook_id != received[0].webhook_id
        states = [d["state"] for d in log(client, world, "vendor_x", hook["id"])]
        assert states == ["pending", "failed"]


def test_410_gone_disables_at_once_and_tells_the_owner_by_mail_and_on_its_other_hooks(
    client: TestClient,
    world: World,
    make_item: ItemFactory,
    subscribe: Subscribe,
    worker: Worker,
    clock: Clock,
    mailbox: Mailbox,
) -> None:
    with receiving() as gone, receiving() as other:
        gone.default = (410, {}, b"channel_is_archived")
        hook = subscribe(
            "vendor_x", target=gone.url, kind="slack", contact_email="owner@mirai.example.jp"
        )
        subscribe("vendor_x", target=other.url, event_types=["digest.daily"])
        make_item(code="1")
        drain(worker)
        assert len(gone.wait_for(1)) == 1
        shown = client.get(f"/api/v1/webhooks/{hook['id']}", headers=world.auth("vendor_x")).json()
        assert shown["enabled"] is False
        assert "410" in shown["disabled_reason"]
        [notice] = other.bodies()
        assert notice["type"] == "subscription.disabled"
        assert notice["data"]["subscription_id"] == hook["id"]
        [mail] = mailbox.wait_for(1)
        assert mail["To"] == "owner@mirai.example.jp"
        assert "通知先を停止しました" in mail["Subject"]
        assert "410" in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]

        # Disabled, nothing more goes to it; enabled again, it resumes with what waited.
        make_item(code="2")
        clock.advance(minutes=10)
        drain(worker)
        assert len(gone.received) == 1
        gone.default = (200, {}, b"ok")
        enabled = client.patch(
            f"/api/v1/webhooks/{hook['id']}", headers=world.auth("vendor_x"), json={"enabled": True}
        )
        assert enabled.json()["enabled"] is True
        drain(worker)
        texts = [body["text"] for body in gone.bodies()]
        assert len(texts) == 3
        assert "1" in texts[1]
        assert "2" in texts[2]


def test_days_of_only_failures_disable_the_subscription_and_say_so(
    client: TestClient,
    world: World,
    make_item: ItemFactory,
    subscribe: Subscribe,
    worker: Worker,
    clock: Clock,
) -> None:
    started: datetime = clock.now()
    with receiving() as receiver, receiving() as other:
        receiver.default = (500, {}, b"")
        hook = subscribe("town_b", target=receiver.url)
        subscribe("town_b", target=other.url, kind="teams", event_types=["digest.daily"])
        for day in range(6):
            make_item(project="b_x", code=str(day + 1))
            drain(worker)
            clock.advance(seconds=5)
            drain(worker)
            clock.advance(seconds=300)
            drain(worker)
            clock.advance(days=1)
        shown = client.get(f"/api/v1/webhooks/{hook['id']}", headers=world.auth("town_b")).json()
        assert shown["enabled"] is False
        assert shown["disabled_reason"] == "every delivery failed for 5 days"
        failing_since = datetime.fromisoformat(shown["failing_since"])
        assert started <= failing_since < started + timedelta(days=1)
        [card] = other.bodies()
        content = card["attachments"][0]["content"]
        assert "通知先を停止しました" in content["body"][0]["text"]
        # The deliveries that waited are kept, not dropped.
        assert any(d["state"] == "pending" for d in log(client, world, "town_b", hook["id"]))
