"""What reading a sheet hands on: its rows as typed values, and every problem where it sits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Diagnostic:
    sheet: str
    row: int
    column: str | None
    value: str | None
    message: str
    # What went wrong, as a word (role, mark, date …): problems of one kind down one column
    # are said once for the column too (advice.py).
    kind: str | None = None
    # For a problem said of a whole column: the mapping that reads the sheet as it is written.
    mapping: dict[str, str] | None = None


@dataclass(frozen=True)
class Step:
    """What a row says of the national procedure's step (手順), as written: the group's circled
    number and name (① 推進体制の立上げ), and the row's own code (①-1). Kept for the fields
    that will hold it; nothing reads it yet but the preview."""

    number: str | None  # ①
    name: str | None  # 推進体制の立上げ
    code: str | None  # ①-1


@dataclass
class ImportRow:
    row: int
    code: str
    # Set when the sheet's structure names the parent (levels, indentation, ア) under 1);
    # otherwise the parent follows from the code itself.
    parent_code: str | None
    # Field → value as read; a group's are settled only when the sheet ends (its children's
    # sides and span), which is why this one type is not frozen.
    values: dict[str, Any]
    columns: dict[str, str]  # field → the column letters it was read from
    is_group: bool = False
    step: Step | None = None
    # The cells as written (column letter → value), kept only for the rows a preview shows.
    cells: dict[str, object] | None = None


@dataclass(frozen=True)
class SheetInfo:
    name: str
    role: str  # wbs | side | hidden | no_header
    header_rows: list[int]
    mapping: dict[str, list[str]]
