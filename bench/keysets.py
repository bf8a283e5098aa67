"""Costs that must not grow with the data: an item's history, a walk of every page, whole reports.

    python -m bench.keysets            # 100,000 items in one project, 1,000,000 events
    python -m bench.keysets --smoke    # 2,000 items, 20,000 events: seconds, part of `make test`
    python -m bench.keysets --events 300000 --backends postgresql

Each figure is printed beside its floor and its target:
- an item's history (`GET …/items/{code}/history`, its default page) beside `GET item` alone,
  through the whole application in process, on an item with 60 events among all the others;
- a walk of every page of the project's items (100 a page, `list_items` and the page's JSON
  as the endpoint writes it) beside pages × the first page's time; the last page beside the
  first;
- the whole overdue report (about a fifth of the items late) as JSON pages of 1,000 following
  `next_cursor`, and as one CSV download, through the application.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from fastapi.testclient import TestClient
from sqlalchemy import Engine, Table, func, select, text
from sqlalchemy.orm import Session

from bench.generate import AS_OF, Scale, generate
from bench.run import Figure, _token, database, timed
from service import migrations
from service.changes.models import ChangeEvent, ChangeKind, ChangeSource
from service.config import Settings
from service.db import insert_rows
from service.items.models import Item
from service.items.schemas import ItemPage
from service.items.service import ItemFilters, list_items
from service.main import create_app
from service.projects.models import Project
from service.sessions import create_db_engine

HISTORY = 60  # events of the item whose history is read
PAGE = 100
REPORT_PAGE = 1000
BATCH = 50_000


def seed_events(engine: Engine, events: int) -> str:
    """`events` change events over the project's items, in feed order, the measured item's
    spread among them; its code."""
    with Session(engine) as session:
        items = session.execute(select(Item.id, Item.code).order_by(Item.id)).all()
    measured = items[len(items) // 2]
    now = datetime(2026, 3, 1, tzinfo=UTC)
    every = max(1, events // HISTORY)

    def rows() -> Iterator[dict[str, object]]:
        for seq in range(1, events + 1):
            if seq % every == 0 or seq == 1:
                item_id, code = measured
                kind = ChangeKind.created if seq == 1 else ChangeKind.updated
            else:
                item_id, code = items[seq % len(items)]
                kind = ChangeKind.updated
            yield {
                "seq": seq,
                "project_id": 1,
                "item_id": item_id,
                "item_code": code,
                "kind": kind,
                "actor_organisation_id": None,
                "actor_label": "v000/bench",
                "source": ChangeSource.api,
                "source_id": None,
                "occurred_at": now,
                "changes": [["progress", seq % 100, (seq + 1) % 100]],
                "field_names": " progress ",
            }

    table = cast(Table, ChangeEvent.__table__)
    batch: list[dict[str, object]] = []
    for row in rows():
        batch.append(row)
        if len(batch) == BATCH:
            _insert(engine, table, batch)
            batch = []
    _insert(engine, table, batch)
    with engine.begin() as connection:
        connection.execute(text("UPDATE change_feed_counter SET last_seq = :n"), {"n": events})
        connection.execute(text("ANALYZE"))
    return str(measured.code)


def _insert(engine: Engine, table: Table, rows: list[dict[str, object]]) -> None:
    if rows:
        with Session(engine) as session:
            insert_rows(session, table, rows)
            session.commit()


def bench_history(
    app: TestClient, token: str, code: str, backend: str, repeat: int
) -> list[Figure]:
    headers = {"Authorization": f"Bearer {token}"}
    item_url = f"/api/v1/projects/1/items/{code}"

    def get(url: str) -> object:
        response = app.get(url, headers=headers)
        assert response.status_code == 200, response.text
        return response.content

    history = f"{item_url}/history"
    events = len(app.get(f"{history}?limit=1000", headers=headers).json()["items"])
    item, _item_p95 = timed(lambda: get(item_url), repeat)
    alone, alone_p95 = timed(lambda: get(history), repeat)

    def both() -> object:
        get(item_url)
        return get(history)

    together, together_p95 = timed(both, repeat)
    oldest, oldest_p95 = timed(lambda: get(f"{history}?order=oldest"), repeat)
    name = f"item history ({events} events, newest first)"
    return [
        Figure(backend, f"GET {name}", alone, alone_p95, "ms", "GET item alone", item,
               "p50 within 1.5× of GET item"),
        Figure(backend, f"GET {name}, oldest first", oldest, oldest_p95, "ms", "GET item alone",
               item, "(reference)"),
        Figure(backend, "GET item + its history", together, together_p95, "ms", "GET item alone",
               item, "(reference: the two calls a client makes)"),
    ]  # fmt: skip


def bench_walk(engine: Engine, backend: str, repeat: int) -> list[Figure]:
    with Session(engine) as session:
        project = session.get(Project, 1)
        assert project is not None
    filters = ItemFilters(as_of=AS_OF)

    def page(session: Session, cursor: str | None) -> str | None:
        items, next_cursor = list_items(session, project, filters, cursor=cursor, limit=PAGE)
        ItemPage(items=items, next_cursor=next_cursor).model_dump_json()
        return next_cursor

    def first() -> object:
        with Session(engine) as session:
            return page(session, None)

    cursors: list[str | None] = [None]

    def walk() -> object:
        cursors[1:] = []
        with Session(engine) as session:
            cursor = page(session, None)
            while cursor is not None:
                cursors.append(cursor)
                cursor = page(session, cursor)
        return cursors

    first_ms, _first_p95 = timed(first, repeat)
    started = time.perf_counter()
    walk()
    walked = (time.perf_counter() - started) * 1000
    pages = len(cursors)
    last_cursor = cursors[-1]

    def last() -> object:
        with Session(engine) as session:
            return page(session, last_cursor)

    last_ms, last_p95 = timed(last, repeat)
    middle = cursors[pages // 2]

    def in_the_middle() -> object:
        with Session(engine) as session:
            return page(session, middle)

    middle_ms, middle_p95 = timed(in_the_middle, repeat)
    return [
        Figure(backend, f"walk of every page ({pages:,} pages of {PAGE})", walked, None, "ms",
               f"{pages:,} × the first page", pages * first_ms, "within 1.3×"),
        Figure(backend, "the last page", last_ms, last_p95, "ms", "the first page", first_ms,
               "(reference: the same)"),
        Figure(backend, "a page in the middle", middle_ms, middle_p95, "ms", "the first page",
               first_ms, "(reference: the same)"),
    ]  # fmt: skip


def bench_report(app: TestClient, token: str, backend: str, repeat: int) -> list[Figure]:
    headers = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/reports/overdue?as_of={AS_OF}"
    rows = app.get(f"{url}&limit=1", headers=headers).json()["total"]

    def pages() -> object:
        cursor, seen = "", 0
        while True:
            body = app.get(f"{url}&limit={REPORT_PAGE}{cursor}", headers=headers).json()
            seen += len(body["rows"])
            if body["next_cursor"] is None:
                assert seen == rows, (seen, rows)
                return seen
            cursor = f"&cursor={body['next_cursor']}"

    def whole_csv() -> object:
        response = app.get(f"{url}&format=csv", headers=headers)
        assert response.content.count(b"\r\n") == rows + 1
        return response.content

    first, _first_p95 = timed(
        lambda: app.get(f"{url}&limit={REPORT_PAGE}", headers=headers).content, repeat
    )
    json_ms, json_p95 = timed(pages, max(1, repeat // 5))
    csv_ms, csv_p95 = timed(whole_csv, max(1, repeat // 5))
    count = -(-rows // REPORT_PAGE)
    return [
        Figure(backend, f"overdue report, all {rows:,} rows as JSON pages of {REPORT_PAGE:,}",
               json_ms, json_p95, "ms", f"{count} × the first page", count * first,
               "under 1 s"),
        Figure(backend, f"overdue report, all {rows:,} rows as one CSV", csv_ms, csv_p95, "ms",
               f"{count} × the first JSON page", count * first, "under 2 s"),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny scale, for CI")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--items", type=int, default=None, help="items in the project")
    parser.add_argument("--events", type=int, default=None, help="change events in all")
    args = parser.parse_args(argv)
    items = args.items or (2000 if args.smoke else 100_000)
    events = args.events or (20_000 if args.smoke else 1_000_000)
    repeat = 3 if args.smoke else 30
    workdir = Path(os.environ.get("TMPDIR", "/tmp"))
    for backend in args.backends.split(","):
        with database(backend, workdir) as url:
            engine = create_db_engine(Settings(database_url=url))
            with engine.begin() as connection:
                migrations.upgrade(connection)
            started = time.perf_counter()
            generate(engine, Scale(1, items))
            code = seed_events(engine, events)
            with Session(engine) as session:
                count = session.scalar(select(func.count()).select_from(ChangeEvent))
            elapsed = time.perf_counter() - started
            print(
                f"{backend}: {items:,} items and {count:,} events in {elapsed:.1f} s",
                file=sys.stderr,
            )
            token = _token(engine, "pmo")
            with TestClient(create_app(Settings(database_url=url))) as app:
                figures = [
                    *bench_history(app, token, code, backend, repeat),
                    *bench_walk(engine, backend, repeat),
                    *bench_report(app, token, backend, repeat),
                ]
            for figure in figures:
                print(f"{figure.line()}  [{figure.target}]", flush=True)
            engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
