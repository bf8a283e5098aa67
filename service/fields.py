"""Value types shared by request schemas and parameters.

Pydantic's lax parsing reads `0` as the day 1970-01-01 and `"5"` as the number 5; a client
sending those has made a mistake we should name, not a request we should guess at.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*")


def _only_iso_day(value: Any) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _DAY.fullmatch(value):
        return value
    raise ValueError("a day is written YYYY-MM-DD")


def _only_iso_instant(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and _INSTANT.fullmatch(value):
        return value
    raise ValueError("an instant is written YYYY-MM-DDTHH:MM[:SS][±HH:MM]")


# An instant must be one every zone can name: a day further out has no UTC equivalent.
_EARLIEST, _LATEST = datetime(1, 1, 2), datetime(9999, 12, 30)


def _within_the_calendar(value: datetime) -> datetime:
    naive = value.replace(tzinfo=None)
    if not _EARLIEST <= naive <= _LATEST:
        raise ValueError("an instant between 0001-01-02 and 9999-12-30")
    return value


# Ids are 32-bit integers in the database; larger values are refused before reaching it.
MAX_ID = 2_147_483_647

# Control characters (other than tab and line breaks) cannot be stored in a workbook cell and
# are never what a person meant to type; nor are the invisible marks that reverse the direction
# of text (U+202A–U+202E, U+2066–U+2069), with which a title can be made to read as another.
_BIDI_OVERRIDES = r"\u202a-\u202e\u2066-\u2069"
PRINTABLE = rf"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI_OVERRIDES}]*$"
# One line of text, as a filter or a label: no control character at all.
ONE_LINE = rf"^[^\x00-\x1f\x7f-\x9f{_BIDI_OVERRIDES}]*$"
# An organisation's code, as organisations are created with it.
ORG_CODE = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


def _whole_number(value: Any) -> Any:
    """2.0 is the whole number 2, as JSON Schema's `integer` says; "2" and true stay mistakes."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Day = Annotated[date, BeforeValidator(_only_iso_day)]
# Beside `strict=True` and after the constraints (pydantic renders them only then): a whole
# number as JSON carries it, 2 or 2.0, never a string, a boolean or a fraction.
WHOLE = BeforeValidator(_whole_number)
Instant = Annotated[
    datetime, BeforeValidator(_only_iso_instant), AfterValidator(_within_the_calendar)
]
