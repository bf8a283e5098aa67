from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Request, Response, UploadFile
from fastapi.responses import StreamingResponse

from service.changes.service import Actor
from service.config import Settings
from service.deps import CurrentCaller, SessionDep, WritingCaller
from service.errors import problem_responses
from service.fields import MAX_ID
from service.imports import service
from service.imports.options import ImportOptions, parse_mapping
from service.imports.schemas import ImportPage, ImportPreview, ImportRead, ImportResult
from service.pagination import (
    DEFAULT_LIMIT,
    CursorQuery,
    LimitQuery,
    after_id,
    link_next,
    next_id_cursor,
)
from service.params import ProjectIdPath
from service.projects.service import get_visible_project
from service.routing import LongWorkRoute

router = APIRouter(
    prefix="/projects/{project_id}/imports", tags=["imports"], route_class=LongWorkRoute
)

UploadField = Annotated[UploadFile, File(description="The workbook (.xlsx, .xlsm) or CSV file.")]
SheetField = Annotated[
    str | None, Form(max_length=255, description="Sheet to import when several look like a WBS.")
]
MappingField = Annotated[
    str | None,
    Form(
        max_length=5000,
        description='JSON object field → column letter or header text, e.g. `{"title": "C"}`, '
        "for when detection is wrong.",
    ),
]
HeaderRowField = Annotated[
    int | None, Form(ge=1, le=30, description="Header row to use with `mapping` (1-based).")
]


def _options(
    file: UploadFile, sheet: str | None, mapping: str | None, header_row: int | None, **flags: bool
) -> ImportOptions:
    return ImportOptions(
        file_name=file.filename or "upload",
        sheet=sheet,
        mapping=parse_mapping(mapping),
        header_row=header_row,
        **flags,
    )


@router.post(
    "",
    status_code=201,
    response_model=ImportResult,
    responses={
        200: {"model": ImportResult, "description": "A dry run: what would change."},
        **problem_responses(401, 403, 404, 413, 415, 422, 429),
    },
)
def create_import(
    request: Request,
    project_id: ProjectIdPath,
    file: UploadField,
    session: SessionDep,
    caller: WritingCaller,
    dry_run: Annotated[bool, Form(description="Report the diff and write nothing.")] = False,
    prune: Annotated[bool, Form(description="Delete items the sheet no longer lists.")] = False,
    sheet: SheetField = None,
    mapping: MappingField = None,
    header_row: HeaderRowField = None,
) -> StreamingResponse:
    """Import a WBS workbook or CSV into the project.

    Rows are matched to items by the exported ID column, then by code. All or nothing: any
    error in the sheet answers 422 with every problem (sheet, row, column, value) and writes
    nothing. Changes to fields the caller does not own come back as `conflicts` and are not
    applied; the rest applies. Importing the same file twice changes nothing the second time.
    """
    project = get_visible_project(session, caller, project_id)
    options = _options(file, sheet, mapping, header_row, dry_run=dry_run, prune=prune)
    settings: Settings = request.app.state.settings
    # The upload stays in the file the server spooled it to: it is never read whole.
    outcome = service.run_import(
        session, project, Actor.of(caller), file.file, options, settings.import_limits
    )
    # Streamed from the import's spooled lists: a 100,000-row answer is never built in memory.
    return StreamingResponse(
        outcome.chunks(), status_code=200 if dry_run else 201, media_type="application/json"
    )


@router.post(
    "/preview",
    responses=problem_responses(401, 404, 413, 415, 422, 429),
    # A POST only because it carries a file: read-only tokens may use it.
    openapi_extra={"x-changes-nothing": True},
)
def preview_import(
    request: Request,
    project_id: ProjectIdPath,
    file: UploadField,
    session: SessionDep,
    caller: CurrentCaller,
    sheet: SheetField = None,
    mapping: MappingField = None,
    header_row: HeaderRowField = None,
) -> ImportPreview:
    """Show how a file would be read.

    The sheets found, the header row, the column mapping, the first rows as parsed and any
    problems. Compares nothing with the project and writes nothing.
    """
    get_visible_project(session, caller, project_id)
    settings: Settings = request.app.state.settings
    options = _options(file, sheet, mapping, header_row)
    return service.preview(file.file, options, settings.import_limits)


@router.get("", responses=problem_responses(401, 404, 422, 429))
def list_imports(
    request: Request,
    response: Response,
    project_id: ProjectIdPath,
    session: SessionDep,
    caller: CurrentCaller,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> ImportPage:
    """List the project's imports, oldest first.

    Each with its file name, checksum, sheet, who uploaded it and what it changed.
    """
    project = get_visible_project(session, caller, project_id)
    rows = service.list_imports(session, project, after_id=after_id(cursor), limit=limit)
    next_cursor = next_id_cursor(rows, limit)
    link_next(request, response, next_cursor)
    return ImportPage(items=[service.to_read(r) for r in rows], next_cursor=next_cursor)


@router.get("/{import_id:int}", responses=problem_responses(401, 404, 422, 429))
def get_import(
    project_id: ProjectIdPath,
    import_id: Annotated[int, Path(ge=1, le=MAX_ID, description="Import id.")],
    session: SessionDep,
    caller: CurrentCaller,
) -> ImportRead:
    """Get one import record.

    Its id is the `source_id` of the change events it wrote.
    """
    project = get_visible_project(session, caller, project_id)
    return service.to_read(service.get_import(session, project, import_id))
