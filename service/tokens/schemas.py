from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from service.fields import MAX_ID, PRINTABLE, WHOLE
from service.organisations.schemas import OrganisationRead, OrganisationRef

TokenName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=PRINTABLE),
    Field(description="A label naming the tool or person using the token."),
]


class TokenCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"organisation_id": 2, "name": "nightly-report", "read_only": True}]
        },
    )

    organisation_id: Annotated[int, Field(ge=1, le=MAX_ID, strict=True), WHOLE]
    name: TokenName
    read_only: Annotated[bool, Field(strict=True)] = False
    expires_in_days: Annotated[int, Field(ge=1, le=3650, strict=True), WHOLE] | None = None


class TokenRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 5,
                    "organisation": {"id": 2, "code": "sakura-town", "name": "さくら町"},
                    "name": "nightly-report",
                    "prefix": "wbs_Ab3dE9",
                    "read_only": True,
                    "created_at": "2026-04-01T00:00:00Z",
                    "expires_at": None,
                    "revoked_at": None,
                    "last_used_at": "2026-04-02T08:00:00Z",
                }
            ]
        },
    )

    id: int
    organisation: OrganisationRef
    name: str
    prefix: str = Field(description="The token's first characters, to tell tokens apart.")
    read_only: bool
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenIssued(TokenRead):
    token: str = Field(description="The secret. Shown this once; only its hash is stored.")


class TokenPage(BaseModel):
    items: list[TokenRead]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class Me(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "organisation": {
                        "id": 2,
                        "kind": "municipality",
                        "code": "sakura-town",
                        "name": "さくら町",
                        "local_government_code": "019999",
                        "created_at": "2026-04-01T00:00:00Z",
                    },
                    "token_id": 5,
                    "token_name": "nightly-report",
                    "read_only": True,
                }
            ]
        }
    )

    organisation: OrganisationRead
    token_id: int
    token_name: str
    read_only: bool
