from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Header, Query
from starlette.responses import Response

from service.deps import CurrentCaller, SessionDep
from service.errors import problem_responses
from service.exports.service import export_workbook
from service.params import ProjectIdPath
from service.projects.service import get_visible_project
from service.routing import LongWorkRoute
from service.tabular import XLSX_MEDIA_TYPE, Language

router = APIRouter(tags=["exports"], route_class=LongWorkRoute)
OCTET_STREAM = "application/octet-stream"


def _media_type(accept: str | None) -> str:
    """The workbook's own type, unless the client asks only for bytes."""
    wanted = (accept or "").lower()
    return (
        OCTET_STREAM
        if OCTET_STREAM in wanted and XLSX_MEDIA_TYPE not in wanted
        else XLSX_MEDIA_TYPE
    )


@router.get(
    "/projects/{project_id}/export.xlsx",
    response_class=Response,
    responses={
        200: {
            # Also as plain bytes, for clients (and their generators) that know no workbook type.
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}}
                for media in (XLSX_MEDIA_TYPE, OCTET_STREAM)
            },
            "description": "The workbook; `application/octet-stream` when that is what the "
            "client's Accept asks for, the same bytes.",
        },
        **problem_responses(401, 404, 422, 429),
    },
)
def export_project(
    project_id: ProjectIdPath,
    session: SessionDep,
    caller: CurrentCaller,
    lang: Annotated[Language, Query(description="Headers and words: ja or en.")] = "ja",
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """The project's WBS as an Excel workbook that imports back unchanged.

    Real date cells, responsibility and status as words, the hierarchy as indentation and
    outline levels, a frozen header and a filter, and each item's stable ID: fill it in and
    upload it, and only the cells you may change are applied.
    """
    project = get_visible_project(session, caller, project_id)
    filename = f"WBS_{project.municipality.name}_{project.name}.xlsx"
    return Response(
        export_workbook(session, project, lang),
        media_type=_media_type(accept),
        headers={
            "Content-Disposition": f'attachment; filename="wbs-{project.id}.xlsx"; '
            f"filename*=UTF-8''{quote(filename)}"
        },
    )
