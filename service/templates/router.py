from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Request, Response, UploadFile

from service.config import Settings
from service.deps import CurrentCaller, SessionDep, WritingCaller
from service.errors import problem_responses
from service.fields import MAX_ID
from service.imports.options import ImportOptions, parse_mapping
from service.pagination import (
    DEFAULT_LIMIT,
    CursorQuery,
    LimitQuery,
    after_id,
    link_next,
    next_id_cursor,
)
from service.projects.schemas import ProjectRead
from service.routing import LongWorkRoute, OneThreadRoute
from service.sessions import commit
from service.templates import following, replans, service
from service.templates.models import Replan, Template, TemplateVersion
from service.templates.schemas import (
    FollowerPage,
    FollowerRead,
    ProjectsFromTemplate,
    ReplanCreate,
    ReplanPage,
    ReplanRead,
    TemplateCreate,
    TemplatePage,
    TemplateRead,
    VersionCreate,
    VersionPage,
    VersionRead,
    VersionSummary,
    VersionUpdate,
)
from service.templates.shown import replan_read, replan_summary
from service.templates.workbook import items_of_workbook

router = APIRouter(prefix="/templates", tags=["templates"], route_class=OneThreadRoute)
# Making many projects, or a replan across all of them, may hold a connection for long.
long_router = APIRouter(prefix="/templates", tags=["templates"], route_class=LongWorkRoute)

TemplateIdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="Template id.")]
VersionPath = Annotated[int, Path(ge=1, le=MAX_ID, description="Version number: 1, 2, …")]
ReplanIdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="Replan id.")]


def _version_read(session: SessionDep, version: TemplateVersion) -> VersionRead:
    return VersionRead.model_validate(
        {
            **VersionSummary.model_validate(version).model_dump(),
            "items": [item.model_dump() for item in service.version_items(session, version)],
        }
    )


def _read(template: Template) -> TemplateRead:
    return TemplateRead.model_validate(template)


@router.post("", status_code=201, responses=problem_responses(401, 403, 404, 409, 422, 429))
def create_template(
    data: TemplateCreate, session: SessionDep, caller: WritingCaller
) -> TemplateRead:
    """Create a plan template.

    Its first version is a draft holding `items`, or the items of a project the caller plans
    (`from_project`, its days becoming offsets from an anchor day). A vendor or the PMO owns
    its templates; nobody else sees them.
    """
    return _read(service.create_template(session, caller, data))


@long_router.post(
    "/workbook", status_code=201, responses=problem_responses(401, 403, 409, 413, 415, 422, 429)
)
def create_template_from_workbook(
    request: Request,
    file: Annotated[UploadFile, File(description="The workbook (.xlsx, .xlsm) or CSV file.")],
    session: SessionDep,
    caller: WritingCaller,
    name: Annotated[
        str | None, Form(min_length=1, max_length=200, description="Defaults to the file's name.")
    ] = None,
    anchor: Annotated[
        date | None,
        Form(description="The day the sheet's days count from; defaults to its earliest day."),
    ] = None,
    sheet: Annotated[
        str | None, Form(max_length=255, description="The sheet, when several look like a WBS.")
    ] = None,
    mapping: Annotated[
        str | None,
        Form(max_length=5000, description="JSON object field → column letter or header text."),
    ] = None,
) -> TemplateRead:
    """Create a plan template from a workbook.

    The sheet is read as an import reads it, in any layout the importer knows; a sheet with
    problems answers 422 with every one (sheet, row, column, value). The first version is a
    draft.
    """
    service.require_author(caller)
    settings: Settings = request.app.state.settings
    options = ImportOptions(
        file_name=file.filename or "upload", sheet=sheet, mapping=parse_mapping(mapping)
    )
    items = items_of_workbook(file.file, options, settings.import_limits, anchor)
    title = name or (file.filename or "workbook").rsplit(".", 1)[0][:200] or "workbook"
    return _read(service.create_from_items(session, caller, title, items, note=file.filename))


