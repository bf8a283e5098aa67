"""Paging parameters and the `Link: rel="next"` header shared by every paged list."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import Query
from starlette.requests import Request
from starlette.responses import Response

from service.cursors import CURSOR_PATTERN, decode_cursor, encode_cursor, position_int
from service.fields import MAX_ID

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def link_next(request: Request, response: Response, next_cursor: str | None) -> None:
    if next_cursor is not None:
        url = request.url.include_query_params(cursor=next_cursor)
        response.headers["Link"] = f'<{url}>; rel="next"'


LimitQuery = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description=f"Page size, at most {MAX_LIMIT}.")
]
CursorQuery = Annotated[
    str | None,
    Query(
        pattern=CURSOR_PATTERN,
        max_length=1000,
        description="The `next_cursor` of the previous page; omit for the first.",
    ),
]


def after_id(cursor: str | None) -> int:
    """Position of an id-ordered list."""
    if cursor is None:
        return 0
    return position_int(decode_cursor(cursor, {"id"}), "id", MAX_ID)


def next_id_cursor(rows: Sequence[Any], limit: int) -> str | None:
    return encode_cursor({"id": rows[-1].id}) if len(rows) == limit else None
