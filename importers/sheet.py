"""A sheet's rows as typed WBS rows, with every problem named by sheet, row, column and value.

The reading in order: open the upload (upload.py), choose the sheet (choice.py), find its
header (layout.py), then row by row read the cells (rows.py) and place each row in the tree
(outline.py). The caller hands in the vocabulary: which fields there are and what headers
name them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain
from typing import IO

from importers.choice import choose_sheet, inspect_sheets, top_rows, values_of
from importers.dates import DateContext, fiscal_year_in
from importers.errors import LayoutNotFound
from importers.fields import (
    CODE,
    DONE_MARK,
    LEVELS,
    PERIOD_DAYS,
    RESPONSIBILITY,
    TITLE,
    Kind,
    Vocabulary,
    unknown_value,
)
from importers.layout import (
    HEADER_SEARCH_ROWS,
    MARK_PREFIX,
    Ignored,
    Layout,
    layout_from_mapping,
)
from importers.outline import NotAnItem, outline_for
from importers.readings import Reading
from importers.results import Diagnostic, ImportRow, SheetInfo
from importers.rollup import GroupRollUp
from importers.rows import RowReader, skip_reason
from importers.sources import Cell, Limits, SheetSource, Source, column_letter
from importers.upload import open_upload
from importers.values import clean_text, named_in, read_code, step_at_start

PROGRESS_EVERY = 1000


@dataclass(frozen=True)
class ReadingSummary:
    """A header reading as the preview shows it: its rows, what it reads, how its values read."""

    header_rows: list[int]
    mapping: dict[str, list[str]]
    fields_explained: int  # fields whose columns' values read as them
    values_read: int
    values_seen: int

    @classmethod
    def of(cls, reading: Reading) -> ReadingSummary:
        layout = reading.layout
        return cls(
            list(layout.header_rows),
            layout.mapping(),
            reading.explained,
            reading.read,
            reading.seen,
        )


@dataclass(frozen=True)
class SheetLayout:
    """What the header tells, before any row is read."""

    sheet: str
    sheets: list[SheetInfo]
    header_rows: list[int]
    mapping: dict[str, list[str]]
    ignored_columns: list[Ignored]
    fields: frozenset[str]  # the fields the sheet fills, from its own columns or another's
    headers: dict[str, str] = field(default_factory=dict)  # column letter → header as read
    # The reading chosen, then the best other one; none when the caller gave the mapping.
    readings: list[ReadingSummary] = field(default_factory=list)


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
        dates: DateContext,
        progress: Callable[[int], None] | None,
        keep_cells: int,
        sheet_values: Mapping[str, str] | None = None,
    ) -> None:
        self._sheet = sheet
        self._layout = layout
        self._vocabulary = vocabulary
        self._reader = RowReader(sheet.name, layout, vocabulary, epoch)
        self._dates = dates
        self._progress = progress
        self._keep_cells = keep_cells
        self._end: SheetEnd | None = None
        # What the sheet's name or title says of every row (住民記録): a column still wins.
        self._sheet_values = dict(sheet_values or {})
        # Steps the sheet has no column for: read from the start of each row's code or title.
        columns = set(layout.columns.values())
        self._steps = [step for step in vocabulary.of_kind(Kind.step) if step.name not in columns]

    def end(self) -> SheetEnd:
        if self._end is None:
            raise RuntimeError("the sheet's end is known only once all its rows are read")
        return self._end

    def __iter__(self) -> Iterator[ImportRow]:
        reader, name, grid = self._reader, self._sheet.name, self._layout.grid
        outline = outline_for(reader, self._layout.fields(), self._vocabulary.parent_of)
        roll_up = GroupRollUp(self._vocabulary.parent_of)
        skipped: list[Diagnostic] = []
        blank_rows: list[int] = []
        seen_codes: dict[str, int] = {}  # code → the row that has it
        made_up: set[str] = set()  # the codes of items made for group cells
        kept = 0
        for number, cells in self._sheet.rows(grid):
            if self._progress is not None and number % PROGRESS_EVERY == 0:
                self._progress(number)
            if number < self._layout.first_data_row:
                continue
            # Only the row's first text matters here: cleaning every cell was a tenth of the parse.
            # A Gantt bar (■) is no text of the row's.
            task_cells = chain(cells[: grid.start], cells[grid.stop :]) if grid else cells
            first = next((text for cell in task_cells if (text := clean_text(cell.value))), None)
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
            placed = outline.place(number, cells, code, title)
            if isinstance(placed, NotAnItem):
                skipped.append(Diagnostic(name, number, None, None, placed.reason))
                continue
            if placed is None:
                continue
            # A section's own row (its name merged across) is a group: its figures roll up.
            values = {} if placed.heading else reader.values(number, cells, self._dates)
            values.update(self._sheet_values)
            if not placed.heading:
                self._step_from_code(number, cells, placed.title, values)
            for group in placed.groups:
                group.values.update(self._sheet_values)
                seen_codes[group.code] = number
                made_up.add(group.code)
                roll_up.see(group)
                yield group
            if placed.code in seen_codes:
                earlier = seen_codes[placed.code]
                by = f" (by the group cell on row {earlier})" if placed.code in made_up else ""
                reader.problem(
                    number,
                    reader.letters.get(CODE),
                    placed.code,
                    f"code {placed.code} is already used in row {earlier}{by}",
                    "duplicate",
                )
                continue
            seen_codes[placed.code] = number
            values[TITLE] = placed.title
            columns = {} if placed.heading else reader.columns
            row = ImportRow(
                number, placed.code, placed.parent, values, columns, placed.heading, placed.step
            )
            if kept < self._keep_cells:
                kept += 1
                row.cells = {
                    column_letter(i): cell.value
                    for i, cell in enumerate(cells)
                    if i not in grid and cell.value is not None
                }
            roll_up.see(row)
            yield row
        self._end = SheetEnd(reader.errors, skipped, roll_up.settle())

    def _step_from_code(
        self, row: int, cells: Sequence[Cell], title: str | None, values: dict[str, object]
    ) -> None:
        """A step the code or the title starts with (③-2-ア, 【手順3-2】 …), for a sheet with no
        step column; said only where a row has one, so nothing else is cleared."""
        reader = self._reader
        for named in self._steps:
            written = clean_text(reader.value(cells, CODE))
            step, letter = step_at_start(written), reader.letters.get(CODE)
            if step is None:
                step, letter, written = step_at_start(title), reader.letters.get(TITLE), title
            if step is None:
                continue
            if step in named.values:
                values[named.name] = named.values[step]
            else:
                reader.problem(row, letter, written, unknown_value(step, named), named.name)


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
    keep_cells: int = 0,
) -> Iterator[tuple[SheetLayout, RowStream]]:
    """The sheet's layout, and its rows one at a time.

    File-level problems raise on entry (or, like too many rows, as the rows stream by).
    Row-level ones, skipped rows and settled groups are in the stream's end. The first
    `keep_cells` rows keep their cells as written, for a preview.
    """
    source = open_upload(file, filename, limits or Limits())
    try:
        shown, chosen, layout, dates, named = _prepare(
            source, vocabulary, sheet, mapping, header_row
        )
        stream = RowStream(
            chosen, layout, vocabulary, source.epoch, dates, progress, keep_cells, named
        )
        yield shown, stream
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
) -> tuple[SheetLayout, SheetSource, Layout, DateContext, dict[str, str]]:
    found = inspect_sheets(source, vocabulary)
    chosen, detection = choose_sheet(source, found, sheet, mapped=bool(mapping))
    top = top_rows(chosen)
    readings: list[ReadingSummary] = []
    if mapping:
        row = header_row or (detection.chosen.layout.header_rows[-1] if detection else 1)
        if not 1 <= row <= len(top):
            raise LayoutNotFound(f"header_row {row} is not among the first {len(top)} rows")
        try:
            layout = layout_from_mapping(mapping, row, values_of(top[row - 1]), vocabulary)
        except ValueError as error:
            raise LayoutNotFound(str(error)) from None
    elif detection is None:
        raise LayoutNotFound(
            f"sheet {chosen.name!r} has no WBS header row in its first "
            f"{HEADER_SEARCH_ROWS} rows; pass a column mapping",
            candidates=[chosen.name],
        )
    else:
        layout = detection.chosen.layout
        readings = [ReadingSummary.of(detection.chosen)]
        if detection.alternative is not None:
            readings.append(ReadingSummary.of(detection.alternative))
    fields = layout.fields()
    if TITLE not in fields and not fields & set(LEVELS):
        raise LayoutNotFound("the mapping names no title column (作業項目)")
    shown = SheetLayout(
        sheet=chosen.name,
        sheets=[info for info, _ in found],
        header_rows=list(layout.header_rows),
        mapping=layout.mapping(),
        ignored_columns=layout.ignored,
        fields=_filled(fields, vocabulary),
        headers={
            column_letter(i): text
            for i, text in sorted(layout.headers.items())
            if i in layout.columns
        },
        readings=readings,
    )
    named = _title_choices(chosen.name, top, layout, vocabulary)
    return shown, chosen, layout, _title_dates(chosen.name, top, layout), named


def _filled(columns: set[str], vocabulary: Vocabulary) -> frozenset[str]:
    """The fields a sheet fills: from their own columns, and from the other notations."""
    filled = {name for name in columns if name in vocabulary.by_name}
    if any(name.startswith(MARK_PREFIX) for name in columns):
        filled.add(RESPONSIBILITY)
    for notation, days in PERIOD_DAYS.items():
        if notation in columns:
            filled.update(days)
    # No status column: the status follows the progress, or the completion marks.
    if filled & {vocabulary.one(Kind.percent)} or DONE_MARK in columns:
        filled.add(vocabulary.one(Kind.status))
    return frozenset(filled | (columns & set(LEVELS)))


def _title_choices(
    name: str, top: Sequence[Sequence[Cell]], layout: Layout, vocabulary: Vocabulary
) -> dict[str, str]:
    """What the sheet's name, or else its title block, says of a choice the sheet has no column
    for (住民記録 in "住民記録WBS"): the longest word of the field's found, so 戸籍の附票 is not
    戸籍."""
    above = [cell.value for row in top[: layout.header_rows[0] - 1] for cell in row]
    texts = [name, *(value for value in above if isinstance(value, str))]
    found = {}
    for choice in vocabulary.of_kind(Kind.choice):
        if choice.name in layout.columns.values():
            continue
        value = next((v for text in texts if (v := named_in(text, choice.values))), None)
        if value is not None:
            found[choice.name] = value
    return found


def _title_dates(name: str, top: Sequence[Sequence[Cell]], layout: Layout) -> DateContext:
    """What the sheet's name and title block say of the year (令和7年度 WBS)."""
    above = [cell.value for row in top[: layout.header_rows[0] - 1] for cell in row]
    for text in (name, *(str(value) for value in above if isinstance(value, str))):
        found = fiscal_year_in(text)
        if found is not None:
            return found
    return DateContext()
