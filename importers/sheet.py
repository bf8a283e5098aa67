"""A sheet's rows as typed WBS rows, with every problem named by sheet, row, column and value.

The reading in order: open the upload (upload.py), choose the sheet (choice.py), find its
header (layout.py), then row by row read the cells (rows.py) and place each row in the tree
(outline.py). The caller hands in the vocabulary: which fields there are and what headers
name them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO

from importers.choice import choose_sheet, inspect_sheets, top_rows, values_of
from importers.dates import DateContext
from importers.errors import LayoutNotFound
from importers.fields import CODE, LEVELS, RESPONSIBILITY, TITLE, Vocabulary
from importers.layout import HEADER_SEARCH_ROWS, MARK_PREFIX, Layout, layout_from_mapping
from importers.outline import GroupRollUp, NotAnItem, outline_for
from importers.results import Diagnostic, ImportRow, SheetInfo
from importers.rows import RowReader, skip_reason
from importers.sources import Limits, SheetSource, Source
from importers.upload import open_upload
from importers.values import clean_text, read_code

PROGRESS_EVERY = 1000


@dataclass(frozen=True)
class SheetLayout:
    """What the header tells, before any row is read."""

    sheet: str
    sheets: list[SheetInfo]
    header_rows: list[int]
    mapping: dict[str, list[str]]
    ignored_columns: list[tuple[str, str]]  # (letter, header)
    fields: frozenset[str]  # the fields the sheet has a column for


@dataclass(frozen=True)
class SheetEnd:
    """What only the end of the sheet tells."""

    errors: list[Diagnostic]
    skipped: list[Diagnostic]
    # Groups made up from the outline, by code, with the figures their children gave them: a
    # reader that put rows aside earlier takes these instead.
    groups: Mapping[str, ImportRow]


@dataclass(frozen=True)
class ParsedSheet(SheetLayout):
    """A whole sheet read at once."""

    rows: list[ImportRow] = field(default_factory=list)
    errors: list[Diagnostic] = field(default_factory=list)
    skipped: list[Diagnostic] = field(default_factory=list)
    groups: Mapping[str, ImportRow] = field(default_factory=dict)


class RowStream:
    """The sheet's rows one at a time, no more of the sheet held than a row; `end()` after."""

    def __init__(
        self,
        sheet: SheetSource,
        layout: Layout,
        vocabulary: Vocabulary,
        epoch: datetime,
        progress: Callable[[int], None] | None,
    ) -> None:
        self._sheet = sheet
        self._layout = layout
        self._reader = RowReader(sheet.name, layout, vocabulary, epoch)
        self._progress = progress
        self._end: SheetEnd | None = None

    def end(self) -> SheetEnd:
        if self._end is None:
            raise RuntimeError("the sheet's end is known only once all its rows are read")
        return self._end

    def __iter__(self) -> Iterator[ImportRow]:
        reader, name = self._reader, self._sheet.name
        outline = outline_for(reader, self._layout.fields())
        roll_up = GroupRollUp()
        dates = DateContext()
        skipped: list[Diagnostic] = []
        blank_rows: list[int] = []
        seen_codes: dict[str, int] = {}
        for number, cells in self._sheet.rows():
            if self._progress is not None and number % PROGRESS_EVERY == 0:
                self._progress(number)
            if number < self._layout.first_data_row:
                continue
            # Only the row's first text matters here: cleaning every cell was a tenth of the parse.
            first = next((text for cell in cells if (text := clean_text(cell.value))), None)
            if first is None:
                blank_rows.append(number)
                continue
            skipped += (Diagnostic(name, blank, None, None, "a blank row") for blank in blank_rows)
            blank_rows = []
            code = read_code(reader.value(cells, CODE))
            title = clean_text(reader.value(cells, TITLE))
            reason = skip_reason(first, code, title)
            if reason:
                skipped.append(Diagnostic(name, number, None, first, reason))
                continue
            values = reader.values(number, cells, dates)
            placed = outline.place(number, cells, code, title)
            if isinstance(placed, NotAnItem):
                skipped.append(Diagnostic(name, number, None, None, placed.reason))
                continue
            if placed is None:
                continue
            for group in placed.groups:
                roll_up.see(group)
                yield group
            if placed.code in seen_codes:
                reader.problem(
                    number,
                    reader.letters.get(CODE),
                    placed.code,
                    f"code {placed.code} is already used in row {seen_codes[placed.code]}",
                )
                continue
            seen_codes[placed.code] = number
            values[TITLE] = placed.title
            row = ImportRow(number, placed.code, placed.parent, values, reader.columns)
            roll_up.see(row)
            yield row
        self._end = SheetEnd(reader.errors, skipped, roll_up.settle())


