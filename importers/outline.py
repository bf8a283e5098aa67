"""Where each row sits in the tree, one class per way sheets write it.

A sheet gives its outline by codes (1, 1-2, ア)), by level columns (大項目/中項目/小項目, blank
meaning "same as above"), or by the title's indentation. A new way is one more class with a
`place` method, and a line in `outline_for`.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field

from importers.fields import CODE, LEVELS, PARENT_CODE, TITLE, ParentOf
from importers.results import ImportRow, Step
from importers.rows import RowReader
from importers.sources import Cell, indent
from importers.values import clean_text, lettered_suffix, numbered_stem, read_code


@dataclass(frozen=True)
class Placed:
    """A row's place: its code, its parent (None: the code implies it), the groups it opens."""

    code: str
    parent: str | None
    title: str | None
    groups: tuple[ImportRow, ...] = ()
    step: Step | None = None
    # A section's own row (its name alone, merged across): a group, its figures rolled up.
    heading: bool = False


@dataclass(frozen=True)
class NotAnItem:
    reason: str


class Outline(ABC):
    def __init__(self, reader: RowReader) -> None:
        self.reader = reader

    @abstractmethod
    def place(
        self,
        row: int,
        cells: Sequence[Cell],
        code: str | None,
        title: str | None,
    ) -> Placed | NotAnItem | None:
        """Where the row goes; NotAnItem to list it as skipped, None when it is left out
        (a problem already said why, or the row holds nothing to place)."""


class CodeOutline(Outline):
    """Codes as written (1-2 under 1); a lettered row (ア)) goes under the numbered one above."""

    def __init__(self, reader: RowReader) -> None:
        super().__init__(reader)
        self.last_numbered: str | None = None

    def place(
        self,
        row: int,
        cells: Sequence[Cell],
        code: str | None,
        title: str | None,
    ) -> Placed | NotAnItem | None:
        if code is not None and title is None:
            heading = self._heading(cells)
            if heading is not None:
                return heading
        if code is None:
            if title is None:
                return NotAnItem("no code and no title")
            letter = self.reader.letters.get(CODE)
            self.reader.problem(
                row, letter, None, "the item has a title but no code (項番)", "no_code"
            )
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
            # ③-2-ア's siblings are ③-2-イ and a bare ウ): all hang under ③-2.
            self.last_numbered = numbered_stem(code)
        if title is None:
            self.reader.problem(
                row, self.reader.letters.get(TITLE), None, "the item has no title", "no_title"
            )
        written = clean_text(self.reader.value(cells, CODE))
        # ①-1 is kept as 1-1; what was written is the national step's code.
        step = Step(None, None, written) if written is not None and written != code else None
        return Placed(code, parent, title, (), step)

    def _heading(self, cells: Sequence[Cell]) -> Placed | None:
        """A section's own row, its number and name in the code column and merged across
        (■ 1. 計画, ① 推進体制の立上げ): the item of that number."""
        written = clean_text(self.reader.value(cells, CODE))
        number, name = _split_number(written) if written else (None, None)
        if number is None or name is None:
            return None
        code = read_code(number)
        if code is None:
            return None
        self.last_numbered = code
        return Placed(code, None, name, (), Step(number, name, None), heading=True)


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
        self,
        row: int,
        cells: Sequence[Cell],
        code: str | None,
        title: str | None,
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
        self,
        row: int,
        cells: Sequence[Cell],
        code: str | None,
        title: str | None,
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


# A group cell's number before its name: ① 推進体制の立上げ, 1. 計画, 第2章 移行, (3) 試験.
_GROUP_NUMBER = re.compile(
    r"^[\s■□◆◇▼▽▶●・]*(?P<number>[\u2460-\u2473\u3251-\u325f\u32b1-\u32bf](?:[-‐－][0-9０-９]+)*"
    r"|第[0-9０-９]+[章節部編]|[(（][0-9０-９]+[)）]|[0-9０-９]+(?:[-.．][0-9０-９]+)*[.．、)）]?)"
    r"\s*(?P<name>.*)$"
)


@dataclass(frozen=True)
class _Group:
    text: str
    code: str | None
    row: int


