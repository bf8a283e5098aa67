from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query
from starlette.responses import Response

from service.deps import CurrentCaller, SessionDep
from service.errors import problem_responses
from service.exports.service import export_workbook
from service.params import ProjectIdPath
from service.projects.service import get_visible_project
from service.routing import LongWorkRoute
from service.tabular import XLSX_MEDIA_TYPE, Language

router = APIRouter(tags=["exports"], route_class=LongWorkRoute)


@router.get(
    "/projects/{project_id}/export.xlsx",
    response_class=Response,
    responses={
        200: {
            "content": {XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
            "description": "The workbook.",
        },
        **problem_responses(401, 404, 422, 429),
    },
)
def export_project(
    project_id: ProjectIdPath,
    session: SessionDep,
    caller: CurrentCaller,
    lang: Annotated[Language, Query(description="Headers and words: ja or en.")] = "ja",
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
        media_type=XLSX_MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="wbs-{project.id}.xlsx"; '
            f"filename*=UTF-8''{quote(filename)}"
        },
    )
