"""A replan across a template's projects, beside the same rows through the bulk push.

    python -m bench.replans                  # 200 items × 100 projects, SQLite and PostgreSQL
    python -m bench.replans --smoke          # 20 items × 5 projects, for CI (make test runs it)
    python -m bench.replans --backends postgresql

One vendor's template of 200 items (sections of 20: `1`, `1-1` … `1-19`, a predecessor chain
per section, every item dated), 100 projects made from it, each anchored on its own day. The
replan moves every item a week later (version 2): 20,000 item changes. Figures, in process:

- preview: the three-way merge of every project, stored with its changes (the answer built);
- apply: every project in its own transaction, through the item writers, events included;
- floor: the same 20,000 changes pushed through the bulk push (`push_items`), one push of
  200 per project, each committed: what a vendor would otherwise send, project by project.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import cast

from sqlalchemy import Table, bindparam, create_engine, func, select, update
from sqlalchemy.orm import Session

from bench.run import Figure, database
from service import migrations
from service.access import Caller
from service.changes.models import ChangeEvent
from service.changes.service import Actor
from service.config import Settings
from service.db import insert_rows
from service.items.bulk import push_items
from service.items.models import Item, Responsibility, item_predecessors
from service.items.schemas import BulkItem, BulkPush
from service.organisations.models import Organisation, OrgKind
from service.partners.models import Partnership
from service.projects.models import Project
from service.sessions import commit, create_db_engine, create_session_factory
from service.templates import following, replans, service
from service.templates.models import TemplateFollower
from service.templates.schemas import (
    NewFollower,
    ProjectsFromTemplate,
    ReplanCreate,
    TemplateCreate,
    TemplateItemData,
)
from service.templates.shown import replan_read

ANCHOR = date(2026, 4, 1)
SECTION = 20


def plan(items: int, shift: int = 0) -> list[TemplateItemData]:
    """Sections of 20, each a group with a chain of 19 under it, every item dated."""
    made = []
    for number in range(items):
        section, place = divmod(number, SECTION)
        code = f"{section + 1}" if place == 0 else f"{section + 1}-{place}"
        start = section * 30 + place + shift
        made.append(
            TemplateItemData(
                code=code,
                title=f"作業 {code}",
                responsibility=list(Responsibility)[number % 3],
                predecessors=[f"{section + 1}-{place - 1}"] if place > 1 else [],
                start_offset=start,
                end_offset=start + 10,
            )
        )
    return made


def arrange(session: Session, items: int, projects: int) -> tuple[Caller, int]:
    """The template, its first project made through the service, and the others copied from
    it row for row on their own days (what making them through the bulk push would write,
    minus the minutes it takes: not what is measured here)."""
    vendor = Organisation(kind=OrgKind.vendor, code="vendor", name="みらい情報システム")
    towns = [
        Organisation(kind=OrgKind.municipality, code=f"town-{n}", name=f"町{n}")
        for n in range(projects)
    ]
    session.add_all([vendor, *towns])
    session.flush()
    session.add_all(Partnership(municipality=t, vendor=vendor, granted_by="bench") for t in towns)
    caller = Caller(vendor.id, OrgKind.vendor, vendor.code, 0, "bench", False)
    template = service.create_template(
        session, caller, TemplateCreate(name="標準WBS", items=plan(items))
    )
    service.publish(session, caller, template, 1)
    (first,) = following.create_followers(
        session,
        caller,
        template,
        ProjectsFromTemplate(
            version=1,
            projects=[NewFollower(municipality_id=towns[0].id, name="住民記録", anchor=ANCHOR)],
        ),
    )
    for n, town in enumerate(towns[1:], start=1):
        _copy(session, first, town, n)
    service.add_draft(session, template, "一週間の後ろ倒し", plan(items, shift=7))
    commit(session)
    return caller, template.id


_ITEMS = cast(Table, Item.__table__)


def _copy(session: Session, first: TemplateFollower, town: Organisation, days: int) -> None:
    source = session.get_one(Project, first.project_id)
    project = Project(municipality=town, vendor=source.vendor, name=source.name)
    session.add(project)
    session.flush()
    rows = [dict(row._mapping) for row in session.execute(
        select(_ITEMS).where(_ITEMS.c.project_id == source.id).order_by(_ITEMS.c.id)
    )]  # fmt: skip
    shift = timedelta(days=days)
    copies = [
        {
            **{k: v for k, v in row.items() if k != "id"},
            "project_id": project.id,
            "parent_id": None,
            "planned_start": row["planned_start"] + shift,
            "planned_end": row["planned_end"] + shift,
        }
        for row in rows
    ]
    ids = dict(zip((row["id"] for row in rows), insert_rows(
        session, _ITEMS, copies, returning_ids=True
    ), strict=True))  # fmt: skip
    parents = [
        {"b_id": ids[row["id"]], "b_parent": ids[row["parent_id"]]}
        for row in rows
        if row["parent_id"]
    ]
    session.execute(
        update(_ITEMS)
        .where(_ITEMS.c.id == bindparam("b_id"))
        .values(parent_id=bindparam("b_parent")),
        parents,
    )
    links = session.execute(
        select(item_predecessors).where(item_predecessors.c.item_id.in_(list(ids)))
    ).all()
    insert_rows(
        session,
        item_predecessors,
        [{"item_id": ids[a], "predecessor_id": ids[b]} for a, b in links],
    )
    session.add(
        TemplateFollower(
            project_id=project.id,
            template_id=first.template_id,
            version_id=first.version_id,
            anchor=first.anchor + shift,
            updated_at=first.updated_at,
        )
    )
    session.flush()


def run_backend(backend: str, items: int, projects: int, workdir: Path) -> list[Figure]:
    with database(backend, workdir) as url:
        engine = create_engine(url)
        with engine.begin() as connection:
            migrations.upgrade(connection)
        engine.dispose()
        engine = create_db_engine(Settings(database_url=url))
        factory = create_session_factory(engine)
        with factory() as session:
            caller, template_id = arrange(session, items, projects)
        changes = items * projects

        with factory() as session:
            started = time.perf_counter()
            template = service.get_visible_template(session, caller, template_id)
            replan = replans.preview_replan(session, caller, template, ReplanCreate(to_version=2))
            answer = replan_read(session, replan).model_dump_json()
            commit(session)
            preview = time.perf_counter() - started
            assert replan_read(session, replan).counts.changes == changes, answer[:500]
            replan_id = replan.id

        with factory() as session:
            started = time.perf_counter()
            template = service.get_visible_template(session, caller, template_id)
            replans.apply_replan(session, caller, template, replan_id, finish=commit)
            commit(session)
            apply = time.perf_counter() - started
            written = session.scalar(select(func.count()).where(ChangeEvent.replan_id == replan_id))
            assert written == changes, written

        with factory() as session:
            started = time.perf_counter()
            pushed = _push_a_week_later(session, caller)
            push = time.perf_counter() - started
            assert pushed == changes, pushed
        engine.dispose()
    floor = f"bulk push of the same {changes:,} changes"
    return [
        Figure(backend, f"replan preview, {changes:,} changes", preview, None, "s", floor, push,
               "seconds"),
        Figure(backend, f"replan apply, {changes:,} changes", apply, None, "s", floor, push,
               "seconds"),
    ]  # fmt: skip


def _push_a_week_later(session: Session, caller: Caller) -> int:
    """Every project's items another week later, one committed push per project."""
    actor = Actor.of(caller)
    count = 0
    for project in list(session.scalars(select(Project).order_by(Project.id))):
        rows = session.execute(
            select(Item.code, Item.planned_start, Item.planned_end).where(
                Item.project_id == project.id
            )
        ).all()
        week = timedelta(days=7)
        entries = [
            BulkItem(code=code, planned_start=start + week, planned_end=end + week)
            for code, start, end in rows
        ]
        push_items(session, project, actor, BulkPush(items=entries))
        commit(session)
        count += len(entries)
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny, for CI")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args(argv)
    items, projects = (20, 5) if args.smoke else (200, 100)
    workdir = Path(os.environ.get("TMPDIR", "/tmp"))
    for backend in args.backends.split(","):
        for figure in run_backend(backend, items, projects, workdir):
            print(figure.line(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
