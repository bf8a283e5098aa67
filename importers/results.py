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


@dataclass(frozen=True)
class SheetInfo:
    name: str
    role: str  # wbs | side | hidden | no_header
    header_rows: list[int]
    mapping: dict[str, list[str]]
