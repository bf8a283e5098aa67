from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from service.fields import MAX_ID, WHOLE
from service.organisations.schemas import OrganisationRef


class SignInLinkCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"token_id": 5, "expires_in_hours": 24}]}
    )

    token_id: Annotated[
        int,
        Field(ge=1, le=MAX_ID, strict=True, description="The token (person) the link signs in as."),
        WHOLE,
    ]
    expires_in_hours: (
        Annotated[
            int,
            Field(
                ge=1,
                le=24 * 14,
                strict=True,
                description="Hours the link works; default WBS_WEB_SIGN_IN_LINK_HOURS (24).",
            ),
            WHOLE,
        ]
        | None
    ) = None


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
