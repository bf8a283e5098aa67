"""A sheet's rows as typed WBS rows, with every problem named by sheet, row, column and value."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from importers.dates import DateContext, DateError, Role, parse_date
from importers.layout import (
    HEADER_SEARCH_ROWS,
    MARK_PREFIX,
    Layout,
    column_letter,
    detect_layout,
    layout_from_mapping,
)
from importers.sources import (
    Cell,
    ImportFileError,
    Limits,
    SheetSource,
    Source,
    indent,
    number_format,
    open_source,
)
from importers.values import (
    Party,
    ValueProblem,
    clean_long_text,
    clean_text,
    key,
    lettered_suffix,
    read_code,
    read_marks,
    read_predecessors,
    read_progress,
    read_responsibility,
    read_status,
)

LEVELS = ("level1", "level2", "level3")
PROGRESS_EVERY = 1000
SHORT_TEXT = ("title", "assignee")
LONG_TEXT = ("description", "deliverable", "notes")
DATES = (
    ("planned_start", Role.start),
    ("planned_end", Role.end),
    ("actual_start", Role.start),
    ("actual_end", Role.end),
)
_SIDE_SHEETS = tuple(
    key(word)
    for word in ("表紙", "凡例", "目次", "説明", "注意", "履歴", "記入例", "使い方", "cover",
                 "legend", "readme", "instructions", "index", "changelog", "history")
)  # fmt: skip
_TOTALS = {key(word) for word in ("合計", "小計", "総計", "計", "total", "subtotal", "grand total")}
_NOTE_PREFIX = re.compile(r"^\s*(※|注[\s:：0-9０-９)）.．]|注$|\*)")


class SheetChoiceRequired(ImportFileError):
    status = 422


class LayoutNotFound(ImportFileError):
    status = 422


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
    values: dict[str, Any]
    columns: dict[str, str]
    is_group: bool = False


@dataclass
class SheetInfo:
    name: str
    role: str  # wbs | side | hidden | no_header
    header_rows: list[int]
    mapping: dict[str, list[str]]


@dataclass
class ParsedSheet:
    sheet: str
    sheets: list[SheetInfo]
    header_rows: list[int]
    mapping: dict[str, list[str]]
    ignored_columns: list[tuple[str, str]]
    fields: set[str]
    rows: list[ImportRow] = field(default_factory=list)
    skipped: list[Diagnostic] = field(default_factory=list)
    errors: list[Diagnostic] = field(default_factory=list)
    # Groups made up from level columns, by code: their values are settled only when the
    # sheet ends, so a reader that put rows aside earlier takes these instead.
    groups: dict[str, ImportRow] = field(default_factory=dict)


def _top_rows(sheet: SheetSource) -> list[Sequence[Cell]]:
    rows = []
    for number, cells in sheet.rows():
        rows.append(cells)
        if number >= HEADER_SEARCH_ROWS:
            break
    return rows


def _values(cells: Sequence[Cell]) -> list[object]:
    return [cell.value for cell in cells]


def inspect_sheets(source: Source) -> list[tuple[SheetInfo, Layout | None]]:
    found: list[tuple[SheetInfo, Layout | None]] = []
    for sheet in source.sheets:
        if not sheet.visible:
            found.append((SheetInfo(sheet.name, "hidden", [], {}), None))
            continue
        layout = detect_layout([_values(row) for row in _top_rows(sheet)])
        if any(word in key(sheet.name) for word in _SIDE_SHEETS) and (
            layout is None or len(source.sheets) > 1
        ):
            found.append((SheetInfo(sheet.name, "side", [], {}), None))
        elif layout is None:
            found.append((SheetInfo(sheet.name, "no_header", [], {}), None))
        else:
            found.append(
                (SheetInfo(sheet.name, "wbs", list(layout.header_rows), layout.mapping()), layout)
            )
    return found


def _choose(
    source: Source,
    found: list[tuple[SheetInfo, Layout | None]],
    wanted: str | None,
    *,
    mapped: bool = False,
) -> tuple[SheetSource, Layout | None]:
    by_name = {sheet.name: sheet for sheet in source.sheets}
    candidates = [info.name for info, layout in found if layout is not None]
    if mapped and not candidates:
        # With the caller's own mapping, any visible sheet that is not a cover can be the WBS.
        candidates = [info.name for info, _ in found if info.role == "no_header"]
    if wanted is not None:
        if wanted not in by_name:
            raise SheetChoiceRequired(
                f"there is no sheet {wanted!r}; the sheets are: {', '.join(by_name)}",
                candidates=candidates,
            )
        layout = next(layout for info, layout in found if info.name == wanted)
        return by_name[wanted], layout
    if len(candidates) == 1:
        name = candidates[0]
        return by_name[name], next(layout for info, layout in found if info.name == name)
    if not candidates:
        raise LayoutNotFound(
            "no sheet has a WBS header row (such as 項番 / 作業項目 / 担当 / 期限) in its first "
            f"{HEADER_SEARCH_ROWS} rows; pass a column mapping",
            candidates=[info.name for info, _ in found],
        )
    raise SheetChoiceRequired(
        f"several sheets look like a WBS: {', '.join(candidates)}; name the one to import",
        candidates=candidates,
    )


def _indent_level(cell: Cell | None) -> int:
    if cell is None or not isinstance(cell.value, str):
        return indent(cell) if cell is not None else 0
    # One full-width space, or two half-width ones, per outline level.
    raw = cell.value.replace("\u3000", "  ")
    leading = len(raw) - len(raw.lstrip(" "))
    return indent(cell) + leading // 2


@dataclass
class _Hierarchy:
    """Codes and parents for sheets whose codes are missing or relative."""

    mode: str  # code | levels | indent (no indentation at all reads as a flat list)
    counters: list[int] = field(default_factory=list)
    path: list[tuple[str, str]] = field(default_factory=list)  # (title, code) per depth
    last_numbered: str | None = None

    def generated(self, depth: int) -> tuple[str, str | None]:
        del self.counters[depth + 1 :]
        while len(self.counters) <= depth:
            self.counters.append(0)
        self.counters[depth] += 1
        code = ".".join(str(n) for n in self.counters[: depth + 1])
        parent = self.path[depth - 1][1] if depth > 0 and len(self.path) >= depth else None
        return code, parent

    def enter(self, depth: int, title: str, code: str) -> None:
        del self.path[depth:]
        self.path.append((title, code))


class _RowReader:
    def __init__(self, sheet: str, layout: Layout, epoch: Any) -> None:
        self.sheet = sheet
        self.layout = layout
        self.epoch = epoch
        self.columns: dict[str, list[int]] = {}
        for index, name in sorted(layout.columns.items()):
            self.columns.setdefault(name, []).append(index)
        self.dates = DateContext()
        self.errors: list[Diagnostic] = []
        # Almost every row reads the same fields from the same columns: one dict for them all.
        self._shared_columns: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}

    def cell(self, cells: Sequence[Cell], name: str) -> tuple[Cell | None, str | None]:
        indexes = self.columns.get(name)
        if not indexes:
            return None, None
        index = indexes[0]
        return (cells[index] if index < len(cells) else None), column_letter(index)

    def value(self, cells: Sequence[Cell], name: str) -> object:
        cell, _ = self.cell(cells, name)
        return cell.value if cell is not None else None

    def problem(self, row: int, column: str | None, value: object, message: str) -> None:
        shown = None if value is None else str(value)
        self.errors.append(Diagnostic(self.sheet, row, column, shown, message))

    def values(self, row: int, cells: Sequence[Cell]) -> tuple[dict[str, Any], dict[str, str]]:
        values: dict[str, Any] = {}
        columns: dict[str, str] = {}
        for name in SHORT_TEXT + LONG_TEXT:
            cell, letter = self.cell(cells, name)
            if letter is None:
                continue
            raw = cell.value if cell is not None else None
            values[name] = clean_text(raw) if name in SHORT_TEXT else clean_long_text(raw)
            columns[name] = letter
        self._responsibility(row, cells, values, columns)
        for name, role in DATES:
            cell, letter = self.cell(cells, name)
            if letter is None:
                continue
            columns[name] = letter
            raw = cell.value if cell is not None else None
            try:
                parsed = parse_date(raw, role, self.dates, epoch=self.epoch)
            except DateError as error:
                self.problem(row, letter, raw, str(error))
                continue
            values[name] = parsed.day if parsed else None
            values[f"{name}_text"] = parsed.text if parsed else None
        for kind in ("planned", "actual"):
            start, end = values.get(f"{kind}_start"), values.get(f"{kind}_end")
            if start and end and end < start:
                self.problem(
                    row, columns.get(f"{kind}_end"), values.get(f"{kind}_end_text") or end,
                    f"{kind} end {end} is before its start {start}",
                )  # fmt: skip
        self._progress(row, cells, values, columns)
        cell, letter = self.cell(cells, "predecessors")
        if letter is not None:
            values["predecessors"] = read_predecessors(cell.value if cell else None)
            columns["predecessors"] = letter
        cell, letter = self.cell(cells, "id")
        if letter is not None and cell is not None and cell.value not in (None, ""):
            try:
                values["id"] = int(str(cell.value).strip().removesuffix(".0"))
            except ValueError:
                self.problem(
                    row, letter, cell.value, "the ID column holds a number the export wrote"
                )
        return values, self._shared_columns.setdefault(tuple(columns.items()), columns)

    def _responsibility(
        self, row: int, cells: Sequence[Cell], values: dict[str, Any], columns: dict[str, str]
    ) -> None:
        cell, letter = self.cell(cells, "responsibility")
        marks: dict[Party, list[object]] = {}
        mark_letters = []
        for name, indexes in self.columns.items():
            if name.startswith(MARK_PREFIX):
                party: Party = "vendor" if name.endswith("vendor") else "municipality"
                marks[party] = [cells[i].value if i < len(cells) else None for i in indexes]
                mark_letters += [column_letter(i) for i in indexes]
        try:
            if letter is not None:
                columns["responsibility"] = letter
                values["responsibility"] = read_responsibility(cell.value if cell else None)
            elif marks:
                columns["responsibility"] = "/".join(mark_letters)
                values["responsibility"] = read_marks(marks)
        except ValueProblem as problem:
            raw = (
                cell.value
                if letter is not None and cell is not None
                else " ".join(str(v) for cells_ in marks.values() for v in cells_ if v is not None)
            )
            self.problem(row, columns["responsibility"], raw or None, str(problem))

    def _progress(
        self, row: int, cells: Sequence[Cell], values: dict[str, Any], columns: dict[str, str]
    ) -> None:
        progress_cell, progress_letter = self.cell(cells, "progress")
        if progress_letter is not None:
            columns["progress"] = progress_letter
            raw = progress_cell.value if progress_cell else None
            try:
                values["progress"] = read_progress(raw, number_format(progress_cell))
            except ValueProblem as problem:
                self.problem(row, progress_letter, raw, str(problem))
        status_cell, status_letter = self.cell(cells, "status")
        if status_letter is not None:
            columns["status"] = status_letter
            raw = status_cell.value if status_cell else None
            try:
                values["status"] = read_status(raw)
            except ValueProblem as problem:
                self.problem(row, status_letter, raw, str(problem))
        progress = values.get("progress")
        if values.get("status") is None and (status_letter or progress_letter):
            # A blank status says no more than the progress beside it.
            values["status"] = (
                "done" if progress == 100 else "in_progress" if progress else "not_started"
            )
        if values.get("progress") is None and progress_letter:
            values["progress"] = 100 if values.get("status") in ("done", "not_applicable") else 0


def _skip_reason(first: str, code: str | None, title: str | None) -> str | None:
    if _NOTE_PREFIX.match(first):
        return "a note (starts with ※ or 注), not an item"
    for text in (code, title, first):
        if text and key(text) in _TOTALS:
            return f"a total row ({text}), not an item"
    return None


def _rows(
    sheet: SheetSource,
    layout: Layout,
    epoch: Any,
    parsed: ParsedSheet,
    progress: Callable[[int], None] | None = None,
) -> Iterator[ImportRow]:
    reader = _RowReader(sheet.name, layout, epoch)
    fields = layout.fields()
    if "code" in fields:
        hierarchy = _Hierarchy("code")
    elif fields & set(LEVELS):
        hierarchy = _Hierarchy("levels")
    else:
        # Without codes or levels, the title's indentation is the outline (none: a flat list).
        hierarchy = _Hierarchy("indent")
    levels = [name for name in (*LEVELS, "title") if name in fields]
    roll_up = _GroupRollUp(parsed.groups)
    blank_rows: list[int] = []
    seen_codes: dict[str, int] = {}
    for number, cells in sheet.rows():
        if progress is not None and number % PROGRESS_EVERY == 0:
            progress(number)
        if number < layout.first_data_row:
            continue
        # Only the row's first text matters here: cleaning every cell was a tenth of the parse.
        first = next((text for cell in cells if (text := clean_text(cell.value))), None)
        if first is None:
            blank_rows.append(number)
            continue
        for blank in blank_rows:
            parsed.skipped.append(Diagnostic(sheet.name, blank, None, None, "a blank row"))
        blank_rows = []
        code_cell, code_letter = reader.cell(cells, "code")
        code = read_code(code_cell.value) if code_cell is not None else None
        title = clean_text(reader.value(cells, "title"))
        reason = _skip_reason(first, code, title)
        if reason:
            parsed.skipped.append(Diagnostic(sheet.name, number, None, first, reason))
            continue
        values, columns = reader.values(number, cells)
        parent: str | None = None
        if hierarchy.mode == "code":
            if code is None:
                if title is None:
                    parsed.skipped.append(
                        Diagnostic(sheet.name, number, None, None, "no code and no title")
                    )
                else:
                    reader.problem(
                        number, code_letter, None, "the item has a title but no code (項番)"
                    )
                continue
            # An exported sheet names each parent, so parents the code does not imply survive
            # and codes are taken as written.
            named_parent = read_code(reader.value(cells, "parent_code"))
            letter = lettered_suffix(code)
            if named_parent is not None:
                parent = named_parent
            elif letter and hierarchy.last_numbered:
                parent = hierarchy.last_numbered
                code = f"{parent}-{letter}"
            if not letter:
                hierarchy.last_numbered = code
            if title is None:
                reader.problem(
                    number, reader.cell(cells, "title")[1], None, "the item has no title"
                )
        else:
            step = _structured(hierarchy, reader, levels, number, cells, values, columns)
            if step is None:
                continue
            for group in step[0]:
                roll_up.see(group)
                yield group
            code, parent, title = step[1], step[2], step[3]
        if code in seen_codes:
            reader.problem(
                number, code_letter, code, f"code {code} is already used in row {seen_codes[code]}"
            )
            continue
        seen_codes[code] = number
        values["title"] = title
        row = ImportRow(number, code, parent, values, columns)
        roll_up.see(row)
        yield row
    roll_up.settle()
    parsed.errors.extend(reader.errors)


def _structured(
    hierarchy: _Hierarchy,
    reader: _RowReader,
    levels: list[str],
    number: int,
    cells: Sequence[Cell],
    values: dict[str, Any],
    columns: dict[str, str],
) -> tuple[list[ImportRow], str, str | None, str] | None:
    """Codes made up from level columns (blank means same as above) or from indentation."""
    groups: list[ImportRow] = []
    if hierarchy.mode == "levels":
        given = [clean_text(reader.value(cells, name)) for name in levels]
        deepest = max((i for i, text in enumerate(given) if text), default=None)
        if deepest is None:
            return None
        for depth in range(deepest):
            text = given[depth]
            known = hierarchy.path[depth][0] if depth < len(hierarchy.path) else None
            if text is None or text == known:
                continue
            code, parent = hierarchy.generated(depth)
            hierarchy.enter(depth, text, code)
            groups.append(ImportRow(number, code, parent, {"title": text}, {}, is_group=True))
        title = given[deepest]
        assert title is not None
        depth = deepest
    else:
        title_cell, _ = reader.cell(cells, "title")
        title = clean_text(title_cell.value if title_cell else None) or ""
        if not title:
            return None
        depth = min(_indent_level(title_cell), len(hierarchy.path))
    code, parent = hierarchy.generated(depth)
    hierarchy.enter(depth, title, code)
    return groups, code, parent, title


@dataclass
class _Span:
    """What a group's children say, gathered as they pass."""

    sides: set[str] = field(default_factory=set)
    start: date | None = None
    end: date | None = None
    statuses: set[str | None] = field(default_factory=set)
    child_groups: list[str] = field(default_factory=list)

    def add(self, values: dict[str, Any]) -> None:
        if values.get("responsibility") is not None:
            self.sides.add(values["responsibility"])
        start, end = values.get("planned_start"), values.get("planned_end")
        if start and (self.start is None or start < self.start):
            self.start = start
        if end and (self.end is None or end > self.end):
            self.end = end
        self.statuses.add(values.get("status"))


