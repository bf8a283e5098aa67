from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from service.deps import CurrentCaller, SessionDep, WritingCaller
from service.errors import problem_responses
from service.fields import MAX_ID
from service.pagination import (
    DEFAULT_LIMIT,
    CursorQuery,
    LimitQuery,
    after_id,
    link_next,
    next_id_cursor,
)
from service.partners import service
from service.partners.schemas import PartnershipCreate, PartnershipPage, PartnershipRead
from service.routing import OneThreadRoute

router = APIRouter(prefix="/partners", tags=["partners"], route_class=OneThreadRoute)

PartnershipIdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="Partnership id.")]


@router.post("", status_code=201, responses=problem_responses(401, 403, 404, 409, 422, 429))
def create_partnership(
    data: PartnershipCreate, session: SessionDep, caller: WritingCaller
) -> PartnershipRead:
    """Name a vendor the municipality works with.

    Only then may that vendor start projects with the municipality (the PMO may start any).
    A municipality consents for itself; the PMO names both.
    """
    return PartnershipRead.model_validate(service.grant(session, caller, data))


@router.get("", responses=problem_responses(401, 422, 429))
def list_partnerships(
    request: Request,
    response: Response,
    session: SessionDep,
    caller: CurrentCaller,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> PartnershipPage:
    """List partnerships.

    A municipality sees the vendors it named, a vendor the municipalities that named it, the
    PMO all.
    """
    rows = service.list_partnerships(session, caller, after_id=after_id(cursor), limit=limit)
    next_cursor = next_id_cursor(rows, limit)
    link_next(request, response, next_cursor)
    return PartnershipPage(
        items=[PartnershipRead.model_validate(row) for row in rows], next_cursor=next_cursor
    )


@router.delete(
    "/{partnership_id}", status_code=204, responses=problem_responses(401, 403, 404, 422, 429)
)
def delete_partnership(
    partnership_id: PartnershipIdPath, session: SessionDep, caller: WritingCaller
) -> Response:
    """Withdraw a municipality's consent.

    The vendor can start no new project with it; projects already started stay.
    """
    service.withdraw(session, caller, partnership_id)
    return Response(status_code=204)
