"""Request parameters shared by several routers, each saying exactly what the server accepts."""

from typing import Annotated

from fastapi import Path, Query

from service.fields import MAX_ID, ONE_LINE, ORG_CODE
from service.items.codes import CODE_PATTERN

OrganisationIdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="Organisation id.")]
ProjectIdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="Project id.")]
TokenIdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="Token id.")]
CodePath = Annotated[str, Path(pattern=CODE_PATTERN, description="The item's code (項番).")]

MunicipalityQuery = Annotated[
    str | None, Query(pattern=ORG_CODE, description="Municipality code.", examples=["sakura-town"])
]
VendorQuery = Annotated[
    str | None, Query(pattern=ORG_CODE, description="Vendor code.", examples=["mirai-sys"])
]
ConsortiumQuery = Annotated[
    str | None,
    Query(min_length=1, max_length=200, pattern=ONE_LINE, description="Consortium label."),
]
AssigneeQuery = Annotated[
    str | None,
    Query(
        max_length=200, pattern=ONE_LINE, description="Exact assignee (担当).", examples=["住民課"]
    ),
]
