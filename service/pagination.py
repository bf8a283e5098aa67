"""Paging parameters and the `Link: rel="next"` header shared by every paged list."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import Query
from starlette.requests import Request
from starlette.responses import Response

from service.cursors import ID_CURSOR_PATTERN, ITEM_CURSOR_PATTERN, after_id, id_cursor

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def link_next(request: Request, response: Response, next_cursor: str | None) -> None:
    if next_cursor is not None:
        url = request.url.include_query_params(cursor=next_cursor)
        response.headers["Link"] = f'<{url}>; rel="next"'


LimitQuery = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description=f"Page size, at most {MAX_LIMIT}.")
]
# The pattern is what the service hands out; it also reads the cursors of earlier releases,
# so it is the contract's, not a check of its own (service/cursors.py).
CursorQuery = Annotated[
    str | None,
    Query(
        max_length=1000,
        description="The `next_cursor` of the previous page; omit for the first.",
        json_schema_extra={"pattern": ID_CURSOR_PATTERN},
        examples=["1200"],
    ),
]
ItemCursorQuery = Annotated[
    str | None,
    Query(
        max_length=1600,
        description="The `next_cursor` of the previous page; omit for the first.",
        json_schema_extra={"pattern": ITEM_CURSOR_PATTERN},
        examples=["30303030303030303033.812"],
    ),
]


def next_id_cursor(rows: Sequence[Any], limit: int) -> str | None:
    return id_cursor(rows[-1].id) if len(rows) == limit else None


__all__ = ["after_id"]
