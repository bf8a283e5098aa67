"""Overdue and progress reports over the projects a caller may see."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

from pydantic import TypeAdapter
from sqlalchemy import ColumnElement, Row, Select, and_, case, exists, func, select, true, tuple_
from sqlalchemy.orm import Session, aliased

from service.access import SIDES, Caller, visible_projects
from service.cursors import id_cursor, report_cursor, report_position
from service.db import SLICE, in_slices
from service.items.models import CLOSED_STATUSES, Item, Responsibility, Status, item_predecessors
from service.items.service import open_clause, overdue_clause
from service.organisations.models import Organisation
from service.organisations.schemas import OrganisationRef
from service.projects.models import Project
from service.reports.schemas import (
    Milestone,
    OverdueReport,
    OverdueRow,
    Progress,
    ProgressReport,
    ProjectProgress,
    ProjectRef,
    RollUp,
    SideCounts,
    StatusCounts,
)

MILESTONES = 10
# SQLite allows 32,766 bound parameters; stay far below it.


@dataclass(frozen=True)
class ReportScope:
    caller: Caller
    project_id: int | None = None
    municipality: str | None = None
    vendor: str | None = None
    consortium: str | None = None

    def projects(self) -> Select[Project]:
        query = select(Project).where(visible_projects(self.caller))
        if self.project_id is not None:
            query = query.where(Project.id == self.project_id)
        if self.municipality is not None:
            query = query.where(Project.municipality.has(Organisation.code == self.municipality))
        if self.vendor is not None:
            query = query.where(Project.vendor.has(Organisation.code == self.vendor))
        if self.consortium is not None:
            query = query.where(Project.consortium == self.consortium)
        return query

    def items(self) -> ColumnElement[bool]:
        """The condition on `Item` for the items of the scope's projects."""
        filters = (self.project_id, self.municipality, self.vendor, self.consortium)
        if self.caller.is_pmo and all(value is None for value in filters):
            # Every project: a condition naming them all would steer the planner to the
            # per-project index and through every closed item (SQLite: 550 ms, not 30).
            return true()
        return Item.project_id.in_(self.projects().with_only_columns(Project.id).scalar_subquery())


def _days_after(day: date, days: int) -> date:
    return day + timedelta(days=days) if day <= date.max - timedelta(days=days) else date.max


def _ref(project: Project) -> ProjectRef:
    return ProjectRef(id=project.id, name=project.name, consortium=project.consortium)


def _org(organisation: Organisation) -> OrganisationRef:
    return OrganisationRef(id=organisation.id, code=organisation.code, name=organisation.name)


_LATE_COLUMNS = (
    Item.id,
    Item.project_id,
    Item.code,
    Item.title,
    Item.responsibility,
    Item.assignee,
    Item.planned_end,
    Item.status,
    Item.progress,
    Item.sort_key,
)


@dataclass(frozen=True)
class OverdueSelection:
    """Which rows the overdue report holds: late items (and, with `due_within`, those due
    soon) of the scope's projects."""

    scope: ReportScope
    as_of: date
    responsibility: Responsibility | None = None
    assignee: str | None = None
    due_within: int | None = None

    def items(self) -> Select[*tuple[Any, ...]]:
        """The rows, as plain columns: ORM instances cost a page more than its queries."""
        late = overdue_clause(self.as_of)
        if self.due_within:
            late = and_(
                # Past the last day the calendar has, everything open is due within the horizon.
                Item.planned_end <= _days_after(self.as_of, self.due_within),
                open_clause(),
            )
        query = select(*_LATE_COLUMNS).where(self.scope.items(), late)
        if self.responsibility is not None:
            query = query.where(Item.responsibility == self.responsibility)
        if self.assignee is not None:
            query = query.where(Item.assignee == self.assignee)
        return query


# Most overdue first; the item id last, so that every row has its own place for a cursor. The
# open items' index is in this order.
_OVERDUE_ORDER = (Item.planned_end, Item.project_id, Item.sort_key, Item.id)


def overdue_report(
    session: Session,
    scope: ReportScope,
    *,
    as_of: date,
    responsibility: Responsibility | None = None,
    assignee: str | None = None,
    due_within: int | None = None,
    cursor: str | None = None,
    limit: int = 1000,
) -> OverdueReport:
    """One page of the report, the number of rows of all its pages, and the next page's cursor."""
    selection = OverdueSelection(scope, as_of, responsibility, assignee, due_within)
    return overdue_page(session, selection, cursor=cursor, limit=limit)


def overdue_page(
    session: Session, selection: OverdueSelection, *, cursor: str | None, limit: int
) -> OverdueReport:
    """`overdue_report` of a selection."""
    total = session.scalar(select(func.count()).select_from(selection.items().subquery())) or 0
    items, next_cursor = _overdue_page(session, selection, cursor, limit)
    return OverdueReport.model_validate(
        {
            "as_of": selection.as_of,
            "total": total,
            "truncated": next_cursor is not None,
            "next_cursor": next_cursor,
            "rows": _row_data(session, items, selection.as_of),
        }
    )


