"""One-click downloads: the reports as the API writes them, in the reader's language."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Path, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from service.clock import today
from service.config import Settings
from service.reports import tables
from service.reports.national import national_progress
from service.reports.service import ReportScope, overdue_report, progress_report
from service.tabular import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, Language, to_csv, to_xlsx
from service.web.browser import preferences

ReportPath = Annotated[str, Path(pattern="^(progress|overdue|national-progress)$")]
ExtensionPath = Annotated[str, Path(pattern="^(xlsx|csv)$")]
# The API's own cap on a report's rows.
REPORT_ROWS = 10_000


def attachment(content: bytes, media_type: str, ascii_name: str, name: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{ascii_name}"; '
            f"filename*=UTF-8''{quote(name)}",
            "Cache-Control": "no-store",
        },
    )


def table_download(
    request: Request, session: Session, scope: ReportScope, report: str, extension: str
) -> Response:
    settings: Settings = request.app.state.settings
    lang = preferences(request).lang
    day = today(settings.zone)
    name = f"{report}-{day}.{extension}"
    if report == "national-progress":
        return _national(session, scope, lang, extension, name)
    if report == "overdue":
        found = overdue_report(session, scope, as_of=day, limit=REPORT_ROWS)
        header, rows = tables.overdue_table(found, lang)
        title = "期限超過" if lang == "ja" else "Overdue"
        if extension == "csv":
            return attachment(to_csv(header, rows), CSV_MEDIA_TYPE, name, name)
        return attachment(to_xlsx([(title, header, rows)]), XLSX_MEDIA_TYPE, name, name)
    sheets = tables.progress_tables(progress_report(session, scope, as_of=day), lang)
    if extension == "csv":
        _, header, table = sheets[0]
        return attachment(to_csv(header, table), CSV_MEDIA_TYPE, name, name)
    return attachment(to_xlsx(sheets), XLSX_MEDIA_TYPE, name, name)


def _national(
    session: Session, scope: ReportScope, lang: Language, extension: str, name: str
) -> Response:
    header, rows = tables.national_table(national_progress(session, scope), lang)
    if extension == "csv":
        return attachment(to_csv(header, rows), CSV_MEDIA_TYPE, name, name)
    sheet = (tables.NATIONAL_TITLE[lang], header, rows)
    return attachment(to_xlsx([sheet]), XLSX_MEDIA_TYPE, name, name)
