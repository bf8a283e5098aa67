from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from service.access import Caller
from service.changes import feed, sequencing
from service.changes.models import ChangeEvent, ChangeSource
from service.changes.service import Actor
from service.items.schemas import ItemCreate, ItemUpdate
from service.items.service import create_item, update_item
from service.organisations.models import OrgKind
from service.projects.models import Project
from service.sessions import create_session_factory
from tests.conftest import ItemFactory, World, wait_for


def changes(
    client: TestClient, world: World, who: str, query: str = "", project: str | None = None
) -> dict[str, object]:
    base = (
        f"/api/v1/projects/{world.projects[project].id}/changes" if project else "/api/v1/changes"
    )
    response = client.get(f"{base}?{query}", headers=world.auth(who))
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_the_feed_lists_each_change_once_in_order_with_actor_source_and_fields(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    make_item(code="1", responsibility="municipality")
    first = changes(client, world, "town_a")
    assert [(e["item_code"], e["kind"]) for e in first["items"]] == [("1", "created")]  # type: ignore[attr-defined]
    created = first["items"][0]  # type: ignore[index]
    assert created["actor"] == {"organisation_id": world.orgs["pmo"].id, "label": "pmo/test"}
    assert created["source"] == "api"
    assert {"field": "responsibility", "old": None, "new": "municipality"} in created["changes"]

    url = f"/api/v1/projects/{world.projects['a_x'].id}/items/1"
    client.patch(url, headers=world.auth("town_a"), json={"status": "in_progress", "notes": "着手"})
    client.patch(url, headers=world.auth("town_a"), json={"status": "done"})
    second = changes(client, world, "town_a", f"since={first['next_cursor']}")
    assert [e["kind"] for e in second["items"]] == ["updated", "updated"]  # type: ignore[attr-defined]
    assert second["items"][0]["actor"]["label"] == "town-a/test"  # type: ignore[index]
    positions = [e["position"] for e in second["items"]]  # type: ignore[attr-defined]
    assert positions == sorted(positions)
    assert positions[0] > created["position"]
    again = changes(client, world, "town_a", f"since={second['next_cursor']}")
    assert again["items"] == []
    assert again["next_cursor"] == second["next_cursor"]


def test_filters_and_the_status_change_feed(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    make_item(code="1", responsibility="joint")
    make_item(code="2", responsibility="joint")
    base = f"/api/v1/projects/{world.projects['a_x'].id}/items"
    client.patch(
        f"{base}/1", headers=world.auth("town_a"), json={"status": "in_progress", "progress": 10}
    )
    client.patch(f"{base}/2", headers=world.auth("town_a"), json={"notes": "メモ"})
    client.delete(f"{base}/2", headers=world.auth("vendor_x"))

    status_feed = changes(client, world, "town_a", "field=status")
    assert [(e["item_code"], e["kind"], e["changes"]) for e in status_feed["items"]] == [  # type: ignore[attr-defined]
        ("1", "created", [{"field": "status", "old": None, "new": "not_started"}]),
        ("2", "created", [{"field": "status", "old": None, "new": "not_started"}]),
        ("1", "updated", [{"field": "status", "old": "not_started", "new": "in_progress"}]),
        ("2", "deleted", [{"field": "status", "old": "not_started", "new": None}]),
    ]
    # A field is matched by its whole name: not a part of one, not a LIKE pattern, not two.
    progress_feed = changes(client, world, "town_a", "field=progress")
    assert [(e["item_code"], e["kind"]) for e in progress_feed["items"]] == [  # type: ignore[attr-defined]
        ("1", "created"),
        ("2", "created"),
        ("1", "updated"),
        ("2", "deleted"),
    ]
    for near_miss in ("progres", "rogress", "pr_gress", "pro%", "status progress", "status%20"):
        assert changes(client, world, "town_a", f"field={near_miss}")["items"] == [], near_miss
    assert [e["kind"] for e in changes(client, world, "town_a", "item=2")["items"]] == [
        "created",
        "updated",
        "deleted",
    ]  # type: ignore[attr-defined]
    assert [
        e["item_code"]
        for e in changes(client, world, "town_a", "kind=deleted&kind=created")["items"]
    ] == ["1", "2", "2"]  # type: ignore[attr-defined]
    assert len(changes(client, world, "town_a", project="a_x")["items"]) == 5  # type: ignore[arg-type]


def test_nobody_sees_another_organisations_changes(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    make_item(project="a_x", code="1", title="A町の秘密")
    make_item(project="b_y", code="1", title="B市の作業")
    town_b = changes(client, world, "town_b")
    assert [e["project_id"] for e in town_b["items"]] == [world.projects["b_y"].id]  # type: ignore[attr-defined]
    assert "A町の秘密" not in str(town_b)
    assert (
        changes(client, world, "vendor_y")["items"]
        == changes(client, world, "town_b", project="b_y")["items"]
    )
    assert (
        client.get(
            f"/api/v1/projects/{world.projects['a_x'].id}/changes", headers=world.auth("town_b")
        ).status_code
        == 404
    )
    assert (
        client.get("/api/v1/changes?since=garbage", headers=world.auth("town_b")).status_code == 422
    )


def test_an_import_s_changes_carry_its_id(client: TestClient, world: World) -> None:
    upload = client.post(
        f"/api/v1/projects/{world.projects['a_x'].id}/imports",
        headers=world.auth("vendor_x"),
        files={"file": ("w.csv", "項番,作業項目,担当\n1,計画,ベンダー\n".encode())},
    )
    event = changes(client, world, "town_a")["items"][0]  # type: ignore[index]
    assert (event["source"], event["source_id"]) == ("import", str(upload.json()["id"]))


def test_a_waiting_request_returns_as_soon_as_a_change_commits(
    client: TestClient, world: World, make_item: ItemFactory, engine: Engine
) -> None:
    make_item(code="1", responsibility="municipality")
    cursor = changes(client, world, "town_a")["next_cursor"]

    def later() -> None:
        wait_for(lambda: client.app.state.feed_head.held >= 1, "the request to be held")  # type: ignore[attr-defined]
        client.patch(
            f"/api/v1/projects/{world.projects['a_x'].id}/items/1",
            headers=world.auth("town_a"),
            json={"progress": 30},
        )

    writer = threading.Thread(target=later)
    writer.start()
    held = changes(client, world, "town_a", f"since={cursor}&wait=20")
    writer.join()
    assert [e["changes"] for e in held["items"]] == [[{"field": "progress", "old": 0, "new": 30}]]  # type: ignore[attr-defined]
    quiet = changes(client, world, "town_a", f"since={held['next_cursor']}&wait=0.3")
    assert quiet["items"] == []


@pytest.mark.parametrize("written", ["at commit", "as they come"])
def test_concurrent_writers_and_a_following_reader_agree_event_for_event(
    engine: Engine, world: World, written: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writers get event ids in one order and commit in another; the reader never skips one.

    "As they come": every event is written as soon as it is recorded and numbered only at
    commit, as a long import's are.
    """
    if written == "as they come":
        monkeypatch.setattr(sequencing, "SLICE", 1)
    factory = create_session_factory(engine)
    project_id = world.projects["a_x"].id
    vendor = Actor(world.orgs["vendor_x"].id, OrgKind.vendor, "vendor-x/load", ChangeSource.api)
    reader = Caller(world.orgs["town_a"].id, OrgKind.municipality, "town-a", 0, "reader", True)
    writers, per_writer = 4, 25
    done = threading.Event()
    failures: list[BaseException] = []

    def write(number: int) -> None:
        rng = random.Random(number)
        try:
            for n in range(per_writer):
                with factory() as session:
                    project = session.get(Project, project_id)
                    assert project is not None
                    code = f"{number + 1}-{n + 1}" if n else f"{number + 1}"
                    create_item(
                        session,
                        project,
                        vendor,
                        ItemCreate(code=code, title=code, responsibility="vendor"),
                    )
                    if n:
                        update_item(session, project, vendor, code, ItemUpdate(progress=n))
                    time.sleep(
                        rng.random() * 0.01
                    )  # hold the transaction open after its ids are taken
                    session.commit()
        except BaseException as error:
            failures.append(error)

    seen: list[int] = []

    def follow() -> None:
        after = 0
        while True:
            finished = done.is_set()
            with factory() as session:
                events, _ = feed.read_feed(session, reader, after, feed.FeedFilter(), 50)
            seen.extend(event.seq or 0 for event in events)
            if events:
                after = events[-1].seq or after
            elif finished:
                return

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    follower = threading.Thread(target=follow)
    follower.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    follower.join(timeout=60)
    assert not failures, failures
    with Session(engine) as session:
        committed = list(session.scalars(select(ChangeEvent.seq).order_by(ChangeEvent.seq)))
    assert len(committed) == writers * (2 * per_writer - 1)
    assert seen == committed
    assert committed == list(range(committed[0], committed[0] + len(committed)))


@contextmanager
def statements_run(client: TestClient) -> Iterator[list[str]]:
    """Every SQL statement the app runs inside the block."""
    statements: list[str] = []
    engine = client.app.state.engine  # type: ignore[attr-defined]

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_waiting_requests_share_one_look_at_the_feed_position(
    client: TestClient, world: World
) -> None:
    """Held polls with nothing new do not each query the feed over and over."""
    cursor = changes(client, world, "town_a")["next_cursor"]
    with statements_run(client) as statements, ThreadPoolExecutor(10) as pollers:
        pages = list(
            pollers.map(
                lambda _: changes(client, world, "town_a", f"since={cursor}&wait=1.5"),
                range(10),
            )
        )
    assert all(page["items"] == [] for page in pages)
    feed_reads = [s for s in statements if "FROM change_events" in s]
    counter_reads = [s for s in statements if "FROM change_feed_counter" in s]
    # One look each on arrival; then only the shared position, about ten times a second.
    assert len(feed_reads) == 10
    assert 0 < len(counter_reads) <= 30


def test_polls_woken_by_the_same_change_share_one_read_of_it(
    client: TestClient, world: World, make_item: ItemFactory
) -> None:
    make_item(code="1", responsibility="municipality")
    cursor = changes(client, world, "town_a")["next_cursor"]
    with statements_run(client) as statements, ThreadPoolExecutor(10) as pollers:
        waiting = [
            pollers.submit(changes, client, world, "town_a", f"since={cursor}&wait=10")
            for _ in range(10)
        ]
        wait_for(lambda: client.app.state.feed_head.held >= 10, "all ten to be held")  # type: ignore[attr-defined]
        client.patch(
            f"/api/v1/projects/{world.projects['a_x'].id}/items/1",
            headers=world.auth("town_a"),
            json={"progress": 30},
        )
        pages = [poll.result() for poll in waiting]
    for page in pages:
        assert [e["changes"] for e in page["items"]] == [  # type: ignore[attr-defined]
            [{"field": "progress", "old": 0, "new": 30}]
        ]
    feed_reads = [s for s in statements if "FROM change_events" in s]
    # Ten first looks, then the woken ten share one read (two if the wake straddles a tick).
    assert 11 <= len(feed_reads) <= 12


def test_events_written_before_commit_stay_unseen_until_it_and_then_come_in_order(
    engine: Engine, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sequencing, "SLICE", 2)
    factory = create_session_factory(engine)
    project_id = world.projects["a_x"].id
    vendor = Actor(world.orgs["vendor_x"].id, OrgKind.vendor, "vendor-x/plan", ChangeSource.api)
    reader = Caller(world.orgs["town_a"].id, OrgKind.municipality, "town-a", 0, "reader", True)

    def visible() -> list[tuple[int, str]]:
        with factory() as session:
            events, _ = feed.read_feed(session, reader, 0, feed.FeedFilter(), 100)
        return [(event.seq, event.item_code) for event in events]

    with factory() as writing:
        project = writing.get(Project, project_id)
        assert project is not None
        for code in ("1", "2", "3", "4", "5"):
            create_item(
                writing, project, vendor, ItemCreate(code=code, title=code, responsibility="vendor")
            )
        writing.flush()
        written = writing.scalar(select(func.count()).select_from(ChangeEvent))
        assert written == 4  # two slices of two are in the table, one event still queued
        assert visible() == []
        writing.commit()
    assert visible() == [(1, "1"), (2, "2"), (3, "3"), (4, "4"), (5, "5")]
