"""Request parameters shared by several routers."""

from typing import Annotated

from fastapi import Path

# Ids are 32-bit integers in the database; larger values are refused before reaching it.
MAX_ID = 2_147_483_647

OrganisationIdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="Organisation id.")]
ProjectIdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="Project id.")]
TokenIdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="Token id.")]
