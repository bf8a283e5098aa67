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


@dataclass
class SheetSource:
    name: str
    visible: bool
    _rows: Callable[[], Iterable[Sequence[Cell]]]
    limits: Limits

    def rows(self) -> Iterator[tuple[int, Sequence[Cell]]]:
        """(sheet row number, cells), checked against the caps as they stream by."""
        for number, row in enumerate(self._rows(), start=1):
            if number > self.limits.max_rows:
                raise FileTooLarge(
                    f"sheet {self.name!r} has more than {self.limits.max_rows} rows; "
                    "split it or ask the operator to raise WBS_IMPORT_MAX_ROWS",
                    sheet=self.name,
                )
            cells = list(row)
            while cells and (cells[-1].value is None or cells[-1].value == ""):
                cells.pop()
            if len(cells) > self.limits.max_columns:
                raise FileTooLarge(
                    f"sheet {self.name!r} row {number} has {len(cells)} columns, more than "
                    f"{self.limits.max_columns}",
                    sheet=self.name,
                    row=number,
                )
            for cell in cells:
                if isinstance(cell.value, str) and len(cell.value) > self.limits.max_cell_chars:
                    raise FileTooLarge(
                        f"sheet {self.name!r} row {number} has a cell of {len(cell.value)} "
                        f"characters, more than {self.limits.max_cell_chars}",
                        sheet=self.name,
                        row=number,
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
