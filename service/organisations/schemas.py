from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from service.fields import ORG_CODE, PRINTABLE
from service.organisations.models import OrgKind

OrgCode = Annotated[
    str,
    StringConstraints(pattern=ORG_CODE),
    Field(description="Short unique identifier, e.g. a local government code or a slug."),
]


class OrganisationCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "municipality",
                    "code": "sakura-town",
                    "name": "さくら町",
                    "local_government_code": "019999",
                }
            ],
            # Only a municipality has a local government code: said in the contract, so that
            # a client (or a fuzzer) knows it before the server refuses one.
            "if": {"not": {"properties": {"kind": {"const": "municipality"}}}},
            "then": {"properties": {"local_government_code": {"type": "null"}}},
        },
    )

    kind: OrgKind
    code: OrgCode
    name: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=PRINTABLE),
    ]
    local_government_code: Annotated[
        str | None,
        Field(
            pattern=r"^\d{6}$",
            description="全国地方公共団体コード (6 digits), municipalities only.",
        ),
    ] = None


class OrganisationRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str


class OrganisationRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 2,
                    "kind": "municipality",
                    "code": "sakura-town",
                    "name": "さくら町",
                    "local_government_code": "019999",
                    "created_at": "2026-04-01T00:00:00Z",
                }
            ]
        },
    )

    id: int
    kind: OrgKind
    code: str
    name: str
    local_government_code: str | None
    created_at: datetime


class OrganisationPage(BaseModel):
    items: list[OrganisationRead]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )
