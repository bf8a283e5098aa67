"""Opaque cursors: a list's position, as a string a client hands back unchanged."""

from __future__ import annotations

import base64
import json
from typing import Any

from service.errors import FieldError, Unprocessable

# What encode_cursor writes: unpadded URL-safe base64.
CURSOR_PATTERN = r"^[A-Za-z0-9_-]{1,1000}$"
# Positions are database keys: ids of 32 bits, feed positions of 63.
MAX_POSITION = 2**63 - 1


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
        raise invalid_cursor()
    return position


def position_int(position: dict[str, Any], key: str, maximum: int = MAX_POSITION) -> int:
    """A whole-number part of a decoded cursor, within what the database can compare."""
    value = position[key]
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise invalid_cursor()
    return value


def position_text(position: dict[str, Any], key: str, max_length: int) -> str:
    value = position[key]
    if not isinstance(value, str) or len(value) > max_length or "\x00" in value:
        raise invalid_cursor()
    return value


def invalid_cursor() -> Unprocessable:
    return Unprocessable(
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
