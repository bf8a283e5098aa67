"""The fields a sheet can fill, as the importer sees them: a name, a kind, the header words.

The fields themselves are the service's (service/items/fields.py); it describes them to the
importer with these types, since the importer knows no service.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from importers.dates import Role


class Kind(enum.StrEnum):
    """How a cell of the field is read."""

    item_id = "item_id"  # the ID column an export writes
    code = "code"  # 項番 such as 1-2, ①-1, １－２
    short_text = "short_text"  # one line
    long_text = "long_text"  # several lines
    day = "day"  # a day, keeping the sheet's text when it was not exact (10月下旬)
    responsibility = "responsibility"  # a role word, or ◎○△ marks in one column per party
    status = "status"  # a status word
    percent = "percent"  # 0–100, or a fraction in a percent-formatted cell
    codes = "codes"  # a list of codes


@dataclass(frozen=True)
class SheetField:
    name: str
    kind: Kind
    # Headers that name the field, compared after importers.values.key() folding.
    words: tuple[str, ...]
    role: Role | None = None
