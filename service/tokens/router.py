from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response

from service.access import require_pmo
from service.deps import CurrentCaller, SessionDep, WritingCaller
from service.errors import NotFound, problem_responses
from service.fields import MAX_ID
from service.organisations.models import Organisation
from service.organisations.schemas import OrganisationRead
from service.pagination import (
    DEFAULT_LIMIT,
    CursorQuery,
    LimitQuery,
    after_id,
    link_next,
    next_id_cursor,
)
from service.params import TokenIdPath
from service.routing import OneThreadRoute
from service.tokens import service
from service.tokens.schemas import Me, TokenCreate, TokenIssued, TokenPage, TokenRead

router = APIRouter(tags=["tokens"], route_class=OneThreadRoute)


@router.get("/me", responses=problem_responses(401, 429))
def get_me(session: SessionDep, caller: CurrentCaller) -> Me:
    """Who the caller is.

    The organisation the token belongs to (its kind is the caller's role) and the token itself.
    """
    organisation = session.get(Organisation, caller.organisation_id)
    return Me(
        organisation=OrganisationRead.model_validate(organisation),
        token_id=caller.token_id,
        token_name=caller.token_name,
        read_only=caller.read_only,
    )


@router.post("/tokens", status_code=201, responses=problem_responses(401, 403, 404, 409, 422, 429))
def create_token(
    data: TokenCreate, response: Response, session: SessionDep, caller: WritingCaller
) -> TokenIssued:
    """Issue a token for an organisation.

    PMO only. The secret is in the response once and never again: not cached, and not kept
    for an Idempotency-Key's replay (a retry hears 409 saying it was shown once).
    """
    # The answer holds a secret: no cache keeps it, and neither does the idempotency store.
    response.headers["Cache-Control"] = "no-store"
    require_pmo(caller, "issue tokens")
    organisation = session.get(Organisation, data.organisation_id)
    if organisation is None:
        raise NotFound.for_field(
            "organisation_id", f"no organisation with id {data.organisation_id}"
        )
    token, secret = service.issue_token(
        session,
        organisation,
        data.name,
        read_only=data.read_only,
        expires_in_days=data.expires_in_days,
    )
    return TokenIssued.model_validate(
        {**TokenRead.model_validate(token).model_dump(), "token": secret}
    )


@router.get("/tokens", responses=problem_responses(401, 403, 422, 429))
def list_tokens(
    request: Request,
    response: Response,
    session: SessionDep,
    caller: CurrentCaller,
    organisation_id: int | None = Query(
        None, ge=1, le=MAX_ID, description="Only this organisation's."
    ),
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> TokenPage:
    """List tokens, without their secrets.

    PMO only.
    """
    require_pmo(caller, "list tokens")
    rows = service.list_tokens(
        session, organisation_id=organisation_id, after_id=after_id(cursor), limit=limit
    )
    next_cursor = next_id_cursor(rows, limit)
    link_next(request, response, next_cursor)
    return TokenPage(items=[TokenRead.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.delete(
    "/tokens/{token_id}", status_code=204, responses=problem_responses(401, 403, 404, 422, 429)
)
def revoke_token(token_id: TokenIdPath, session: SessionDep, caller: WritingCaller) -> Response:
    """Revoke a token.

    PMO only. It stops working at once; revoking twice is harmless.
    """
    require_pmo(caller, "revoke tokens")
    service.revoke_token(session, token_id)
    return Response(status_code=204)