@contextmanager
def stream_workbook(
    file: IO[bytes],
    filename: str,
    vocabulary: Vocabulary,
    *,
    sheet: str | None = None,
    mapping: dict[str, str] | None = None,
    header_row: int | None = None,
    limits: Limits | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[tuple[SheetLayout, RowStream]]:
    """The sheet's layout, and its rows one at a time.

    File-level problems raise on entry (or, like too many rows, as the rows stream by).
    Row-level ones, skipped rows and settled groups are in the stream's end.
    """
    source = open_upload(file, filename, limits or Limits())
    try:
        layout, chosen, found = _prepare(source, vocabulary, sheet, mapping, header_row)
        yield layout, RowStream(chosen, found, vocabulary, source.epoch, progress)
    finally:
        source.close()


def parse_workbook(
    file: IO[bytes],
    filename: str,
    vocabulary: Vocabulary,
    *,
    sheet: str | None = None,
    mapping: dict[str, str] | None = None,
    header_row: int | None = None,
    limits: Limits | None = None,
) -> ParsedSheet:
    """Read an upload into typed rows; file-level problems raise, row-level ones are collected."""
    with stream_workbook(
        file, filename, vocabulary, sheet=sheet, mapping=mapping, header_row=header_row,
        limits=limits,
    ) as (layout, stream):  # fmt: skip
        rows = list(stream)
    end = stream.end()
    return ParsedSheet(
        **{name: getattr(layout, name) for name in SheetLayout.__dataclass_fields__},
        rows=rows,
        errors=end.errors,
        skipped=end.skipped,
        groups=end.groups,
    )


def _prepare(
    source: Source,
    vocabulary: Vocabulary,
    sheet: str | None,
    mapping: dict[str, str] | None,
    header_row: int | None,
) -> tuple[SheetLayout, SheetSource, Layout]:
    found = inspect_sheets(source, vocabulary)
    chosen, layout = choose_sheet(source, found, sheet, mapped=bool(mapping))
    if mapping:
        top = top_rows(chosen)
        row = header_row or (layout.header_rows[-1] if layout else 1)
        if not 1 <= row <= len(top):
            raise LayoutNotFound(f"header_row {row} is not among the first {len(top)} rows")
        try:
            layout = layout_from_mapping(mapping, row, values_of(top[row - 1]), vocabulary)
        except ValueError as error:
            raise LayoutNotFound(str(error)) from None
    if layout is None:
        raise LayoutNotFound(
            f"sheet {chosen.name!r} has no WBS header row in its first "
            f"{HEADER_SEARCH_ROWS} rows; pass a column mapping",
            candidates=[chosen.name],
        )
    fields = layout.fields()
    if TITLE not in fields and not fields & set(LEVELS):
        raise LayoutNotFound("the mapping names no title column (作業項目)")
    marked = any(name.startswith(MARK_PREFIX) for name in fields)
    shown = SheetLayout(
        sheet=chosen.name,
        sheets=[info for info, _ in found],
        header_rows=list(layout.header_rows),
        mapping=layout.mapping(),
        ignored_columns=layout.ignored,
        fields=frozenset(
            {name for name in fields if not name.startswith(MARK_PREFIX)}
            | ({RESPONSIBILITY} if marked else set())
        ),
    )
    return shown, chosen, layout
