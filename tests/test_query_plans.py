"""Every page after a cursor starts in an index in the list's order: no scan, no sort.

Each test runs the service's own query for a page in the middle of a list and reads the
database's plan for exactly that statement (EXPLAIN on PostgreSQL, EXPLAIN QUERY PLAN on
SQLite). PostgreSQL would rather scan a table this small whole, so its plans are read with
sequential scans priced out (`enable_seqscan = off`), after ANALYZE: what is left is whether an
index can serve the condition and the order, which is what grows with the data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any, cast

import pytest
from sqlalchemy import Engine, Table, event, insert, select, text
from sqlalchemy.orm import Session

from service.access import Caller
from service.changes import feed, history
from service.changes.models import ChangeEvent, ChangeKind, ChangeSource
from service.cursors import feed_cursor, item_cursor
from service.db import insert_rows
from service.imports.models import ImportRecord
from service.imports.service import list_imports
from service.items.codes import code_columns
from service.items.models import Item, Responsibility, Status
from service.items.service import ItemFilters, list_items
from service.organisations.models import Organisation
from service.organisations.service import list_organisations
from service.projects.models import Project
from service.projects.service import list_projects
from service.reports.service import OverdueSelection, ReportScope, overdue_page
from service.tokens.models import ApiToken
from service.tokens.service import list_tokens
from tests.conftest import World

NOW = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
ITEMS = 2000
HISTORY = 400  # events of one item
LONG = "1-10"  # that item
OTHERS = 50  # events of other projects for each of this project's


def middle_of(db: Session, **where: object) -> int:
    """The feed position in the middle of these events."""
    seqs = db.scalars(select(ChangeEvent.seq).filter_by(**where).order_by(ChangeEvent.seq)).all()
    return seqs[len(seqs) // 2] or 0


def caller_of(organisation: Organisation) -> Caller:
    return Caller(organisation.id, organisation.kind, organisation.code, 1, "plans", False)


@pytest.fixture
def big(db: Session, world: World) -> World:
    """A project of 2,000 items and 400 more projects; the feed's events mostly the other
    projects', one item's long history a small share of them; a few hundred tokens and imports,
    a tenth of them the ones listed: shares as a real database has them, so that the planner
    has a reason to prefer the index a page needs."""
    project = world.projects["a_x"]
    db.execute(
        insert(Item),
        [
            {
                **code_columns(f"{section}-{step}"),
                "project_id": project.id,
                "title": f"作業 {section}-{step}",
                "responsibility": Responsibility.vendor,
                "status": Status.not_started if step % 3 else Status.done,
                "planned_end": date(2026, 1, 1 + step % 28),
                "progress": 0,
                "version": 1,
                "created_at": NOW,
                "updated_at": NOW,
            }
            for section in range(1, ITEMS // 20 + 1)
            for step in range(1, 21)
        ],
    )
    ids = dict(db.execute(select(Item.code, Item.id).where(Item.project_id == project.id)).all())
    vendor, town = world.orgs["vendor_x"], world.orgs["town_a"]
    db.execute(
        insert(Project),
        [
            {
                "municipality_id": world.orgs["town_b"].id,
                "vendor_id": (vendor if n % 10 == 0 else world.orgs["vendor_y"]).id,
                "name": f"業務 {n}",
                "version": 1,
                "created_at": NOW,
                "updated_at": NOW,
            }
            for n in range(400)
        ],
    )
    others = db.scalars(select(Project.id).where(Project.name.like("業務 %"))).all()

    def event_row(project_id: int, item_id: int, code: str, kind: ChangeKind) -> dict[str, Any]:
        return {
            "project_id": project_id,
            "item_id": item_id,
            "item_code": code,
            "kind": kind,
            "actor_label": "vendor-x/plans",
            "source": ChangeSource.api,
            "occurred_at": NOW,
            "changes": [["progress", 0, 1]],
            "field_names": " progress ",
        }

    events = []
    for n, (code, item_id) in enumerate(list(ids.items())[:HISTORY]):
        events.append(event_row(project.id, item_id, code, ChangeKind.created))
        events.append(event_row(project.id, ids[LONG], LONG, ChangeKind.updated))
        for other in range(OTHERS):
            events.append(
                event_row(others[(n + other) % len(others)], 10**6 + n, "1", ChangeKind.updated)
            )
    rows = [{**e, "seq": seq} for seq, e in enumerate(events, start=1)]
    insert_rows(db, cast(Table, ChangeEvent.__table__), rows)
    db.execute(
        insert(ApiToken),
        [
            {
                "organisation_id": (vendor if n % 10 == 0 else town).id,
                "name": f"script {n}",
                "token_hash": f"{n:064x}",
                "prefix": "wbs_plans",
                "read_only": False,
                "created_at": NOW,
            }
            for n in range(4000)
        ],
    )
    db.execute(
        insert(ImportRecord),
        [
            {
                "project_id": (project if n % 10 == 0 else world.projects["b_x"]).id,
                "file_name": f"wbs-{n}.xlsx",
                "sha256": f"{n:064x}",
                "sheet": "WBS",
                "actor_label": "vendor-x/plans",
                "created_at": NOW,
            }
            for n in range(4000)
        ],
    )
    db.commit()
    db.execute(text("ANALYZE"))
    db.commit()
    return world


@contextmanager
def statements(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def record(_connection: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def plan_of(db: Session, engine: Engine, run: Callable[[], object], table: str) -> str:
    """The plan of the last statement `run` sends that reads `table`, as one text."""
    with statements(engine) as seen:
        run()
    statement, parameters = [
        (s, p) for s, p in seen if f"FROM {table}" in s and s.lstrip().startswith("SELECT")
    ][-1]
    connection = db.connection()
    if engine.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        # What docs/deploy.md asks of a server on SSDs. With the default (4, for spinning
        # disks) a table this small is cheaper read in feed order and filtered than through
        # the project's index; at a real database's size it is not, at either setting.
        connection.exec_driver_sql("SET LOCAL random_page_cost = 1.1")
        lines = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters).scalars()
    else:
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        lines = (row[-1] for row in rows)
    plan = "\n".join(lines)
    db.rollback()
    return plan


def assert_served(engine: Engine, plan: str, index: str, *, condition: str) -> None:
    """The plan reads `index` bounded by the keyset `condition`, scans no table whole and sorts
    nothing."""
    assert condition
    lines = plan.splitlines()
    if engine.dialect.name == "postgresql":
        assert "Seq Scan" not in plan, plan
        assert "Sort" not in plan, plan
        assert f"Scan using {index} " in plan or f"Scan Backward using {index} " in plan, plan
        bounds = [line for line in lines if "Index Cond" in line]
    else:
        assert "TEMP B-TREE" not in plan, plan
        assert not any(line.startswith("SCAN") for line in lines), plan
        name = "INTEGER PRIMARY KEY" if index == "PRIMARY KEY" else f"INDEX {index} "
        bounds = [line for line in lines if name in line]
        assert bounds, plan
    assert any(condition in line for line in bounds), plan


def _pg(engine: Engine, postgresql: str, sqlite: str) -> str:
    return postgresql if engine.dialect.name == "postgresql" else sqlite


def test_a_page_of_items_in_the_middle_starts_in_the_sort_index(
    db: Session, engine: Engine, big: World
) -> None:
    project = big.projects["a_x"]
    middle = db.execute(
        select(Item.sort_key, Item.id).where(Item.code == LONG, Item.project_id == project.id)
    ).one()
    cursor = item_cursor(middle.sort_key, middle.id)
    filters = ItemFilters(as_of=date(2026, 4, 1))
    plan = plan_of(
        db, engine, lambda: list_items(db, project, filters, cursor=cursor, limit=100), "items"
    )
    assert_served(
        engine,
        plan,
        "ix_items_project_sort",
        condition=_pg(engine, "ROW((sort_key)::text, id) >", "project_id=? AND sort_key>?"),
    )


def test_a_page_of_the_project_feed_and_of_its_item_filter_start_in_an_index(
    db: Session, engine: Engine, big: World
) -> None:
    project = big.projects["a_x"]
    caller = caller_of(big.orgs["town_a"])
    whole = feed.FeedFilter(project_id=project.id)
    middle = middle_of(db, project_id=project.id)
    plan = plan_of(
        db, engine, lambda: feed.read_feed(db, caller, middle, whole, 100), "change_events"
    )
    assert_served(
        engine,
        plan,
        "ix_change_events_project_id_seq",
        condition=_pg(engine, "seq >", "seq>?"),
    )
    one = feed.FeedFilter(project_id=project.id, item_code=LONG)
    middle = middle_of(db, project_id=project.id, item_code=LONG)
    plan = plan_of(
        db, engine, lambda: feed.read_feed(db, caller, middle, one, 100), "change_events"
    )
    assert_served(
        engine,
        plan,
        "ix_change_events_project_id_item_code_seq",
        condition=_pg(engine, "item_code", "item_code=? AND seq>?"),
    )


@pytest.mark.parametrize("order", list(history.HistoryOrder))
def test_a_page_of_an_item_history_starts_in_its_index(
    db: Session, engine: Engine, big: World, order: history.HistoryOrder
) -> None:
    project = big.projects["a_x"]
    cursor = feed_cursor(middle_of(db, project_id=project.id, item_code=LONG))

    def page() -> object:
        return history.item_history(db, project, LONG, order=order, cursor=cursor, limit=50)

    plan = plan_of(db, engine, page, "change_events")
    sign = ">" if order is history.HistoryOrder.oldest else "<"
    assert_served(
        engine,
        plan,
        "ix_change_events_item_id_seq",
        condition=_pg(engine, f"seq {sign}", f"seq{sign}?"),
    )
    # Where the history starts is read with the item, off the small index of creations.
    lookup = plan_of(db, engine, page, "items")
    assert "ix_change_events_item_created" in lookup, lookup


def test_pages_of_id_ordered_lists_in_the_middle_start_in_an_index(
    db: Session, engine: Engine, big: World
) -> None:
    vendor = big.orgs["vendor_x"]
    middle = 2000
    projects = plan_of(
        db,
        engine,
        lambda: list_projects(
            db,
            caller_of(vendor),
            municipality=None,
            vendor=None,
            consortium=None,
            after_id=middle // 10,
            limit=10,
        ),
        "projects",
    )
    assert_served(
        engine,
        projects,
        "ix_projects_vendor_id_id",
        condition=_pg(engine, "id >", "vendor_id=? AND id>?"),
    )
    tokens = plan_of(
        db,
        engine,
        lambda: list_tokens(db, organisation_id=vendor.id, after_id=middle, limit=20),
        "api_tokens",
    )
    assert_served(
        engine,
        tokens,
        "ix_api_tokens_organisation_id_id",
        condition=_pg(engine, "id >", "organisation_id=? AND id>?"),
    )
    imports = plan_of(
        db,
        engine,
        lambda: list_imports(db, big.projects["a_x"], after_id=middle, limit=20),
        "imports",
    )
    assert_served(
        engine,
        imports,
        "ix_imports_project_id_id",
        condition=_pg(engine, "id >", "project_id=? AND id>?"),
    )
    pmo = caller_of(big.orgs["pmo"])
    organisations = plan_of(
        db,
        engine,
        lambda: list_organisations(db, pmo, kind=None, after_id=2, limit=2),
        "organisations",
    )
    assert_served(
        engine,
        organisations,
        _pg(engine, "pk_organisations", "PRIMARY KEY"),
        condition=_pg(engine, "id >", "rowid>?"),
    )


def test_a_page_of_the_overdue_report_in_the_middle_starts_in_the_open_items_index(
    db: Session, engine: Engine, big: World
) -> None:
    pmo = caller_of(big.orgs["pmo"])
    selection = OverdueSelection(ReportScope(pmo), date(2026, 4, 1))
    first = overdue_page(db, selection, cursor=None, limit=600)
    assert first.next_cursor is not None
    plan = plan_of(
        db,
        engine,
        lambda: overdue_page(db, selection, cursor=first.next_cursor, limit=100),
        "items",
    )
    assert_served(
        engine,
        plan,
        "ix_items_open_planned_end",
        condition=_pg(
            engine,
            "ROW(planned_end, project_id, (sort_key)::text, id) >",
            "(planned_end,project_id,sort_key)>(?,?,?)",
        ),
    )
