"""Value types shared by request schemas and parameters.

Pydantic's lax parsing reads `0` as the day 1970-01-01 and `"5"` as the number 5; a client
sending those has made a mistake we should name, not a request we should guess at.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator

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


# Ids are 32-bit integers in the database; larger values are refused before reaching it.
MAX_ID = 2_147_483_647

# Control characters (other than tab and line breaks) cannot be stored in a workbook cell and
# are never what a person meant to type.
PRINTABLE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"

Day = Annotated[date, BeforeValidator(_only_iso_day)]
Instant = Annotated[datetime, BeforeValidator(_only_iso_instant)]