def overdue_pages(
    session: Session,
    selection: OverdueSelection,
    *,
    cursor: str | None = None,
    limit: int | None = None,
    size: int = SLICE,
) -> Iterator[list[OverdueRow]]:
    """Every row of the report after `cursor` (at most `limit`), a page of `size` at a time: what
    a download streams, holding one page at once."""
    left = limit
    while left is None or left > 0:
        wanted = size if left is None else min(size, left)
        items, cursor = _overdue_page(session, selection, cursor, wanted)
        if items:
            yield overdue_rows(session, items, selection.as_of)
        # The page's items are not needed again: forgotten, the session holds one page at once.
        session.expunge_all()
        if cursor is None:
            return
        if left is not None:
            left -= len(items)


def _overdue_page(
    session: Session, selection: OverdueSelection, cursor: str | None, limit: int
) -> tuple[Sequence[Row[Any]], str | None]:
    query = selection.items()
    if cursor is not None:
        # A row value: both databases read it as a range of the open items' index.
        query = query.where(tuple_(*_OVERDUE_ORDER) > tuple_(*report_position(cursor)))
    found = session.execute(query.order_by(*_OVERDUE_ORDER).limit(limit + 1)).all()
    items = found[:limit]
    if len(found) <= limit:
        return items, None
    last = items[-1]
    assert last.planned_end is not None  # the report's condition reads it
    return items, report_cursor(last.planned_end, last.project_id, last.sort_key, last.id)


class LateItem(Protocol):
    """What a report row is made of: an item, or a plain row of its columns."""

    @property
    def id(self) -> int: ...
    @property
    def project_id(self) -> int: ...
    @property
    def code(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def responsibility(self) -> Responsibility: ...
    @property
    def assignee(self) -> str | None: ...
    @property
    def planned_end(self) -> date | None: ...
    @property
    def status(self) -> Status: ...
    @property
    def progress(self) -> int: ...


_ROWS: TypeAdapter[list[OverdueRow]] = TypeAdapter(list[OverdueRow])


def overdue_rows(session: Session, items: Sequence[LateItem], as_of: date) -> list[OverdueRow]:
    """Report rows of these items (each with a planned end): their projects, and what each
    holds up."""
    return _ROWS.validate_python(_row_data(session, items, as_of))


def _row_data(session: Session, items: Sequence[LateItem], as_of: date) -> list[dict[str, Any]]:
    """`overdue_rows` as plain data, for a page to validate in one call: a model built per row
    and per part of it cost a page of 1,000 rows more than its queries."""
    projects: dict[int, dict[str, Any]] = {}
    for chunk in in_slices(sorted({i.project_id for i in items})):
        for p in session.scalars(select(Project).where(Project.id.in_(chunk))):
            projects[p.id] = {
                "project": {"id": p.id, "name": p.name, "consortium": p.consortium},
                "municipality": _org_data(p.municipality),
                "vendor": _org_data(p.vendor),
            }
    blocked = _blocked_successors(session, items)
    rows = []
    for item in items:
        assert item.planned_end is not None
        days = (as_of - item.planned_end).days
        sides = SIDES[item.responsibility]
        rows.append(
            {
                **projects[item.project_id],
                "code": item.code,
                "title": item.title,
                "responsibility": item.responsibility,
                "assignee": item.assignee,
                "planned_end": item.planned_end,
                "days_overdue": days,
                "state": "overdue" if days > 0 else "due_soon",
                "status": item.status,
                "progress": item.progress,
                "blocks": [
                    {
                        "code": code,
                        "title": title,
                        "responsibility": side,
                        "other_side": bool(SIDES[side] - sides),
                    }
                    for code, title, side in blocked.get(item.id, [])
                ],
            }
        )
    return rows


def _org_data(organisation: Organisation) -> dict[str, Any]:
    return {"id": organisation.id, "code": organisation.code, "name": organisation.name}


def _blocked_successors(
    session: Session, items: Sequence[LateItem]
) -> dict[int, list[tuple[str, str, Responsibility]]]:
    """For each late item, its successors that have not started: the work it holds up."""
    blocked: dict[int, list[tuple[str, str, Responsibility]]] = defaultdict(list)
    successor = aliased(Item)
    for chunk in in_slices([item.id for item in items]):
        pairs = session.execute(
            select(
                item_predecessors.c.predecessor_id,
                successor.code,
                successor.title,
                successor.responsibility,
            )
            .join(successor, successor.id == item_predecessors.c.item_id)
            .where(
                item_predecessors.c.predecessor_id.in_(chunk),
                successor.status == Status.not_started,
            )
            .order_by(successor.sort_key)
        )
        for predecessor_id, code, title, side in pairs:
            blocked[predecessor_id].append((code, title, side))
    return blocked


@dataclass
class _Tally:
    items: int = 0
    complete: int = 0
    progress_points: int = 0

    def __post_init__(self) -> None:
        self.overdue: dict[Responsibility, int] = defaultdict(int)
        self.by_status: dict[Responsibility, dict[Status, int]] = defaultdict(
            lambda: defaultdict(int)
        )

    def add(self, other: _Tally) -> None:
        self.items += other.items
        self.complete += other.complete
        self.progress_points += other.progress_points
        for side, count in other.overdue.items():
            self.overdue[side] += count
        for side, statuses in other.by_status.items():
            for status, count in statuses.items():
                self.by_status[side][status] += count

    def progress(self) -> Progress:
        return Progress(
            items=self.items,
            complete=self.complete,
            percent_complete=round(self.progress_points / self.items, 1) if self.items else 0.0,
            overdue=SideCounts(
                vendor=self.overdue[Responsibility.vendor],
                municipality=self.overdue[Responsibility.municipality],
                joint=self.overdue[Responsibility.joint],
            ),
            by_status={
                side: StatusCounts.model_validate({s.value: n for s, n in statuses.items()})
                for side, statuses in sorted(self.by_status.items())
            },
        )


def _tallies(session: Session, scope: ReportScope, as_of: date) -> dict[int, _Tally]:
    """Per project: leaves (items without children) by side and status, with progress points."""
    child = aliased(Item)
    is_leaf = ~exists().where(child.parent_id == Item.id)
    points = case((Item.status.in_(CLOSED_STATUSES), 100), else_=Item.progress)
    late = case((overdue_clause(as_of), 1), else_=0)
    rows = session.execute(
        select(
            Item.project_id,
            Item.responsibility,
            Item.status,
            func.count(),
            func.sum(points),
            func.sum(late),
        )
        .where(scope.items(), is_leaf)
        .group_by(Item.project_id, Item.responsibility, Item.status)
    )
    tallies: dict[int, _Tally] = defaultdict(_Tally)
    for project_id, side, status, count, progress_points, overdue in rows:
        tally = tallies[project_id]
        tally.items += count
        tally.progress_points += int(progress_points or 0)
        tally.overdue[side] += int(overdue or 0)
        tally.by_status[side][status] += count
        if status in CLOSED_STATUSES:
            tally.complete += count
    return tallies


def progress_report(
    session: Session,
    scope: ReportScope,
    *,
    as_of: date,
    after_id: int = 0,
    limit: int | None = None,
) -> ProgressReport:
    """The totals and roll-ups of every project of the scope, with the rows of the projects after
    `after_id` (at most `limit` of them: one page)."""
    projects = list(session.scalars(scope.projects().order_by(Project.id)))
    listed = [project for project in projects if project.id > after_id]
    more = limit is not None and len(listed) > limit
    listed = listed[:limit]
    page = set(listed)
    tallies = _tallies(session, scope, as_of)
    overall = _Tally()
    groups: dict[str, dict[str, tuple[str, _Tally, set[int]]]] = {
        "municipalities": {},
        "vendors": {},
        "consortia": {},
    }
    project_rows = []
    for project in projects:
        tally = tallies.get(project.id, _Tally())
        overall.add(tally)
        if project in page:
            project_rows.append(
                ProjectProgress(
                    project=_ref(project),
                    municipality=_org(project.municipality),
                    vendor=_org(project.vendor),
                    **dict(tally.progress()),
                )
            )
        keys = [
            ("municipalities", project.municipality.code, project.municipality.name),
            ("vendors", project.vendor.code, project.vendor.name),
        ]
        if project.consortium:
            keys.append(("consortia", project.consortium, project.consortium))
        for group, key, name in keys:
            _, group_tally, members = groups[group].setdefault(key, (name, _Tally(), set()))
            group_tally.add(tally)
            members.add(project.id)
    return ProgressReport(
        as_of=as_of,
        overall=overall.progress(),
        projects=project_rows,
        next_cursor=id_cursor(listed[-1].id) if more else None,
        **{
            group: [
                RollUp(key=key, name=name, projects=len(members), **dict(tally.progress()))
                for key, (name, tally, members) in sorted(entries.items())
            ]
            for group, entries in groups.items()
        },
        next_milestones=_milestones(session, scope, as_of),
    )


def _milestones(session: Session, scope: ReportScope, as_of: date) -> list[Milestone]:
    items = session.scalars(
        select(Item)
        .where(
            scope.items(),
            Item.planned_start == Item.planned_end,
            Item.planned_end >= as_of,
            open_clause(),
        )
        .order_by(Item.planned_end, Item.project_id, Item.sort_key)
        .limit(MILESTONES)
    )
    return [
        Milestone(
            project_id=item.project_id,
            code=item.code,
            title=item.title,
            responsibility=item.responsibility,
            planned_end=item.planned_end or as_of,  # never None: the query filters on it
            status=item.status,
        )
        for item in items
    ]
