"""A project: its progress per side, its items, one item with its history, the Gantt chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Path, Query, Request
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from service.access import may_change
from service.changes import feed
from service.changes.service import Actor
from service.errors import Forbidden, PreconditionFailed, Unprocessable
from service.exports.service import export_workbook
from service.fields import Day
from service.items.codes import CODE_PATTERN
from service.items.models import CLOSED_STATUSES, Item, Responsibility, Status
from service.items.schemas import ItemRead, ItemUpdate
from service.items.service import ItemFilters, list_items, read_item, update_item
from service.params import ProjectIdPath
from service.projects.models import Project
from service.projects.service import get_visible_project
from service.reports.schemas import Progress
from service.reports.service import ReportScope, progress_report
from service.tabular import XLSX_MEDIA_TYPE
from service.web import gantt
from service.web.browser import (
    CheckedForm,
    CurrentPerson,
    LongPageRoute,
    PageRoute,
    Person,
    SessionDep,
    WritingPerson,
    local_path,
)
from service.web.downloads import ExtensionPath, ReportPath, attachment, table_download
from service.web.home import as_of, changes_after
from service.web.render import PAGE_HEADERS, Words, label, page, words_for

router = APIRouter(route_class=PageRoute, include_in_schema=False)
long_router = APIRouter(route_class=LongPageRoute, include_in_schema=False)

PAGE_SIZE = 200
HISTORY_SHOWN = 100
GANTT_LIMIT = 10_000
CodePath = Annotated[str, Path(pattern=CODE_PATTERN)]
# The fields a person updates on an item's page, in the form's order.
PROGRESS_FORM = ("status", "progress", "actual_start", "actual_end", "assignee")


@dataclass(frozen=True)
class SideProgress:
    side: Responsibility
    leaves: int
    complete: int
    open: int
    overdue: int

    @property
    def rate(self) -> float:
        return round(100 * self.complete / self.leaves, 1) if self.leaves else 0.0


def side_progress(progress: Progress) -> list[SideProgress]:
    rows = []
    for side in Responsibility:
        counts = progress.by_status.get(side)
        if counts is None:
            continue
        by_status = counts.model_dump()
        leaves = sum(by_status.values())
        complete = sum(by_status[status.value] for status in CLOSED_STATUSES)
        rows.append(
            SideProgress(side, leaves, complete, leaves - complete, getattr(progress.overdue, side))
        )
    return rows


def national_rate(progress: Progress) -> float:
    """(done + not applicable) / all leaves: the completion rate as the 総務省 dashboard counts."""
    return round(100 * progress.complete / progress.items, 1) if progress.items else 0.0


def hierarchy(session: Session, project_id: int) -> tuple[dict[int, int], set[int]]:
    """Each item's depth in the WBS, and the items that have children."""
    rows = session.execute(select(Item.id, Item.parent_id).where(Item.project_id == project_id))
    parent_of: dict[int, int | None] = dict(rows.all())
    depths: dict[int, int] = {}

    def depth(item_id: int) -> int:
        chain: list[int] = []
        current = item_id
        while current not in depths:
            parent = parent_of.get(current)
            if parent is None or parent in chain or len(chain) > 64:
                depths[current] = 0
                break
            chain.append(current)
            current = parent
        for node in reversed(chain):
            depths[node] = depths[parent_of[node] or node] + 1
        return depths[item_id]

    for item_id in parent_of:
        depth(item_id)
    return depths, {parent for parent in parent_of.values() if parent is not None}


def _project_progress(session: Session, person: Person, project: Project, day: date) -> Progress:
    report = progress_report(session, ReportScope(person.caller, project.id), as_of=day)
    return report.projects[0] if report.projects else report.overall


OverdueChoice = Annotated[str, Query(pattern="^(|yes|no)$")]
TextQuery = Annotated[str, Query(max_length=200)]


