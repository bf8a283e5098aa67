"""Opaque cursors and the `Link: rel="next"` header shared by every paged list."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import Query
from starlette.requests import Request
from starlette.responses import Response

from service.errors import FieldError, Unprocessable

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def encode_cursor(position: dict[str, Any]) -> str:
    raw = json.dumps(position, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, expected_keys: set[str]) -> dict[str, Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        position = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        position = None
    if not isinstance(position, dict) or set(position) != expected_keys:
        raise Unprocessable(
            "cursor: not a cursor this list handed out",
            errors=[
                FieldError(
                    loc=["query", "cursor"],
                    field="cursor",
                    message="not a cursor this list handed out; start again without one",
                    type="cursor_invalid",
                )
            ],
        )
    return position


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
        max_length=1000, description="The `next_cursor` of the previous page; omit for the first."
    ),
]


def after_id(cursor: str | None) -> int:
    """Position of an id-ordered list."""
    if cursor is None:
        return 0
    position = decode_cursor(cursor, {"id"})
    value = position["id"]
    if not isinstance(value, int):
        decode_cursor("", {"id"})
    return int(value)


def next_id_cursor(rows: Sequence[Any], limit: int) -> str | None:
    return encode_cursor({"id": rows[-1].id}) if len(rows) == limit else None
