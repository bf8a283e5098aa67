from __future__ import annotations

import itertools
from collections.abc import Generator, Iterator
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from service.cursors import REPORT_CURSOR_PATTERN, report_position
from service.deps import CurrentCaller, SessionDep, Today
from service.errors import problem_responses
from service.fields import Day
from service.items.models import Responsibility
from service.pagination import MAX_LIMIT, after_id, link_next
from service.pagination import CursorQuery as IdCursorQuery
from service.params import (
    AssigneeQuery,
    ConsortiumQuery,
    MunicipalityQuery,
    ProjectIdPath,
    VendorQuery,
)
from service.projects.service import get_visible_project
from service.reports import national, service, tables
from service.reports.schemas import NationalProgressReport, OverdueReport, ProgressReport
from service.routing import OneThreadRoute
from service.streams import download, spooled
from service.tabular import (
    CSV_MEDIA_TYPE,
    XLSX_MEDIA_TYPE,
    Language,
    choose_format,
    csv_chunks,
    to_csv,
    to_xlsx,
    write_xlsx,
)

router = APIRouter(tags=["reports"], route_class=OneThreadRoute)

AsOf = Annotated[
    Day | None,
    Query(description="The day reports are computed for; default today in WBS_TIMEZONE."),
]
FormatQuery = Annotated[
    str | None,
    Query(pattern="^(json|csv|xlsx)$", description="json, csv or xlsx; overrides Accept."),
]
LangQuery = Annotated[Language, Query(description="Headers and words of CSV and XLSX: ja or en.")]
AcceptHeader = Annotated[str | None, Header(include_in_schema=False)]
ResponsibilityQuery = Annotated[Responsibility | None, Query(description="Only this side's items.")]
DueWithin = Annotated[
    int | None,
    Query(ge=1, le=365, description="Also list open items due within this many days (due soon)."),
]
LimitQuery = Annotated[
    int | None,
    Query(
        ge=1,
        le=10_000,
        description="JSON: rows a page holds (default 1,000). CSV and XLSX: at most this many "
        "rows (default: every row of the report).",
    ),
]
CursorQuery = Annotated[
    str | None,
    Query(
        max_length=1700,
        description="The `next_cursor` of the previous page; omit for the first. CSV and XLSX "
        "start after it too.",
        json_schema_extra={"pattern": REPORT_CURSOR_PATTERN},
        examples=["739706.12.30303030303030303033.812"],
    ),
]
ProgressLimitQuery = Annotated[
    int | None,
    Query(
        ge=1,
        le=MAX_LIMIT,
        description="JSON: projects a page holds (default: every project). The totals and "
        "roll-ups are always of every project.",
    ),
]
JSON_PAGE = 1000

_TABLE_CONTENT: dict[str, Any] = {
    "text/csv": {
        "schema": {"type": "string"},
        "example": "\ufeff項番,作業項目\r\n3-2,データ抽出依頼\r\n",
    },
    XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
}


def _responses(*errors: int) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": _TABLE_CONTENT}, **problem_responses(*errors)}


def _overdue(
    request: Request,
    response: Response,
    session: Session,
    selection: service.OverdueSelection,
    page: tuple[str | None, int | None],
    fmt: str | None,
    accept: str | None,
    lang: Language,
) -> Any:
    """The report as JSON (one page), or every row after the cursor as a download, streamed."""
    cursor, limit = page
    chosen = choose_format(fmt, accept)
    name = f"overdue-{selection.as_of}"
    if chosen == "json":
        report = service.overdue_page(session, selection, cursor=cursor, limit=limit or JSON_PAGE)
        link_next(request, response, report.next_cursor)
        return report
    if cursor is not None:
        report_position(cursor)  # refused now, not halfway through the download
    header = tables.overdue_header(lang)

    def lines(own: Session) -> Iterator[Iterator[list[object]]]:
        for rows in service.overdue_pages(own, selection, cursor=cursor, limit=limit):
            yield tables.overdue_lines(rows, lang)

    if chosen == "csv":
        return download(
            request, lambda own: csv_chunks(header, lines(own)), CSV_MEDIA_TYPE, f"{name}.csv"
        )
    title = "期限超過" if lang == "ja" else "Overdue"

    def workbook(own: Session) -> Generator[bytes]:
        every = itertools.chain.from_iterable(lines(own))
        return spooled(lambda file: write_xlsx([(title, header, every)], file))

    return download(request, workbook, XLSX_MEDIA_TYPE, f"{name}.xlsx")


def _progress(
    request: Request,
    response: Response,
    report: ProgressReport,
    fmt: str | None,
    accept: str | None,
    lang: Language,
) -> Any:
    chosen = choose_format(fmt, accept)
    name = f"progress-{report.as_of}"
    if chosen == "json":
        link_next(request, response, report.next_cursor)
        return report
    sheets = tables.progress_tables(report, lang)
    if chosen == "csv":
        _, header, rows = sheets[0]
        return _download(to_csv(header, rows), CSV_MEDIA_TYPE, f"{name}.csv")
    return _download(to_xlsx(sheets), XLSX_MEDIA_TYPE, f"{name}.xlsx")


def _progress_report(
    session: Session,
    scope: service.ReportScope,
    day: date,
    fmt: str | None,
    accept: str | None,
    page: tuple[str | None, int | None],
) -> ProgressReport:
    cursor, limit = page
    if choose_format(fmt, accept) != "json":
        cursor, limit = None, None  # a download holds every project
    return service.progress_report(
        session, scope, as_of=day, after_id=after_id(cursor), limit=limit
    )