class GroupedCodeOutline(CodeOutline):
    """Codes, with their groups written in level columns beside them.

    The national procedure's sheets put the step's name in a 大項目 (or 手順) column, in a
    merged cell or on the group's first row only, and its sub-steps' codes in the code column:
    ① 推進体制の立上げ beside ①-1, ①-2. Both describe one tree. A group cell becomes the
    group's item unless the sheet has a row of its own for it: its code from its number (①) or
    else from its children's codes, its title without the number, its side and dates rolled
    up from its children. A row whose code does not fall under its group is a problem.
    """

    def __init__(self, reader: RowReader, fields: set[str], parent_of: ParentOf) -> None:
        super().__init__(reader)
        self.levels = [name for name in LEVELS if name in fields]
        self.parent_of = parent_of
        self.path: list[_Group] = []
        self.groups: dict[str, int] = {}  # code → the row the group was made at

    def place(
        self,
        row: int,
        cells: Sequence[Cell],
        code: str | None,
        title: str | None,
    ) -> Placed | NotAnItem | None:
        texts = [clean_text(self.reader.value(cells, name)) for name in self.levels]
        changed = next(
            (
                depth
                for depth, text in enumerate(texts)
                if text is not None and (depth >= len(self.path) or self.path[depth].text != text)
            ),
            None,
        )
        made: list[ImportRow] = []
        if changed is not None:
            del self.path[changed:]
            deepest = max(d for d, text in enumerate(texts) if text is not None)
            for depth in range(changed, deepest + 1):
                text = texts[depth]
                if text is None:
                    continue
                group = self._group(row, text, code, title, deepest - depth + 1)
                self.path.append(group)
                if group.code is None or group.code == code:
                    continue  # the row itself is the group's item, or it has no place
                made.append(self._item(row, group, depth))
        if code is None and changed is not None and self.path and self.path[-1].row == row:
            group = self.path[-1]
            if group.code is None:
                self.reader.problem(
                    row,
                    self.reader.letters.get(self.levels[len(self.path) - 1]),
                    group.text,
                    f"the group {group.text} has no number, and no code under it gives it one",
                    "outline",
                )
                return None
            # A group's own row (the name alone, merged across): it is the group's item.
            number, name = _split_number(group.text)
            outer = self._outer(len(self.path) - 1)
            step = Step(number, name, None)
            return Placed(group.code, outer, name or group.text, (), step, heading=True)
        placed = super().place(row, cells, code, title)
        if not isinstance(placed, Placed):
            return placed
        self._check_under_group(row, placed.code)
        return Placed(placed.code, placed.parent, placed.title, tuple(made), self._step_of(cells))

    def _group(
        self, row: int, text: str, code: str | None, title: str | None, below: int
    ) -> _Group:
        number, _ = _split_number(text)
        if number is not None:
            return _Group(text, read_code(number), row)
        if code is None:
            return _Group(text, None, row)
        # No number: the code of the row's ancestor this many levels up.
        ancestor: str | None = code
        for _ in range(below):
            ancestor = self.parent_of(ancestor) if ancestor else None
        return _Group(text, ancestor, row)

    def _outer(self, depth: int) -> str | None:
        return next((g.code for g in reversed(self.path[:depth]) if g.code), None)

    def _item(self, row: int, group: _Group, depth: int) -> ImportRow:
        assert group.code is not None
        number, name = _split_number(group.text)
        self.groups[group.code] = row
        return ImportRow(
            row,
            group.code,
            self._outer(depth),
            {TITLE: name or group.text},
            {},
            is_group=True,
            step=Step(number, name, None),
        )

    def _check_under_group(self, row: int, code: str) -> None:
        group = next((g for g in reversed(self.path) if g.code), None)
        if group is None or group.code is None or code == group.code:
            return
        ancestor: str | None = code
        while ancestor is not None and ancestor != group.code:
            ancestor = self.parent_of(ancestor)
        if ancestor is None:
            level = self.levels[min(len(self.path), len(self.levels)) - 1]
            letter = self.reader.letters.get(level)
            self.reader.problem(
                row,
                self.reader.letters.get(CODE),
                code,
                f"the code {code} does not fall under its group in column {letter} "
                f"({group.text}, code {group.code}): correct the code or the group",
                "outline",
            )

    def _step_of(self, cells: Sequence[Cell]) -> Step | None:
        group = next((g for g in reversed(self.path) if g.code), None)
        written = clean_text(self.reader.value(cells, CODE))
        if group is None and written is None:
            return None
        number, name = _split_number(group.text) if group else (None, None)
        return Step(number, name, written)


def _split_number(text: str) -> tuple[str | None, str | None]:
    """(① , 推進体制の立上げ) from ① 推進体制の立上げ; (None, text) when it has no number."""
    match = _GROUP_NUMBER.match(text)
    if match is None or (not match["name"] and not match["number"]):
        return None, text
    return match["number"].rstrip(".．、)） "), match["name"].strip() or None


def outline_for(reader: RowReader, fields: set[str], parent_of: ParentOf) -> Outline:
    if CODE in fields and fields & set(LEVELS):
        return GroupedCodeOutline(reader, fields, parent_of)
    if CODE in fields:
        return CodeOutline(reader)
    if fields & set(LEVELS):
        return LevelOutline(reader, fields)
    return IndentOutline(reader)
