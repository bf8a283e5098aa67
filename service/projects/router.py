from __future__ import annotations

from fastapi import APIRouter, Request, Response

from service.deps import CurrentCaller, SessionDep, WritingCaller
from service.errors import problem_responses
from service.pagination import (
    DEFAULT_LIMIT,
    CursorQuery,
    LimitQuery,
    after_id,
    link_next,
    next_id_cursor,
)
from service.params import ConsortiumQuery, MunicipalityQuery, ProjectIdPath, VendorQuery
from service.projects import service
from service.projects.schemas import ProjectCreate, ProjectPage, ProjectRead, ProjectUpdate
from service.routing import OneThreadRoute

router = APIRouter(prefix="/projects", tags=["projects"], route_class=OneThreadRoute)


@router.post("", status_code=201, responses=problem_responses(401, 403, 404, 409, 422, 429))
def create_project(data: ProjectCreate, session: SessionDep, caller: WritingCaller) -> ProjectRead:
    """Create a project.

    One WBS between one municipality and one vendor. A vendor creates projects as their vendor,
    only with a municipality that has named it (`POST /api/v1/partners`): any other id, known or
    not, answers the same 422. The PMO names both parties.
    """
    return ProjectRead.model_validate(service.create_project(session, caller, data))


@router.get("", responses=problem_responses(401, 422, 429))
def list_projects(
    request: Request,
    response: Response,
    session: SessionDep,
    caller: CurrentCaller,
    municipality: MunicipalityQuery = None,
    vendor: VendorQuery = None,
    consortium: ConsortiumQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> ProjectPage:
    """List the projects the caller may see.

    The PMO sees every project, a vendor those it serves, a municipality its own.
    """
    rows = service.list_projects(
        session,
        caller,
        municipality=municipality,
        vendor=vendor,
        consortium=consortium,
        after_id=after_id(cursor),
        limit=limit,
    )
    next_cursor = next_id_cursor(rows, limit)
    link_next(request, response, next_cursor)
    return ProjectPage(items=[ProjectRead.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get("/{project_id}", responses=problem_responses(401, 404, 422, 429))
def get_project(
    project_id: ProjectIdPath, session: SessionDep, caller: CurrentCaller
) -> ProjectRead:
    """Get one project.

    Answers 404 alike for a project that does not exist and one the caller may not see.
    """
    return ProjectRead.model_validate(service.get_visible_project(session, caller, project_id))


@router.patch("/{project_id}", responses=problem_responses(401, 403, 404, 409, 422, 429))
def update_project(
    project_id: ProjectIdPath, data: ProjectUpdate, session: SessionDep, caller: WritingCaller
) -> ProjectRead:
    """Update a project's name or consortium.

    Only the project's vendor and the PMO may; fields left out stay as they are.
    """
    return ProjectRead.model_validate(service.update_project(session, caller, project_id, data))
