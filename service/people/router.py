"""Issuing one-time sign-in links to the pages, for people who are not going to paste a token."""

from __future__ import annotations

from fastapi import APIRouter, Request

from service.config import Settings
from service.deps import SessionDep, WritingCaller
from service.errors import NotFound, problem_responses
from service.organisations.schemas import OrganisationRef
from service.people import service
from service.people.schemas import SignInLinkCreate, SignInLinkIssued
from service.routing import OneThreadRoute
from service.tokens.models import ApiToken

router = APIRouter(tags=["sign-in"], route_class=OneThreadRoute)


@router.post(
    "/sign-in-links", status_code=201, responses=problem_responses(401, 403, 404, 422, 429)
)
def create_sign_in_link(
    request: Request, data: SignInLinkCreate, session: SessionDep, caller: WritingCaller
) -> SignInLinkIssued:
    """Issue a one-time sign-in link for a person's token.

    The PMO issues links for any token, an organisation for its own. The link signs a
    browser in as that token once, then stops working; it expires after `expires_in_hours`
    and never outlives its token.
    """
    token = session.get(ApiToken, data.token_id)
    if token is None or not service.may_issue_link(
        caller.organisation_kind, caller.organisation_id, token
    ):
        raise NotFound.for_field(
            "token_id", f"no token {data.token_id} of an organisation you may issue links for"
        )
    settings: Settings = request.app.state.settings
    link, secret = service.issue_link(
        session,
        token,
        caller.label,
        data.expires_in_hours or settings.web_sign_in_link_hours,
    )
    base = settings.web_public_url or str(request.base_url)
    return SignInLinkIssued(
        url=service.link_url(base, secret),
        token_id=token.id,
        token_name=token.name,
        read_only=token.read_only,
        organisation=OrganisationRef.model_validate(token.organisation, from_attributes=True),
        expires_at=link.expires_at,
    )
