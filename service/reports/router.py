from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from starlette.responses import Response

from service.deps import CurrentCaller, SessionDep, Today
from service.errors import problem_responses
from service.fields import Day
from service.items.models import Responsibility
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
from service.tabular import (
    CSV_MEDIA_TYPE,
    XLSX_MEDIA_TYPE,
    Language,
    choose_format,
    to_csv,
    to_xlsx,
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
LimitQuery = Annotated[int, Query(ge=1, le=10_000, description="At most this many rows.")]

_TABLE_CONTENT: dict[str, Any] = {
    "text/csv": {
        "schema": {"type": "string"},
        "example": "\ufeff項番,作業項目\r\n3-2,データ抽出依頼\r\n",
    },
    XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
}


def _responses(*errors: int) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": _TABLE_CONTENT}, **problem_responses(*errors)}


def _overdue(report: OverdueReport, fmt: str | None, accept: str | None, lang: Language) -> Any:
    chosen = choose_format(fmt, accept)
    name = f"overdue-{report.as_of}"
    if chosen == "json":
        return report
    header, rows = tables.overdue_table(report, lang)
    if chosen == "csv":
        return _download(to_csv(header, rows), CSV_MEDIA_TYPE, f"{name}.csv")
    title = "期限超過" if lang == "ja" else "Overdue"
    return _download(to_xlsx([(title, header, rows)]), XLSX_MEDIA_TYPE, f"{name}.xlsx")


def _progress(report: ProgressReport, fmt: str | None, accept: str | None, lang: Language) -> Any:
    chosen = choose_format(fmt, accept)
    name = f"progress-{report.as_of}"
    if chosen == "json":
        return report
    sheets = tables.progress_tables(report, lang)
    if chosen == "csv":
        _, header, rows = sheets[0]
        return _download(to_csv(header, rows), CSV_MEDIA_TYPE, f"{name}.csv")
    return _download(to_xlsx(sheets), XLSX_MEDIA_TYPE, f"{name}.xlsx")


def _download(content: bytes, media_type: str, filename: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/reports/overdue", responses=_responses(401, 422, 429), response_model=OverdueReport)
def get_overdue_report(
    request: Request,
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
    limit: LimitQuery = 1000,
    format: FormatQuery = None,
    lang: LangQuery = "ja",
    accept: AcceptHeader = None,
) -> Any:
    """What is late, on whose side, and what it holds up, across every visible project.

    Open items whose planned end is before `as_of`, most overdue first, each with its
    successors that have not started (marked when they are the other side's). JSON by
    default; CSV or XLSX with `format=` or `Accept`.
    """
    scope = service.ReportScope(caller, None, municipality, vendor, consortium)
    report = service.overdue_report(
        session,
        scope,
        as_of=as_of or today,
        responsibility=responsibility,
        assignee=assignee,
        due_within=due_within,
        limit=limit,
    )
    return _overdue(report, format, accept, lang)


@router.get(
    "/projects/{project_id}/reports/overdue",
    responses=_responses(401, 404, 422, 429),
    response_model=OverdueReport,
)
def get_project_overdue_report(
    request: Request,
    project_id: ProjectIdPath,
    session: SessionDep,
    caller: CurrentCaller,
    today: Today,
    as_of: AsOf = None,
    responsibility: ResponsibilityQuery = None,
    assignee: AssigneeQuery = None,
    due_within: DueWithin = None,
    limit: LimitQuery = 1000,
    format: FormatQuery = None,
    lang: LangQuery = "ja",
    accept: AcceptHeader = None,
) -> Any:
    """What is late in one project, and what it holds up.

    The same report as across projects, for one project.
    """
    get_visible_project(session, caller, project_id)
    report = service.overdue_report(
        session,
        service.ReportScope(caller, project_id),
        as_of=as_of or today,
        responsibility=responsibility,
        assignee=assignee,
        due_within=due_within,
        limit=limit,
    )
    return _overdue(report, format, accept, lang)


@router.get("/reports/progress", responses=_responses(401, 422, 429), response_model=ProgressReport)
def get_progress_report(
    request: Request,
    session: SessionDep,
    caller: CurrentCaller,
    today: Today,
    as_of: AsOf = None,
    municipality: MunicipalityQuery = None,
    vendor: VendorQuery = None,
    consortium: ConsortiumQuery = None,
    format: FormatQuery = None,
    lang: LangQuery = "ja",
    accept: AcceptHeader = None,
) -> Any:
    """Progress and overdue counts per project, municipality, vendor and consortium.

    Counts leaves (items without children) by side and status; percent complete is their
    mean progress, each leaf weighing the same, done and not-applicable counting 100.
    """
    scope = service.ReportScope(caller, None, municipality, vendor, consortium)
    report = service.progress_report(session, scope, as_of=as_of or today)
    return _progress(report, format, accept, lang)


@router.get(
    "/projects/{project_id}/reports/progress",
    responses=_responses(401, 404, 422, 429),
    response_model=ProgressReport,
)
def get_project_progress_report(
    request: Request,
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
    return _progress(report, format, accept, lang)


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
