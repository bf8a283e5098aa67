"""Request parameters shared by several routers."""

from typing import Annotated

from fastapi import Path

from service.fields import MAX_ID

OrganisationIdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="Organisation id.")]
ProjectIdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="Project id.")]
TokenIdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="Token id.")]
