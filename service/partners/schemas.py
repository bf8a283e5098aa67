from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from service.organisations.schemas import OrganisationRef, OrgCode


class PartnershipCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"municipality": "sakura-town", "vendor": "mirai-sys"}]},
    )

    vendor: OrgCode = Field(description="The vendor's organisation code.")
    municipality: OrgCode = Field(
        description="The municipality's organisation code: the PMO names any; a municipality "
        "names itself."
    )


class PartnershipRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 3,
                    "municipality": {"id": 2, "code": "sakura-town", "name": "さくら町"},
                    "vendor": {"id": 4, "code": "mirai-sys", "name": "みらい情報システム"},
                    "granted_by": "sakura-town/情報政策課",
                    "created_at": "2026-04-01T00:00:00Z",
                }
            ]
        },
    )

    id: int
    municipality: OrganisationRef
    vendor: OrganisationRef
    granted_by: str = Field(description="Who gave the consent (organisation/token).")
    created_at: datetime


class PartnershipPage(BaseModel):
    items: list[PartnershipRead]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )
