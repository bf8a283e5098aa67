"""Cursors: a list's position, as a string a client hands back unchanged.

Every string a cursor's published pattern admits is a position its list can go on from, so a
client (or a fuzzer) that sends one the contract allows is answered, never refused:
- an id-ordered list: the last id, in decimal;
- a project's items: the last item's sort key (UTF-8, in hexadecimal) and id, `.` between;
- the change feed and an item's history: the last feed position, in decimal;
- the overdue report: the last row's planned end (as a day number), project id, sort key and
  item id, `.` between.
A position past the end gives an empty page.

Cursors handed out before these (URL-safe base64 of a small JSON object) are still read, so a
change-feed client that kept one goes on where it was; anything else is a 422.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import date
from typing import Any

from service.errors import FieldError, Unprocessable
from service.fields import MAX_ID

ID_CURSOR_PATTERN = r"^[0-9]{1,10}$"
# A sort key is at most 255 characters, each of at most three bytes in UTF-8.
ITEM_CURSOR_PATTERN = r"^(?:[0-9a-f]{2}){0,765}\.[0-9]{1,10}$"
FEED_CURSOR_PATTERN = r"^[0-9]{1,19}$"
REPORT_CURSOR_PATTERN = r"^[0-9]{1,7}\.[0-9]{1,10}\.(?:[0-9a-f]{2}){0,765}\.[0-9]{1,10}$"
# Feed positions are 63-bit integers in the database (ids, MAX_ID, 32-bit ones).
MAX_POSITION = 2**63 - 1

_ID = re.compile(ID_CURSOR_PATTERN)
_ITEM = re.compile(ITEM_CURSOR_PATTERN)
_FEED = re.compile(FEED_CURSOR_PATTERN)
_REPORT = re.compile(REPORT_CURSOR_PATTERN)


def id_cursor(last_id: int) -> str:
    return str(last_id)


def after_id(cursor: str | None, field: str = "cursor") -> int:
    """The id an id-ordered page starts after."""
    if cursor is None:
        return 0
    if _ID.fullmatch(cursor):
        return min(int(cursor), MAX_ID)
    return _whole(_legacy(cursor, {"id"}, field), "id", MAX_ID, field)


def item_cursor(sort_key: str, last_id: int) -> str:
    return f"{sort_key.encode().hex()}.{last_id}"


def item_position(cursor: str, field: str = "cursor") -> tuple[str, int]:
    """(sort key, id) a page of items starts after."""
    if _ITEM.fullmatch(cursor):
        key, _, last_id = cursor.partition(".")
        return _key_text(key), min(int(last_id), MAX_ID)
    position = _legacy(cursor, {"k", "i"}, field)
    key_value = position["k"]
    if not isinstance(key_value, str) or len(key_value) > 255 or "\x00" in key_value:
        raise invalid_cursor(field)
    return key_value, _whole(position, "i", MAX_ID, field)


def _key_text(key: str) -> str:
    # Any bytes name a position in the order; the database compares text without NULs.
    return bytes.fromhex(key).decode("utf-8", errors="replace").replace("\x00", "\ufffd")


def report_cursor(planned_end: date, project_id: int, sort_key: str, item_id: int) -> str:
    return f"{planned_end.toordinal()}.{project_id}.{sort_key.encode().hex()}.{item_id}"


def report_position(cursor: str, field: str = "cursor") -> tuple[date, int, str, int]:
    """(planned end, project id, sort key, item id) a page of the overdue report starts after."""
    if not _REPORT.fullmatch(cursor):
        raise invalid_cursor(field)
    day, project_id, key, item_id = cursor.split(".")
    ordinal = min(max(int(day), 1), date.max.toordinal())
    return (
        date.fromordinal(ordinal),
        min(int(project_id), MAX_ID),
        _key_text(key),
        min(int(item_id), MAX_ID),
    )


def feed_cursor(position: int) -> str:
    return str(position)


def feed_position(cursor: str | None, field: str = "since") -> int:
    """The feed position a page of events starts after."""
    if cursor is None:
        return 0
    if _FEED.fullmatch(cursor):
        return min(int(cursor), MAX_POSITION)
    return _whole(_legacy(cursor, {"s"}, field), "s", MAX_POSITION, field)


def _legacy(cursor: str, keys: set[str], field: str) -> dict[str, Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        position = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError, binascii.Error):
        position = None
    if not isinstance(position, dict) or set(position) != keys:
        raise invalid_cursor(field)
    return position


def _whole(position: dict[str, Any], key: str, maximum: int, field: str) -> int:
    value = position[key]
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise invalid_cursor(field)
    return value


def invalid_cursor(field: str = "cursor") -> Unprocessable:
    return Unprocessable(
        f"{field}: not a cursor this list handed out",
        errors=[
            FieldError(
                loc=["query", field],
                field=field,
                message="not a cursor this list handed out; start again without one",
                type="cursor_invalid",
            )
        ],
    )
