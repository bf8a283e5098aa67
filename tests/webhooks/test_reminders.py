"""Reminders as staff receive them: one digest a day at the chosen local time, saying what is
late on their side, what is due, and what the other side owes them; `item.overdue` once."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.config import Settings
from service.webhooks.models import Delivery, OverdueNotice
from service.webhooks.worker import Worker
from tests.conftest import ItemFactory, World
from tests.webhooks.conftest import Clock, Subscribe, drain
from tests.webhooks.receivers import Mailbox, receiving


def local_today(settings: Settings, clock: Clock) -> date:
    return clock.now().astimezone(settings.zone).date()


def move_to(clock: Clock, settings: Settings, day: date, hour: int, minute: int = 0) -> None:
    """Move the clock to a local time of a day (WBS_TIMEZONE)."""
    target = datetime.combine(day, time(hour, minute), settings.zone)
    clock.advance(seconds=(target - clock.now()).total_seconds())


def test_the_daily_digest_comes_once_at_its_time_by_mail_with_each_side_sorted(
    client: TestClient,
    world: World,
    db: Session,
    make_item: ItemFactory,
    subscribe: Subscribe,
    worker: Worker,
    clock: Clock,
    settings: Settings,
    mailbox: Mailbox,
) -> None:
    today = local_today(settings, clock)
    late, soon = (today - timedelta(days=3)).isoformat(), (today + timedelta(days=2)).isoformat()
    make_item(code="1", title="データ抽出依頼", responsibility="municipality", planned_end=late)
    make_item(code="2", title="移行リハーサル", responsibility="joint", planned_end=soon)
    make_item(code="3", title="帳票設計", responsibility="vendor", planned_end=late)
    make_item(code="4", title="帳票確認", responsibility="municipality", predecessors=["3"])
    make_item(code="5", title="終わった作業", responsibility="municipality", planned_end=late,
              status="done")  # fmt: skip
    subscribe("town_a", kind="email", target="joho@town-a.example.jp", digest_time="08:30")
    move_to(clock, settings, today, 8, 0)
    drain(worker)
    assert mailbox.mails == []

    move_to(clock, settings, today, 8, 30)
    drain(worker)
    [mail] = mailbox.wait_for(1)
    assert mail["Subject"].startswith("[wbs-sync] 本日の期限超過・期限間近")
    assert "さくら町" in mail["Subject"]
    assert mail["From"] == "wbs-sync@example.jp"
    assert mail["To"] == "joho@town-a.example.jp"
    assert mail.is_multipart()
    assert [part.get_content_type() for part in mail.iter_parts()] == ["text/plain", "text/html"]
    assert list(mail.iter_attachments()) == []
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "期限超過 1件・期限間近 1件・相手側待ち 1件" in text
    for words in ("データ抽出依頼（3日超過）", "移行リハーサル", "帳票設計", "後続: 4 帳票確認"):
        assert words in text, words
        assert words in html, words
    assert "終わった作業" not in text
    assert f"https://wbs.example.jp/projects/{world.projects['a_x'].id}/items/1" in text
    assert 'href="https://wbs.example.jp/' in html

    # Once a day: later rounds the same day send nothing more.
    clock.advance(hours=3)
    drain(worker)
    assert len(mailbox.mails) == 1


def test_nothing_to_say_sends_nothing_and_the_digest_can_be_seen_now(
    client: TestClient,
    world: World,
    db: Session,
    make_item: ItemFactory,
    subscribe: Subscribe,
    worker: Worker,
    clock: Clock,
    settings: Settings,
) -> None:
    with receiving() as receiver:
        hook = subscribe("town_b", kind="slack", target=receiver.url, event_types=["digest.daily"],
                         digest_time="00:00")  # fmt: skip
        drain(worker)
        now = client.post(f"/api/v1/webhooks/{hook['id']}/digest", headers=world.auth("town_b"))
        assert now.status_code == 200, now.text
        assert now.json()["sent"] is False
        assert now.json()["digest"]["counts"] == {
            "overdue": 0,
            "due_soon": 0,
            "waiting_on_others": 0,
        }
        assert db.scalar(select(func.count()).select_from(Delivery)) == 0

        late = (local_today(settings, clock) - timedelta(days=1)).isoformat()
        make_item(project="b_x", code="1", responsibility="municipality", planned_end=late)
        now = client.post(f"/api/v1/webhooks/{hook['id']}/digest", headers=world.auth("town_b"))
        assert now.json()["sent"] is True
        assert [row["code"] for row in now.json()["digest"]["overdue"]] == ["1"]
        drain(worker)
        [message] = receiver.bodies()
        assert "期限超過 1件" in message["text"]


def test_item_overdue_fires_once_per_planned_end_and_again_after_a_replan(
    client: TestClient,
    world: World,
    db: Session,
    make_item: ItemFactory,
    subscribe: Subscribe,
    worker: Worker,
    clock: Clock,
    settings: Settings,
) -> None:
    today = local_today(settings, clock)
    with receiving() as town, receiving() as other_town:
        subscribe("town_a", target=town.url, event_types=["item.overdue"])
        subscribe("town_b", target=other_town.url, event_types=["item.overdue"])
        make_item(code="1", responsibility="municipality", planned_end=today.isoformat())
        make_item(code="2", responsibility="municipality", planned_end="2020-01-31")
        drain(worker)
        assert town.received == []  # due today is not yet overdue; 2020 is long past

        clock.advance(days=1)
        drain(worker)
        clock.advance(hours=1)
        drain(worker)
        [notice] = town.bodies()
        assert notice["type"] == "item.overdue"
        assert notice["data"]["code"] == "1"
        assert notice["data"]["days_overdue"] == 1
        assert other_town.received == []
        notices = db.scalars(select(OverdueNotice)).all()
        assert [(n.planned_end) for n in notices] == [today]

        # Replanned, it is not overdue; once the new end passes, it is told again.
        url = f"/api/v1/projects/{world.projects['a_x'].id}/items/1"
        new_end = today + timedelta(days=3)
        client.patch(url, headers=world.auth("pmo"), json={"planned_end": new_end.isoformat()})
        clock.advance(days=2)
        drain(worker)
        assert len(town.received) == 1
        clock.advance(days=2)
        drain(worker)
        assert [b["data"]["planned_end"] for b in town.bodies()] == [
            today.isoformat(),
            new_end.isoformat(),
        ]
