"""The API's side of signing people in: issuing one-time sign-in links."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from service.config import Settings
from service.errors import Unprocessable, problem_responses
from service.fields import MAX_ID
from service.organisations.schemas import OrganisationRef
from service.routing import OneThreadRoute
from service.tokens.models import ApiToken
from service.web import signin
from service.web.browser import SessionDep, WritingCaller

router = APIRouter(tags=["sign-in"], route_class=OneThreadRoute)


class SignInLinkCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"token_id": 5, "expires_in_hours": 24}]}
    )

    token_id: Annotated[
        int,
        Field(ge=1, le=MAX_ID, strict=True, description="The token (person) the link signs in as."),
    ]
    expires_in_hours: Annotated[
        int | None,
        Field(
            ge=1,
            le=24 * 14,
            strict=True,
            description="Hours the link works; default WBS_WEB_SIGN_IN_LINK_HOURS (24).",
        ),
    ] = None


class SignInLinkIssued(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": "https://wbs.example.jp/sign-in/link/3q2-7xY…",
                    "token_id": 5,
                    "token_name": "田中",
                    "read_only": False,
                    "organisation": {"id": 2, "code": "sakura-town", "name": "さくら町"},
                    "expires_at": "2026-12-02T09:00:00Z",
                }
            ]
        }
    )

    url: str = Field(
        description="Open it once in a browser to sign in. Shown this once; only its hash is "
        "stored."
    )
    token_id: int
    token_name: str
    read_only: bool = Field(description="A read-only token signs in to read-only pages.")
    organisation: OrganisationRef
    expires_at: datetime


@router.post("/sign-in-links", status_code=201, responses=problem_responses(401, 403, 422, 429))
def create_sign_in_link(
    request: Request, data: SignInLinkCreate, session: SessionDep, caller: WritingCaller
) -> SignInLinkIssued:
    """Issue a one-time sign-in link for a person's token.

    The PMO issues links for any token, an organisation for its own. The link signs a
    browser in as that token once, then stops working; it expires after `expires_in_hours`
    and never outlives its token.
    """
    token = session.get(ApiToken, data.token_id)
    if token is None or not signin.may_issue_link(
        caller.organisation_kind, caller.organisation_id, token
    ):
        raise Unprocessable.for_field(
            "token_id", f"no token {data.token_id} of an organisation you may issue links for"
        )
    settings: Settings = request.app.state.settings
    link, secret = signin.issue_link(
        session,
        token,
        caller.label,
        data.expires_in_hours or settings.web_sign_in_link_hours,
    )
    base = settings.web_public_url or str(request.base_url)
    return SignInLinkIssued(
        url=signin.link_url(base, secret),
        token_id=token.id,
        token_name=token.name,
        read_only=token.read_only,
        organisation=OrganisationRef.model_validate(token.organisation, from_attributes=True),
        expires_at=link.expires_at,
    )