@router.get("/projects/{project_id}")
def project_page(
    request: Request,
    project_id: ProjectIdPath,
    session: SessionDep,
    person: CurrentPerson,
    responsibility: Annotated[Responsibility | None, Query()] = None,
    status: Annotated[list[Status], Query()] = [],  # noqa: B006 - copied per request
    overdue: OverdueChoice = "",
    assignee: TextQuery = "",
    q: TextQuery = "",
    due_after: Annotated[Day | None, Query()] = None,
    due_before: Annotated[Day | None, Query()] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    project = get_visible_project(session, person.caller, project_id)
    day = as_of(request)
    filters = ItemFilters(
        as_of=day,
        responsibility=responsibility,
        statuses=tuple(status),
        assignee=assignee.strip() or None,
        overdue={"yes": True, "no": False}.get(overdue),
        due_before=due_before,
        due_after=due_after,
        text=q.strip() or None,
    )
    items, next_cursor = list_items(session, project, filters, cursor=cursor, limit=PAGE_SIZE)
    depths, parents = hierarchy(session, project.id)
    progress = _project_progress(session, person, project, day)
    chosen: dict[str, Any] = {
        "responsibility": responsibility.value if responsibility else "",
        "status": [s.value for s in status],
        "overdue": overdue,
        "assignee": assignee,
        "q": q,
        "due_after": due_after.isoformat() if due_after else "",
        "due_before": due_before.isoformat() if due_before else "",
    }
    query = [(k, v) for k, v in chosen.items() if v and k != "status"]
    query += [("status", s) for s in chosen["status"]]
    return page(
        request,
        "project.html",
        person=person,
        project=project,
        as_of=day,
        progress=progress,
        sides=side_progress(progress),
        rate=national_rate(progress),
        items=items,
        depths=depths,
        parents=parents,
        chosen=chosen,
        filtered=bool(query),
        next_link=f"?{urlencode([*query, ('cursor', next_cursor)])}" if next_cursor else None,
        statuses=list(Status),
        sides_all=list(Responsibility),
    )


def _owned(person: Person, item: ItemRead) -> dict[str, bool]:
    kind = person.caller.organisation_kind
    return {
        field: not person.read_only and may_change(kind, item.responsibility, field)
        for field in (*PROGRESS_FORM, "notes")
    }


def _owner_words(item: ItemRead) -> tuple[str, str]:
    return {
        Responsibility.vendor: ("ベンダー", "the vendor"),
        Responsibility.municipality: ("自治体", "the municipality"),
        Responsibility.joint: ("ベンダーと自治体", "the vendor and the municipality"),
    }[item.responsibility]


def _item_page(
    request: Request,
    session: SessionDep,
    person: Person,
    project: Project,
    item: ItemRead,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    problem: tuple[str, str] | None = None,
    values: dict[str, Any] | None = None,
    saved: bool = False,
    after: int = 0,
) -> Response:
    history, more = changes_after(
        session,
        person.caller,
        after,
        feed.FeedFilter(project.id, item_code=item.code),
        HISTORY_SHOWN,
    )
    return page(
        request,
        "item.html",
        person=person,
        status=status,
        project=project,
        item=item,
        owned=_owned(person, item),
        owner=_owner_words(item),
        history=history,
        more_history=more,
        next_after=history[-1].event.seq if history else after,
        errors=errors or {},
        problem=problem,
        values=values or {},
        saved=saved,
        statuses=list(Status),
        as_of=as_of(request),
    )


@router.get("/projects/{project_id}/items/{code}")
def item_page(
    request: Request,
    project_id: ProjectIdPath,
    code: CodePath,
    session: SessionDep,
    person: CurrentPerson,
    saved: bool = False,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> Response:
    project = get_visible_project(session, person.caller, project_id)
    item = read_item(session, project, code, as_of(request))
    return _item_page(request, session, person, project, item, saved=saved, after=after)


def _sent(form: dict[str, str | None]) -> dict[str, Any]:
    """What the form sent, as the API's update takes it: an empty box clears the field.

    Fields the page did not offer are passed on as they came: the API's rule refuses them.
    """
    sent: dict[str, Any] = {}
    for field, value in form.items():
        if value is None:
            continue
        text = value.strip()
        if field == "progress":
            if text:
                sent[field] = int(text) if text.isdigit() else text
        elif field == "status":
            if text:
                sent[field] = text
        else:
            sent[field] = text or None
    return sent


_ERROR_WORDS = {
    "int_parsing": (
        "0から100までの整数で入力してください。",
        "Enter a whole number from 0 to 100.",
    ),
    "int_type": ("0から100までの整数で入力してください。", "Enter a whole number from 0 to 100."),
    "greater_than_equal": ("0以上の数を入力してください。", "Enter 0 or more."),
    "less_than_equal": ("100以下の数を入力してください。", "Enter 100 or less."),
    "date_order": ("終了日が開始日より前になっています。", "The end is before the start."),
    "string_too_long": ("長すぎます。", "Too long."),
    "value_error": ("日付は年-月-日で入力してください。", "Enter a day as year-month-day."),
    "enum": ("一覧から選んでください。", "Choose from the list."),
}


def _field_errors(errors: list[tuple[str, str, str]], lang: str) -> dict[str, str]:
    """Each rejected field's message, in words the reader understands."""
    found: dict[str, str] = {}
    for field, kind, message in errors:
        ja, en = _ERROR_WORDS.get(kind, ("入力内容を確認してください。", message))
        found.setdefault(field, ja if lang == "ja" else en)
    return found


@router.post("/projects/{project_id}/items/{code}", dependencies=[CheckedForm])
def update_item_page(
    request: Request,
    project_id: ProjectIdPath,
    code: CodePath,
    session: SessionDep,
    person: WritingPerson,
    version: Annotated[int, Form(ge=1)],
    status: Annotated[str | None, Form(max_length=20)] = None,
    progress: Annotated[str | None, Form(max_length=10)] = None,
    actual_start: Annotated[str | None, Form(max_length=20)] = None,
    actual_end: Annotated[str | None, Form(max_length=20)] = None,
    assignee: Annotated[str | None, Form(max_length=400)] = None,
    notes: Annotated[str | None, Form(max_length=20_000)] = None,
) -> Response:
    project = get_visible_project(session, person.caller, project_id)
    day = as_of(request)
    item = read_item(session, project, code, day)
    lang = words_for(request).prefs.lang
    form = {
        "status": status,
        "progress": progress,
        "actual_start": actual_start,
        "actual_end": actual_end,
        "assignee": assignee,
        "notes": notes,
    }
    values = {k: v for k, v in form.items() if v is not None}
    try:
        data = ItemUpdate.model_validate(_sent(form))
        update_item(
            session, project, Actor.of(person.caller), item.code, data, if_match=f'"v{version}"'
        )
    except ValidationError as error:
        found = [(str(e["loc"][0]), e["type"], e["msg"]) for e in error.errors()]
        errors = _field_errors(found, lang)
        return _item_page(
            request, session, person, project, item, status=422, errors=errors, values=values
        )
    except Unprocessable as error:
        session.rollback()
        found = [(e.field, e.type, e.message) for e in error.errors or []]
        errors = _field_errors(found, lang)
        return _item_page(
            request, session, person, project, item, status=422, errors=errors, values=values
        )
    except Forbidden as error:
        session.rollback()
        fields = [label(field, lang) for field in error.extra.get("fields", [])]
        side = _owner_words(item)
        problem = (
            f"{'、'.join(fields)} は{side[0]}が更新する項目のため、変更できません。",
            f"{', '.join(fields)} can be changed only by {side[1]}.",
        )
        return _item_page(
            request, session, person, project, item, status=403, problem=problem, values=values
        )
    except PreconditionFailed:
        session.rollback()
        current = read_item(session, project, code, day)
        problem = (
            "この項目は、表示している間にほかの人が更新しました。最新の内容を表示しています。"
            "変更を確認して、もう一度保存してください。",
            "Someone else changed this item while you had it open. Its current values are "
            "shown: check your change and save it again.",
        )
        return _item_page(request, session, person, project, current, status=409, problem=problem)
    location = f"/projects/{project.id}/items/{quote(item.code, safe='')}?saved=true"
    return RedirectResponse(location, status_code=303)


@router.post("/projects/{project_id}/items/{code}/done", dependencies=[CheckedForm])
def mark_done(
    request: Request,
    project_id: ProjectIdPath,
    code: CodePath,
    session: SessionDep,
    person: WritingPerson,
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """The one-click "done" of the home page: status, progress and the day it ended."""
    project = get_visible_project(session, person.caller, project_id)
    day = as_of(request)
    item = read_item(session, project, code, day)
    changes: dict[str, Any] = {"status": Status.done, "progress": 100}
    if item.actual_end is None:
        changes["actual_end"] = max(day, item.actual_start or day)
    update_item(session, project, Actor.of(person.caller), item.code, ItemUpdate(**changes))
    target = local_path(next)
    separator = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{separator}done={quote(item.code, safe='')}", status_code=303)


def _chart_words(
    words: Words, project: Project, count: int, late: int, *, truncated: bool
) -> gantt.ChartWords:
    letters = {
        Responsibility.vendor: words("ベ", "V"),
        Responsibility.municipality: words("自", "M"),
        Responsibility.joint: words("共", "J"),
    }

    def month(day: date) -> str:
        return words.month(day, with_year=day.month in (1, 4))

    title = words(
        f"{project.municipality.name} {project.name} のガントチャート",
        f"Gantt chart of {project.municipality.name} {project.name}",
    )
    description = words(
        f"作業{count}件を予定期間の横棒で示します。期限超過{late}件。"
        "同じ内容は項目一覧の表でも読めます。",
        f"{count} items as bars over their planned dates; {late} overdue. "
        "The same is in the items table.",
    ) + (
        words(f"（先頭の{GANTT_LIMIT:,}件のみ）", f" (the first {GANTT_LIMIT:,} only)")
        if truncated
        else ""
    )
    return gantt.ChartWords(
        side_letter=lambda side: letters[side],
        month=month,
        today=words("今日", "Today"),
        overdue=words("期限超過", "Overdue"),
        unscheduled=words("日程未定", "No dates"),
        title=title,
        description=description,
        legend=(
            ("v", words("[ベ] ベンダー", "[V] Vendor")),
            ("m", words("[自] 自治体", "[M] Municipality")),
            ("j", words("[共] 共同", "[J] Joint")),
            ("s", words("大項目・中項目", "Group")),
        ),
    )


def _chart(request: Request, session: SessionDep, person: Person, project: Project) -> str:
    day = as_of(request)
    # A WBS past the limit is drawn as far as it; the description says so.
    items, beyond = list_items(
        session, project, ItemFilters(as_of=day), cursor=None, limit=GANTT_LIMIT
    )
    depths, parents = hierarchy(session, project.id)
    words = words_for(request)
    late = sum(item.overdue for item in items)
    chart_words = _chart_words(words, project, len(items), late, truncated=beyond is not None)
    return gantt.render_gantt(items, depths, parents, day, chart_words)


@router.get("/projects/{project_id}/gantt")
def gantt_page(
    request: Request, project_id: ProjectIdPath, session: SessionDep, person: CurrentPerson
) -> Response:
    project = get_visible_project(session, person.caller, project_id)
    chart = _chart(request, session, person, project)
    csp = PAGE_HEADERS["Content-Security-Policy"].replace(
        "style-src 'self'", f"style-src 'self' '{gantt.STYLE_HASH}'"
    )
    return page(
        request,
        "gantt.html",
        person=person,
        project=project,
        chart=chart,
        headers={"Content-Security-Policy": csp},
    )


@router.get("/projects/{project_id}/gantt.svg")
def gantt_download(
    request: Request, project_id: ProjectIdPath, session: SessionDep, person: CurrentPerson
) -> Response:
    project = get_visible_project(session, person.caller, project_id)
    chart = _chart(request, session, person, project)
    return Response(
        chart,
        media_type="image/svg+xml",
        headers={
            "Content-Disposition": f'inline; filename="gantt-{project.id}.svg"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@long_router.get("/projects/{project_id}/wbs.xlsx")
def wbs_download(
    request: Request, project_id: ProjectIdPath, session: SessionDep, person: CurrentPerson
) -> Response:
    project = get_visible_project(session, person.caller, project_id)
    lang = words_for(request).prefs.lang
    name = f"WBS_{project.municipality.name}_{project.name}.xlsx"
    return attachment(
        export_workbook(session, project, lang), XLSX_MEDIA_TYPE, f"wbs-{project.id}.xlsx", name
    )


@router.get("/projects/{project_id}/reports/{report}.{extension}")
def report_download(
    request: Request,
    project_id: ProjectIdPath,
    report: ReportPath,
    extension: ExtensionPath,
    session: SessionDep,
    person: CurrentPerson,
) -> Response:
    project = get_visible_project(session, person.caller, project_id)
    scope = ReportScope(person.caller, project.id)
    return table_download(request, session, scope, report, extension)
