from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response

from service.deps import CurrentCaller, SessionDep, WritingCaller
from service.errors import problem_responses
from service.organisations import service
from service.organisations.models import OrgKind
from service.organisations.schemas import OrganisationCreate, OrganisationPage, OrganisationRead
from service.pagination import (
    DEFAULT_LIMIT,
    CursorQuery,
    LimitQuery,
    after_id,
    link_next,
    next_id_cursor,
)
from service.params import OrganisationIdPath
from service.routing import OneThreadRoute

router = APIRouter(prefix="/organisations", tags=["organisations"], route_class=OneThreadRoute)


@router.post(
    "",
    status_code=201,
    responses=problem_responses(401, 403, 409, 422, 429),
)
def create_organisation(
    data: OrganisationCreate, session: SessionDep, caller: WritingCaller
) -> OrganisationRead:
    """Create an organisation.

    Only the PMO registers municipalities, vendors and other PMOs. The code is unique.
    """
    return OrganisationRead.model_validate(service.create_organisation_as(session, caller, data))


@router.get("", responses=problem_responses(401, 422, 429))
def list_organisations(
    request: Request,
    response: Response,
    session: SessionDep,
    caller: CurrentCaller,
    kind: OrgKind | None = Query(None, description="Only organisations of this kind."),
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> OrganisationPage:
    """List organisations.

    The PMO sees all; others see themselves and the organisations they share a project with.
    """
    rows = service.list_organisations(
        session, caller, kind=kind, after_id=after_id(cursor), limit=limit
    )
    next_cursor = next_id_cursor(rows, limit)
    link_next(request, response, next_cursor)
    return OrganisationPage(
        items=[OrganisationRead.model_validate(row) for row in rows], next_cursor=next_cursor
    )


@router.get("/{organisation_id}", responses=problem_responses(401, 404, 422, 429))
def get_organisation(
    organisation_id: OrganisationIdPath, session: SessionDep, caller: CurrentCaller
) -> OrganisationRead:
    """Get one organisation.

    Answers 404 for an organisation the caller shares no project with.
    """
    return OrganisationRead.model_validate(
        service.get_organisation(session, caller, organisation_id)
    )