class _GroupRollUp:
    """A group made up from level columns takes its children's sides, span and status.

    Groups come before their children, so each group's figures are gathered as the children
    pass and settled when the sheet ends: only the groups are held, never the rows.
    """

    def __init__(self, groups: dict[str, ImportRow]) -> None:
        self.groups = groups
        self.spans: dict[str, _Span] = {}

    def see(self, row: ImportRow) -> None:
        if row.is_group:
            self.groups[row.code] = row
            self.spans[row.code] = _Span()
        span = self.spans.get(row.parent_code) if row.parent_code else None
        if span is None:
            return
        if row.is_group:
            span.child_groups.append(row.code)  # its figures are known only at the end
        else:
            span.add(row.values)

    def settle(self) -> None:
        # Deepest groups last in the sheet: settled first, so their parents can add them.
        for code in reversed(self.spans):
            span, values = self.spans[code], self.groups[code].values
            for child in span.child_groups:
                span.add(self.groups[child].values)
            values["responsibility"] = span.sides.pop() if len(span.sides) == 1 else "joint"
            values["planned_start"], values["planned_end"] = span.start, span.end
            if span.statuses and span.statuses <= {"done", "not_applicable"}:
                values["status"] = "done"
            elif span.statuses - {None, "not_started"}:
                values["status"] = "in_progress"


