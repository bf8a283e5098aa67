"""An upload as sheets of cells, each row checked against the caps as it streams by."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from importers.errors import FileTooLarge

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_upload_bytes: int = 20 * MiB
    max_uncompressed_bytes: int = 200 * MiB
    max_rows: int = 200_000
    max_columns: int = 200
    max_cell_chars: int = 10_000
    # A Gantt chart's calendar beside the task list: three years of days.
    max_grid_columns: int = 1100


class Cell(Protocol):
    @property
    def value(self) -> Any: ...


@dataclass(frozen=True, slots=True)
class TextCell:
    """A CSV field: text only, no format and no indentation."""

    value: str | None


def number_format(cell: object) -> str | None:
    return getattr(cell, "number_format", None)


def indent(cell: object) -> int:
    alignment = getattr(cell, "alignment", None)
    return int(getattr(alignment, "indent", 0) or 0) if alignment is not None else 0


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


@dataclass
class SheetSource:
    name: str
    visible: bool
    _rows: Callable[[], Iterable[Sequence[Cell]]]
    limits: Limits

    def rows(self, grid: range | None = None) -> Iterator[tuple[int, Sequence[Cell]]]:
        """(sheet row number, cells), checked against the caps as they stream by.

        The columns of a Gantt chart's calendar `grid` do not count against the column cap:
        a fiscal year of days is 366 of them. Before the grid is known (None, while the header
        is looked for), a row may be as wide as the grid cap allows beside the column cap.
        """
        limits = self.limits
        widest = limits.max_columns + (limits.max_grid_columns if grid is None else len(grid))
        for number, row in enumerate(self._rows(), start=1):
            if number > limits.max_rows:
                raise FileTooLarge(
                    f"sheet {self.name!r} has more than {limits.max_rows} rows; "
                    "split it or ask the operator to raise WBS_IMPORT_MAX_ROWS",
                    sheet=self.name,
                )
            cells = list(row)
            while cells and (cells[-1].value is None or cells[-1].value == ""):
                cells.pop()
            if len(cells) > widest:
                raise FileTooLarge(
                    f"sheet {self.name!r} row {number} has {len(cells)} columns, more than "
                    f"{limits.max_columns}",
                    sheet=self.name,
                    row=number,
                )
            for index, cell in enumerate(cells):
                if isinstance(cell.value, str) and len(cell.value) > limits.max_cell_chars:
                    where = f"{column_letter(index)}{number}"
                    raise FileTooLarge(
                        f"sheet {self.name!r}: cell {where} (column {column_letter(index)}) holds "
                        f"{len(cell.value):,} characters, more than {limits.max_cell_chars:,}: "
                        "shorten it or move the text to a document the item names",
                        sheet=self.name,
                        row=number,
                        column=column_letter(index),
                    )
            yield number, cells


@dataclass
class Source:
    kind: str  # "xlsx" or "csv"
    sheets: list[SheetSource]
    epoch: datetime
    closer: Callable[[], None] | None = None

    def close(self) -> None:
        if self.closer is not None:
            self.closer()