def _download(content: bytes, media_type: str, filename: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/reports/overdue", responses=_responses(401, 422, 429), response_model=OverdueReport)
def get_overdue_report(
    request: Request,
    response: Response,
    session: SessionDep,
    caller: CurrentCaller,
    today: Today,
    as_of: AsOf = None,
    responsibility: ResponsibilityQuery = None,
    assignee: AssigneeQuery = None,
    municipality: MunicipalityQuery = None,
    vendor: VendorQuery = None,
    consortium: ConsortiumQuery = None,
    due_within: DueWithin = None,
    limit: LimitQuery = None,
    cursor: CursorQuery = None,
    format: FormatQuery = None,
    lang: LangQuery = "ja",
    accept: AcceptHeader = None,
) -> Any:
    """What is late, on whose side, and what it holds up, across every visible project.

    Open items whose planned end is before `as_of`, most overdue first, each with its
    successors that have not started (marked when they are the other side's). JSON by
    default, a page at a time: follow `next_cursor` (also sent as a `Link: rel="next"`
    header) for the rest. CSV or XLSX with `format=` or `Accept`: every row of the report in
    one download, written while it is sent.
    """
    scope = service.ReportScope(caller, None, municipality, vendor, consortium)
    selection = service.OverdueSelection(
        scope, as_of or today, responsibility, assignee, due_within
    )
    return _overdue(request, response, session, selection, (cursor, limit), format, accept, lang)


@router.get(
    "/projects/{project_id}/reports/overdue",
    responses=_responses(401, 404, 422, 429),
    response_model=OverdueReport,
)
def get_project_overdue_report(
    request: Request,
    response: Response,
    project_id: ProjectIdPath,
    session: SessionDep,
    caller: CurrentCaller,
    today: Today,
    as_of: AsOf = None,
    responsibility: ResponsibilityQuery = None,
    assignee: AssigneeQuery = None,
    due_within: DueWithin = None,
    limit: LimitQuery = None,
    cursor: CursorQuery = None,
    format: FormatQuery = None,
    lang: LangQuery = "ja",
    accept: AcceptHeader = None,
) -> Any:
    """What is late in one project, and what it holds up.

    The same report as across projects, for one project.
    """
    get_visible_project(session, caller, project_id)
    scope = service.ReportScope(caller, project_id)
    selection = service.OverdueSelection(
        scope, as_of or today, responsibility, assignee, due_within
    )
    return _overdue(request, response, session, selection, (cursor, limit), format, accept, lang)


@router.get("/reports/progress", responses=_responses(401, 422, 429), response_model=ProgressReport)
def get_progress_report(
    request: Request,
    response: Response,
    session: SessionDep,
    caller: CurrentCaller,
    today: Today,
    as_of: AsOf = None,
    municipality: MunicipalityQuery = None,
    vendor: VendorQuery = None,
    consortium: ConsortiumQuery = None,
    limit: ProgressLimitQuery = None,
    cursor: IdCursorQuery = None,
    format: FormatQuery = None,
    lang: LangQuery = "ja",
    accept: AcceptHeader = None,
) -> Any:
    """Progress and overdue counts per project, municipality, vendor and consortium.

    Counts leaves (items without children) by side and status; percent complete is their
    mean progress, each leaf weighing the same, done and not-applicable counting 100. With
    `limit`, the projects come a page at a time (follow `next_cursor`); CSV and XLSX hold
    every project.
    """
    scope = service.ReportScope(caller, None, municipality, vendor, consortium)
    report = _progress_report(session, scope, as_of or today, format, accept, (cursor, limit))
    return _progress(request, response, report, format, accept, lang)


@router.get(
    "/projects/{project_id}/reports/progress",
    responses=_responses(401, 404, 422, 429),
    response_model=ProgressReport,
)
def get_project_progress_report(
    request: Request,
    response: Response,
    project_id: ProjectIdPath,
    session: SessionDep,
    caller: CurrentCaller,
    today: Today,
    as_of: AsOf = None,
    format: FormatQuery = None,
    lang: LangQuery = "ja",
    accept: AcceptHeader = None,
) -> Any:
    """Progress of one project.

    The same report as across projects, for one project.
    """
    get_visible_project(session, caller, project_id)
    report = service.progress_report(
        session, service.ReportScope(caller, project_id), as_of=as_of or today
    )
    return _progress(request, response, report, format, accept, lang)


@router.get(
    "/reports/national-progress",
    responses=_responses(401, 422, 429),
    response_model=NationalProgressReport,
)
def get_national_progress_report(
    request: Request,
    session: SessionDep,
    caller: CurrentCaller,
    municipality: MunicipalityQuery = None,
    vendor: VendorQuery = None,
    consortium: ConsortiumQuery = None,
    format: FormatQuery = None,
    lang: LangQuery = "ja",
    accept: AcceptHeader = None,
) -> Any:
    """The national PMO's progress layout (業務別ステップ別進捗一覧), across every visible project.

    One row per municipality × business: prefecture, municipality, business, the state of each
    of the procedure's 40 steps (完了済み / 作業中 / 未着手 / 対象外), rolled up from the items
    that carry the step, and the completion rate, (complete + not applicable) / 40. An item's
    business is its own or else the one its project's name names. JSON by default; CSV (UTF-8
    with BOM) or XLSX with `format=` or `Accept`.
    """
    scope = service.ReportScope(caller, None, municipality, vendor, consortium)
    report = national.national_progress(session, scope)
    chosen = choose_format(format, accept)
    if chosen == "json":
        return report
    header, rows = tables.national_table(report, lang)
    if chosen == "csv":
        return _download(to_csv(header, rows), CSV_MEDIA_TYPE, "national-progress.csv")
    sheet = (tables.NATIONAL_TITLE[lang], header, rows)
    return _download(to_xlsx([sheet]), XLSX_MEDIA_TYPE, "national-progress.xlsx")