@router.get("", responses=problem_responses(401, 422, 429))
def list_templates(
    request: Request,
    response: Response,
    session: SessionDep,
    caller: CurrentCaller,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> TemplatePage:
    """List the templates the caller owns (the PMO: every template)."""
    rows = service.list_templates(session, caller, after_id=after_id(cursor), limit=limit)
    next_cursor = next_id_cursor(rows, limit)
    link_next(request, response, next_cursor)
    return TemplatePage(items=[_read(row) for row in rows], next_cursor=next_cursor)


# A number only: `GET /templates/workbook` is a method the workbook's path does not have (405).
@router.get("/{template_id:int}", responses=problem_responses(401, 404, 422, 429))
def get_template(
    template_id: TemplateIdPath, session: SessionDep, caller: CurrentCaller
) -> TemplateRead:
    """Get one template and its versions.

    Answers 404 alike for a template that does not exist and one the caller may not see.
    """
    return _read(service.get_visible_template(session, caller, template_id))


@router.get("/{template_id}/versions", responses=problem_responses(401, 404, 422, 429))
def list_template_versions(
    template_id: TemplateIdPath, session: SessionDep, caller: CurrentCaller
) -> VersionPage:
    """List a template's versions, oldest first."""
    template = service.get_visible_template(session, caller, template_id)
    return VersionPage(items=[VersionSummary.model_validate(v) for v in template.versions])


@router.post(
    "/{template_id}/versions",
    status_code=201,
    responses=problem_responses(401, 403, 404, 409, 422, 429),
)
def create_template_version(
    template_id: TemplateIdPath, data: VersionCreate, session: SessionDep, caller: WritingCaller
) -> VersionRead:
    """Start a new draft version.

    With `items`, or `from_project`, or neither for a copy of the latest version. A template
    has one draft at a time: 409 while another is open.
    """
    template = service.get_visible_template(session, caller, template_id)
    return _version_read(session, service.add_version(session, caller, template, data))


@router.get("/{template_id}/versions/{version}", responses=problem_responses(401, 404, 422, 429))
def get_template_version(
    template_id: TemplateIdPath, version: VersionPath, session: SessionDep, caller: CurrentCaller
) -> VersionRead:
    """Get one version of a template, with its items."""
    template = service.get_visible_template(session, caller, template_id)
    return _version_read(session, service.get_version(template, version))


@router.put(
    "/{template_id}/versions/{version}",
    responses=problem_responses(401, 403, 404, 409, 422, 429),
)
def replace_template_version(
    template_id: TemplateIdPath,
    version: VersionPath,
    data: VersionUpdate,
    session: SessionDep,
    caller: WritingCaller,
) -> VersionRead:
    """Replace a draft version's items.

    A published version never changes: 409.
    """
    template = service.get_visible_template(session, caller, template_id)
    return _version_read(session, service.replace_version(session, caller, template, version, data))


@router.post(
    "/{template_id}/versions/{version}/publish",
    responses=problem_responses(401, 403, 404, 409, 422, 429),
)
def publish_template_version(
    template_id: TemplateIdPath, version: VersionPath, session: SessionDep, caller: WritingCaller
) -> VersionRead:
    """Publish a draft version.

    From then on it never changes; projects can be made from it, and a replan can move the
    projects that follow the template to it. Publishing an already published version is 409.
    """
    template = service.get_visible_template(session, caller, template_id)
    return _version_read(session, service.publish(session, caller, template, version))


@long_router.post(
    "/{template_id}/projects",
    status_code=201,
    responses=problem_responses(401, 403, 404, 409, 422, 429),
)
def create_projects_from_template(
    template_id: TemplateIdPath,
    data: ProjectsFromTemplate,
    session: SessionDep,
    caller: WritingCaller,
) -> FollowerPage:
    """Create projects from a published template version.

    One project per entry, each with the items of the version, their days counted from the
    entry's anchor day; each project remembers the template and version it follows. A vendor
    only with municipalities that have named it, as for any project: any other answers 404,
    and nothing is created.
    """
    template = service.get_visible_template(session, caller, template_id)
    made = following.create_followers(session, caller, template, data)
    return FollowerPage(items=[_follower(session, f.project_id) for f in made])


def _follower(session: SessionDep, project_id: int) -> FollowerRead:
    follower, project = following.follower_of(session, project_id)
    return FollowerRead(
        project=ProjectRead.model_validate(project),
        template_id=follower.template_id,
        version=follower.version.number,
        anchor=follower.anchor,
    )


@router.get("/{template_id}/projects", responses=problem_responses(401, 404, 422, 429))
def list_template_projects(
    template_id: TemplateIdPath, session: SessionDep, caller: CurrentCaller
) -> FollowerPage:
    """List the projects that follow a template, with the version each follows."""
    template = service.get_visible_template(session, caller, template_id)
    return FollowerPage(
        items=[
            FollowerRead(
                project=ProjectRead.model_validate(project),
                template_id=follower.template_id,
                version=follower.version.number,
                anchor=follower.anchor,
            )
            for follower, project in following.list_followers(session, template)
        ]
    )


@long_router.post(
    "/{template_id}/replans",
    status_code=201,
    responses=problem_responses(401, 403, 404, 409, 422, 429),
)
def preview_replan(
    template_id: TemplateIdPath, data: ReplanCreate, session: SessionDep, caller: WritingCaller
) -> ReplanRead:
    """Preview a replan across every project that follows the template.

    To a version (`to_version`), or as `edits` of the latest published version (shift the
    codes beginning with a prefix by calendar days, add, retire, relink), which become a new
    draft version. Per project: the item changes it would get, and the conflicts, where the
    project's value differs from the value of the version it follows (a local change): those
    are never overwritten. Nothing in the projects is written until the replan is applied.
    """
    template = service.get_visible_template(session, caller, template_id)
    return replan_read(session, replans.preview_replan(session, caller, template, data))


@router.get("/{template_id}/replans", responses=problem_responses(401, 404, 422, 429))
def list_replans(
    request: Request,
    response: Response,
    template_id: TemplateIdPath,
    session: SessionDep,
    caller: CurrentCaller,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> ReplanPage:
    """List a template's replans, oldest first, with their counts."""
    template = service.get_visible_template(session, caller, template_id)
    rows: list[Replan] = replans.list_replans(
        session, template, after_id=after_id(cursor), limit=limit
    )
    next_cursor = next_id_cursor(rows, limit)
    link_next(request, response, next_cursor)
    return ReplanPage(items=[replan_summary(row) for row in rows], next_cursor=next_cursor)


@router.get("/{template_id}/replans/{replan_id}", responses=problem_responses(401, 404, 422, 429))
def get_replan(
    template_id: TemplateIdPath, replan_id: ReplanIdPath, session: SessionDep, caller: CurrentCaller
) -> ReplanRead:
    """Get a replan with each project's changes, conflicts and outcome."""
    template = service.get_visible_template(session, caller, template_id)
    return replan_read(session, replans.get_replan(session, template, replan_id))


@long_router.post(
    "/{template_id}/replans/{replan_id}/apply",
    responses=problem_responses(401, 403, 404, 409, 422, 429),
)
def apply_replan(
    template_id: TemplateIdPath,
    replan_id: ReplanIdPath,
    session: SessionDep,
    caller: WritingCaller,
) -> ReplanRead:
    """Apply a previewed replan.

    Project by project, each all or nothing in a transaction of its own, diffed afresh from
    what it holds now: local changes stay, as conflicts. A project that fails is left as it
    was, with its `reason`; the others apply. Every change event names the replan
    (`replan_id` in the change feed). The version becomes published if it was a draft.
    """
    template = service.get_visible_template(session, caller, template_id)
    return replan_read(
        session, replans.apply_replan(session, caller, template, replan_id, finish=commit)
    )
