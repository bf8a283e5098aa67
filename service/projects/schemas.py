from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from service.fields import MAX_ID, PRINTABLE, WHOLE
from service.organisations.schemas import OrganisationRef

ProjectName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=PRINTABLE)
]
Consortium = Annotated[
    str | None,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=PRINTABLE),
    Field(description="Label grouping projects for roll-ups, e.g. a joint municipal cloud."),
]
OrganisationId = Annotated[int, Field(ge=1, le=MAX_ID, strict=True), WHOLE]


class ProjectCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "municipality_id": 2,
                    "vendor_id": 4,
                    "name": "住民記録システム標準化移行",
                    "consortium": "みどり地域自治体クラウド",
                }
            ]
        },
    )

    municipality_id: OrganisationId
    vendor_id: OrganisationId | None = Field(
        None, description="Defaults to the calling vendor; required when the PMO creates."
    )
    name: ProjectName
    consortium: Consortium = None


class ProjectUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"consortium": "みどり地域自治体クラウド"}]}
    )

    name: ProjectName = Field(default=None)  # type: ignore[assignment]
    consortium: Consortium = None


class ProjectRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 1,
                    "name": "住民記録システム標準化移行",
                    "consortium": "みどり地域自治体クラウド",
                    "municipality": {"id": 2, "code": "sakura-town", "name": "さくら町"},
                    "vendor": {"id": 4, "code": "mirai-sys", "name": "みらい情報システム株式会社"},
                    "version": 1,
                    "created_at": "2026-04-01T00:00:00Z",
                    "updated_at": "2026-04-01T00:00:00Z",
                }
            ]
        },
    )

    id: int
    name: str
    consortium: str | None
    municipality: OrganisationRef
    vendor: OrganisationRef
    version: int
    created_at: datetime
    updated_at: datetime


class ProjectPage(BaseModel):
    items: list[ProjectRead]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )
