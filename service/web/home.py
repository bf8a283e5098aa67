"""Home: what is late on our side and what it holds up, what is due, what the other side owes
us, what changed; and the overview across projects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from service.changes import feed
from service.changes.models import ChangeEvent
from service.clock import today
from service.config import Settings
from service.fields import Day
from service.items.models import Responsibility
from service.organisations.models import Organisation, OrgKind
from service.projects.models import Project
from service.reports.schemas import OverdueRow
from service.reports.service import ReportScope, overdue_report, progress_report
from service.web.browser import Caller, CurrentPerson, PageRoute, Person, SessionDep
from service.web.downloads import ExtensionPath, ReportPath, table_download
from service.web.render import page

router = APIRouter(route_class=PageRoute, include_in_schema=False)

DUE_WITHIN_DAYS = 14
LIST_LIMIT = 200
CHANGES_SHOWN = 20
FEED_PAGE = 50
# Without a previous visit, "what changed" looks back this far.
FIRST_VISIT_DAYS = 7

_OURS = {
    OrgKind.municipality: (Responsibility.municipality, Responsibility.joint),
    OrgKind.vendor: (Responsibility.vendor, Responsibility.joint),
}
_THEIRS = {
    OrgKind.municipality: Responsibility.vendor,
    OrgKind.vendor: Responsibility.municipality,
}


def as_of(request: Request) -> date:
    settings: Settings = request.app.state.settings
    return today(settings.zone)


@dataclass
class HomeLists:
    overdue: list[OverdueRow]
    due_soon: list[OverdueRow]
    theirs_late: list[OverdueRow]
    truncated: bool


def _home_lists(session: Session, caller: Caller, day: date) -> HomeLists:
    scope = ReportScope(caller)
    ours: list[OverdueRow] = []
    truncated = False
    for side in _OURS[caller.organisation_kind]:
        report = overdue_report(
            session,
            scope,
            as_of=day,
            responsibility=side,
            due_within=DUE_WITHIN_DAYS,
            limit=LIST_LIMIT,
        )
        ours.extend(report.rows)
        truncated = truncated or report.next_cursor is not None
    ours.sort(key=lambda row: (row.planned_end, row.project.id, row.code))
    theirs = overdue_report(
        session,
        scope,
        as_of=day,
        responsibility=_THEIRS[caller.organisation_kind],
        limit=LIST_LIMIT,
    )
    return HomeLists(
        overdue=[row for row in ours if row.state == "overdue"],
        due_soon=[row for row in ours if row.state == "due_soon"],
        theirs_late=theirs.rows,
        truncated=truncated or theirs.next_cursor is not None,
    )


@dataclass(frozen=True)
class Change:
    event: feed.FeedEvent
    who: str


def position_before(session: Session, instant: datetime) -> int:
    """The feed position just before the first event at or after this instant."""
    first = session.scalar(
        select(func.min(ChangeEvent.seq)).where(ChangeEvent.occurred_at >= instant)
    )
    if first is not None:
        return first - 1
    return session.scalar(select(func.max(ChangeEvent.seq))) or 0


def changes_after(
    session: Session, caller: Caller, after: int, selection: feed.FeedFilter, limit: int
) -> tuple[list[Change], bool]:
    """Events the caller may see, from the change feed, each naming its organisation."""
    events, more = feed.read_feed(session, caller, after, selection, limit)
    ids = {event.actor_organisation_id for event in events} - {None}
    found = session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids))
    )
    names: dict[int, str] = dict(found.all())
    changes = []
    for event in events:
        token_name = event.actor_label.partition("/")[2] or event.actor_label
        organisation = names.get(event.actor_organisation_id or 0)
        who = f"{organisation}（{token_name}）" if organisation else token_name
        changes.append(Change(event, who))
    return changes, more


def project_names(session: Session, ids: set[int]) -> dict[int, str]:
    rows = session.execute(
        select(Project.id, Organisation.name, Project.name)
        .join(Organisation, Organisation.id == Project.municipality_id)
        .where(Project.id.in_(ids))
    )
    return {project_id: f"{town} {name}" for project_id, town, name in rows}


def _changes_start(
    session: Session, request: Request, person: Person, since: date | None
) -> tuple[int, date | None]:
    settings: Settings = request.app.state.settings
    if since is not None:
        start = datetime.combine(since, time(), settings.zone)
        return position_before(session, start), since
    if person.changes_since is not None:
        return person.changes_since, None
    start = datetime.combine(
        as_of(request) - timedelta(days=FIRST_VISIT_DAYS), time(), settings.zone
    )
    return position_before(session, start), start.date()


@router.get("/")
def home(
    request: Request,
    session: SessionDep,
    person: CurrentPerson,
    since: Annotated[Day | None, Query()] = None,
    done: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    if person.caller.is_pmo:
        return RedirectResponse("/overview", status_code=303)
    day = as_of(request)
    lists = _home_lists(session, person.caller, day)
    after, since_day = _changes_start(session, request, person, since)
    changes, more = changes_after(session, person.caller, after, feed.FeedFilter(), CHANGES_SHOWN)
    names = project_names(
        session,
        {row.project.id for row in lists.overdue + lists.due_soon + lists.theirs_late}
        | {change.event.project_id for change in changes},
    )
    return page(
        request,
        "home.html",
        person=person,
        as_of=day,
        lists=lists,
        changes=changes,
        more_changes=more,
        changes_after=after,
        since_day=since_day,
        previous_visit=person.signed_in.previous_visit_at if since is None else None,
        names=names,
        done=done,
        due_within=DUE_WITHIN_DAYS,
    )


@router.get("/changes")
def changes_page(
    request: Request,
    session: SessionDep,
    person: CurrentPerson,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> Response:
    changes, more = changes_after(session, person.caller, after, feed.FeedFilter(), FEED_PAGE)
    names = project_names(session, {change.event.project_id for change in changes})
    return page(
        request,
        "changes.html",
        person=person,
        changes=changes,
        more_changes=more,
        after=after,
        next_after=changes[-1].event.seq if changes else after,
        names=names,
    )


OVERVIEW_WORST = 10


def _overview_scope(
    caller: Caller, municipality: str | None, vendor: str | None, consortium: str | None
) -> ReportScope:
    return ReportScope(caller, None, municipality or None, vendor or None, consortium or None)


FilterQuery = Annotated[str | None, Query(max_length=200)]


@router.get("/overview")
def overview(
    request: Request,
    session: SessionDep,
    person: CurrentPerson,
    municipality: FilterQuery = None,
    vendor: FilterQuery = None,
    consortium: FilterQuery = None,
) -> Response:
    day = as_of(request)
    scope = _overview_scope(person.caller, municipality, vendor, consortium)
    progress = progress_report(session, scope, as_of=day)
    worst = overdue_report(session, scope, as_of=day, limit=OVERVIEW_WORST)
    everything = progress_report(session, ReportScope(person.caller), as_of=day)
    return page(
        request,
        "overview.html",
        person=person,
        as_of=day,
        report=progress,
        worst=worst,
        choices=everything,
        chosen={"municipality": municipality, "vendor": vendor, "consortium": consortium},
    )


@router.get("/overview/{report}.{extension}")
def overview_download(
    request: Request,
    session: SessionDep,
    person: CurrentPerson,
    report: ReportPath,
    extension: ExtensionPath,
    municipality: FilterQuery = None,
    vendor: FilterQuery = None,
    consortium: FilterQuery = None,
) -> Response:
    scope = _overview_scope(person.caller, municipality, vendor, consortium)
    return table_download(request, session, scope, report, extension)
