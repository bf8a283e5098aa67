"""Chat receivers shaped like Slack's, Teams Workflows' and LINE WORKS' incoming webhooks
check the body they get, as those services would before posting it."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from service.webhooks.worker import Worker
from tests.conftest import ItemFactory, World
from tests.webhooks.conftest import Subscribe, drain
from tests.webhooks.receivers import receiving

SLACK_BLOCKS = {"header", "section", "actions", "context", "divider"}


def check_slack(body: dict[str, Any]) -> None:
    """What Slack's incoming webhooks accept: `text` (notification, fallback) and Block Kit."""
    assert set(body) <= {"text", "blocks"}
    assert isinstance(body["text"], str) and 0 < len(body["text"]) <= 3000  # noqa: PT018
    assert 1 <= len(body["blocks"]) <= 50
    for block in body["blocks"]:
        assert block["type"] in SLACK_BLOCKS
        if block["type"] == "header":
            assert block["text"]["type"] == "plain_text"
            assert len(block["text"]["text"]) <= 150
        if block["type"] == "section":
            assert block["text"]["type"] == "mrkdwn"
            assert len(block["text"]["text"]) <= 3000
        if block["type"] == "actions":
            for element in block["elements"]:
                assert element["type"] == "button"
                assert element["url"].startswith("https://")


def check_teams(body: dict[str, Any]) -> dict[str, Any]:
    """A Workflows "post to a channel when a webhook request is received" body: a message with
    one Adaptive Card attachment, card version 1.4 or later."""
    assert body["type"] == "message"
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    major, minor = map(int, card["version"].split("."))
    assert (major, minor) >= (1, 4)
    assert card["body"]
    for element in card["body"]:
        assert element["type"] == "TextBlock"
        assert isinstance(element["text"], str)
    for action in card["actions"]:
        assert action["type"] == "Action.OpenUrl"
        assert action["url"].startswith("https://")
    return dict(card)


def test_slack_teams_and_line_works_each_get_their_own_body(
    client: TestClient, world: World, make_item: ItemFactory, subscribe: Subscribe, worker: Worker
) -> None:
    with receiving() as slack, receiving() as teams, receiving() as line_works:
        subscribe("town_a", kind="slack", target=slack.url)
        subscribe("town_a", kind="teams", target=teams.url, language="en")
        subscribe("town_a", kind="line_works", target=line_works.url)
        make_item(code="3")
        make_item(code="3-6", title="現行データ <抽出> & 確認", responsibility="municipality")
        url = f"/api/v1/projects/{world.projects['a_x'].id}/items/3-6"
        client.patch(url, headers=world.auth("town_a"), json={"status": "in_progress"})
        drain(worker)

        _, created, changed = slack.bodies()
        for body in (created, changed):
            check_slack(body)
        title = "状況が変わりました: 3-6 現行データ <抽出> & 確認: 未着手 → 作業中"
        assert changed["blocks"][0]["text"]["text"] == title
        # In mrkdwn, <, > and & are escaped, or Slack reads them as links and mentions.
        assert changed["text"].startswith(
            title.replace("<", "&lt;").replace(">", "&gt;").replace(" & ", " &amp; ")
        )
        assert "状況: 未着手 → 作業中" in changed["blocks"][2]["text"]["text"]
        button = changed["blocks"][-1]["elements"][0]
        assert (
            button["url"] == f"https://wbs.example.jp/projects/{world.projects['a_x'].id}/items/3-6"
        )
        assert all(r.headers.get("webhook-signature") is None for r in slack.received)

        cards = [check_teams(body) for body in teams.bodies()]
        assert cards[2]["body"][0]["text"] == (
            "Status changed: 3-6 現行データ <抽出> & 確認: Not started → In progress"
        )

        [_, _, message] = line_works.bodies()
        assert set(message) == {"title", "body"}
        assert message["title"].startswith("状況が変わりました")
        assert "状況: 未着手 → 作業中" in message["body"]["text"]
        assert len(message["body"]["text"]) <= 2000


def test_a_test_message_and_redeliveries_carry_the_same_webhook_id(
    client: TestClient, world: World, make_item: ItemFactory, subscribe: Subscribe, worker: Worker
) -> None:
    with receiving() as receiver:
        hook = subscribe("vendor_x", target=receiver.url)
        queued = client.post(f"/api/v1/webhooks/{hook['id']}/test", headers=world.auth("vendor_x"))
        assert queued.status_code == 202, queued.text
        make_item(code="1")
        make_item(code="2")
        drain(worker)
        first = receiver.wait_for(3)
        assert receiver.bodies()[0]["type"] == "webhook.test"

        base = f"/api/v1/webhooks/{hook['id']}"
        deliveries = client.get(f"{base}/deliveries", headers=world.auth("vendor_x")).json()[
            "items"
        ]
        one = deliveries[1]  # newest first: item 1's
        again = client.post(
            f"{base}/deliveries/{one['id']}/redeliver", headers=world.auth("vendor_x")
        )
        assert again.status_code == 202, again.text
        assert again.json()["redelivery_of"] == one["id"]
        ranged = client.post(
            f"{base}/redeliver",
            headers=world.auth("vendor_x"),
            json={"since": "2000-01-01T00:00:00", "only_failed": False},
        )
        assert ranged.json() == {"queued": 3, "truncated": False}
        failed_only = client.post(
            f"{base}/redeliver", headers=world.auth("vendor_x"), json={"since": "2000-01-01"}
        )
        assert failed_only.status_code == 422  # a day is not an instant
        drain(worker)
        received = receiver.wait_for(7)
        assert received[3].webhook_id == one["message_id"]
        assert [r.webhook_id for r in received[4:]] == [r.webhook_id for r in first]
        assert [r.body for r in received[4:]] == [r.body for r in first]


def test_a_range_out_of_the_calendar_is_refused_by_name(
    client: TestClient, world: World, subscribe: Subscribe
) -> None:
    hook = subscribe("vendor_x", target="https://hooks.example.jp/wbs")
    answer = client.post(
        f"/api/v1/webhooks/{hook['id']}/redeliver",
        headers=world.auth("vendor_x"),
        json={"since": "0001-01-01T00:00:00"},
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "since"