@contextmanager
def stream_workbook(
    data: bytes,
    filename: str,
    *,
    sheet: str | None = None,
    mapping: dict[str, str] | None = None,
    header_row: int | None = None,
    limits: Limits | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[tuple[ParsedSheet, Iterator[ImportRow]]]:
    """The sheet's layout, and its rows one at a time: no more of the sheet held than a row.

    File-level problems raise on entry. Row-level ones, skipped rows and settled groups are
    in the ParsedSheet once the rows are exhausted.
    """
    source = open_source(data, filename, limits or Limits())
    try:
        parsed, chosen, layout = _prepare(source, sheet, mapping, header_row)
        yield parsed, _rows(chosen, layout, source.epoch, parsed, progress)
    finally:
        source.close()


def parse_workbook(
    data: bytes,
    filename: str,
    *,
    sheet: str | None = None,
    mapping: dict[str, str] | None = None,
    header_row: int | None = None,
    limits: Limits | None = None,
    progress: Callable[[int], None] | None = None,
) -> ParsedSheet:
    """Read an upload into typed rows; file-level problems raise, row-level ones are collected."""
    with stream_workbook(
        data,
        filename,
        sheet=sheet,
        mapping=mapping,
        header_row=header_row,
        limits=limits,
        progress=progress,
    ) as (parsed, rows):
        parsed.rows = list(rows)
    return parsed


def _prepare(
    source: Source, sheet: str | None, mapping: dict[str, str] | None, header_row: int | None
) -> tuple[ParsedSheet, SheetSource, Layout]:
    found = inspect_sheets(source)
    chosen, layout = _choose(source, found, sheet, mapped=bool(mapping))
    if mapping:
        top = _top_rows(chosen)
        row = header_row or (layout.header_rows[-1] if layout else 1)
        if not 1 <= row <= len(top):
            raise LayoutNotFound(f"header_row {row} is not among the first {len(top)} rows")
        try:
            layout = layout_from_mapping(mapping, row, _values(top[row - 1]))
        except ValueError as error:
            raise LayoutNotFound(str(error)) from None
    if layout is None:
        raise LayoutNotFound(
            f"sheet {chosen.name!r} has no WBS header row in its first "
            f"{HEADER_SEARCH_ROWS} rows; pass a column mapping",
            candidates=[chosen.name],
        )
    if "title" not in layout.fields() and not layout.fields() & set(LEVELS):
        raise LayoutNotFound("the mapping names no title column (作業項目)")
    parsed = ParsedSheet(
        sheet=chosen.name,
        sheets=[info for info, _ in found],
        header_rows=list(layout.header_rows),
        mapping=layout.mapping(),
        ignored_columns=layout.ignored,
        fields={name for name in layout.fields() if not name.startswith(MARK_PREFIX)}
        | (
            {"responsibility"} if any(n.startswith(MARK_PREFIX) for n in layout.fields()) else set()
        ),
    )
    return parsed, chosen, layout
