"""Where each row sits in the tree, one class per way sheets write it.

A sheet gives its outline by codes (1, 1-2, ア)), by level columns (大項目/中項目/小項目, blank
meaning "same as above"), or by the title's indentation. A new way is one more class with a
`place` method, and a line in `outline_for`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from importers.fields import CODE, LEVELS, PARENT_CODE, TITLE
from importers.results import ImportRow
from importers.rows import RowReader
from importers.sources import Cell, indent
from importers.values import clean_text, lettered_suffix, read_code


@dataclass(frozen=True)
class Placed:
    """A row's place: its code, its parent (None: the code implies it), the groups it opens."""

    code: str
    parent: str | None
    title: str | None
    groups: tuple[ImportRow, ...] = ()


@dataclass(frozen=True)
class NotAnItem:
    reason: str


class Outline(ABC):
    def __init__(self, reader: RowReader) -> None:
        self.reader = reader

    @abstractmethod
    def place(
        self, row: int, cells: Sequence[Cell], code: str | None, title: str | None
    ) -> Placed | NotAnItem | None:
        """Where the row goes; NotAnItem to list it as skipped, None when it is left out
        (a problem already said why, or the row holds nothing to place)."""


class CodeOutline(Outline):
    """Codes as written (1-2 under 1); a lettered row (ア)) goes under the numbered one above."""

    def __init__(self, reader: RowReader) -> None:
        super().__init__(reader)
        self.last_numbered: str | None = None

    def place(
        self, row: int, cells: Sequence[Cell], code: str | None, title: str | None
    ) -> Placed | NotAnItem | None:
        if code is None:
            if title is None:
                return NotAnItem("no code and no title")
            letter = self.reader.letters.get(CODE)
            self.reader.problem(row, letter, None, "the item has a title but no code (項番)")
            return None
        # An exported sheet names each parent, so parents the code does not imply survive
        # and codes are taken as written.
        named_parent = read_code(self.reader.value(cells, PARENT_CODE))
        lettered = lettered_suffix(code)
        parent = None
        if named_parent is not None:
            parent = named_parent
        elif lettered and self.last_numbered:
            parent = self.last_numbered
            code = f"{parent}-{lettered}"
        if not lettered:
            self.last_numbered = code
        if title is None:
            self.reader.problem(row, self.reader.letters.get(TITLE), None, "the item has no title")
        return Placed(code, parent, title)


@dataclass
class _Numbering:
    """Codes made up for sheets that write none: 1, 1.1, 1.1.1, by depth."""

    counters: list[int] = field(default_factory=list)
    path: list[tuple[str, str]] = field(default_factory=list)  # (title, code) per depth

    def next(self, depth: int, title: str) -> tuple[str, str | None]:
        del self.counters[depth + 1 :]
        while len(self.counters) <= depth:
            self.counters.append(0)
        self.counters[depth] += 1
        code = ".".join(str(n) for n in self.counters[: depth + 1])
        parent = self.path[depth - 1][1] if depth > 0 and len(self.path) >= depth else None
        del self.path[depth:]
        self.path.append((title, code))
        return code, parent

    def title_at(self, depth: int) -> str | None:
        return self.path[depth][0] if depth < len(self.path) else None


class LevelOutline(Outline):
    """One column per depth; a blank or merged cell repeats the one above, and each new
    upper-level text becomes a group item of its own."""

    def __init__(self, reader: RowReader, fields: set[str]) -> None:
        super().__init__(reader)
        self.levels = [name for name in (*LEVELS, TITLE) if name in fields]
        self.numbering = _Numbering()

    def place(
        self, row: int, cells: Sequence[Cell], code: str | None, title: str | None
    ) -> Placed | NotAnItem | None:
        given = [clean_text(self.reader.value(cells, name)) for name in self.levels]
        deepest = max((i for i, text in enumerate(given) if text), default=None)
        if deepest is None:
            return None
        groups = []
        for depth in range(deepest):
            text = given[depth]
            if text is None or text == self.numbering.title_at(depth):
                continue
            group_code, parent = self.numbering.next(depth, text)
            groups.append(ImportRow(row, group_code, parent, {TITLE: text}, {}, is_group=True))
        title = given[deepest]
        assert title is not None
        code, parent = self.numbering.next(deepest, title)
        return Placed(code, parent, title, tuple(groups))


class IndentOutline(Outline):
    """The title cell's indentation: Excel's indent, or leading spaces (none: a flat list)."""

    def __init__(self, reader: RowReader) -> None:
        super().__init__(reader)
        self.numbering = _Numbering()

    def place(
        self, row: int, cells: Sequence[Cell], code: str | None, title: str | None
    ) -> Placed | NotAnItem | None:
        cell = self.reader.cell(cells, TITLE)
        if not title:
            return None
        depth = min(_indent_level(cell), len(self.numbering.path))
        code, parent = self.numbering.next(depth, title)
        return Placed(code, parent, title)


def _indent_level(cell: Cell | None) -> int:
    if cell is None or not isinstance(cell.value, str):
        return indent(cell) if cell is not None else 0
    # One full-width space, or two half-width ones, per outline level.
    raw = cell.value.replace("\u3000", "  ")
    leading = len(raw) - len(raw.lstrip(" "))
    return indent(cell) + leading // 2


def outline_for(reader: RowReader, fields: set[str]) -> Outline:
    if CODE in fields:
        return CodeOutline(reader)
    if fields & set(LEVELS):
        return LevelOutline(reader, fields)
    return IndentOutline(reader)


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


class GroupRollUp:
    """A group made up from the outline takes its children's sides, span and status.

    Groups come before their children, so each group's figures are gathered as the children
    pass and settled when the sheet ends: only the groups are held, never the rows.
    """

    def __init__(self) -> None:
        self.groups: dict[str, ImportRow] = {}
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

    def settle(self) -> dict[str, ImportRow]:
        """The groups with their figures, by code."""
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
        return self.groups
