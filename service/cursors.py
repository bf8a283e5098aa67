"""Opaque cursors: a list's position, as a string a client hands back unchanged."""

from __future__ import annotations

import base64
import json
from typing import Any

from service.errors import FieldError, Unprocessable


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
