"""One row's cells as typed values, each field read by its kind; and the rows that are no item.

The columns of each field are looked up once per sheet: every row reads the same fields from
the same cells, and the per-row loop is where a 100,000-row import spends its time.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from importers.dates import DateContext, DateError, Role, parse_date, parse_period
from importers.fields import (
    DONE_MARK,
    PERIOD_DAYS,
    RESPONSIBILITY,
    Kind,
    SheetField,
    Vocabulary,
    unknown_value,
)
from importers.layout import MARK_PREFIX, Layout
from importers.results import Diagnostic
from importers.sources import Cell, column_letter, number_format
from importers.values import (
    Party,
    ValueProblem,
    WholeStep,
    clean_long_text,
    clean_text,
    is_blank_word,
    key,
    read_done_mark,
    read_marks,
    read_predecessors,
    read_progress,
    read_responsibility,
    read_status,
    read_step,
    says_not_done,
)

# 集計 is what Japanese Excel writes in a table's totals row.
_TOTALS = {
    key(word)
    for word in ("合計", "小計", "総計", "計", "集計", "total", "subtotal", "grand total", "totals")
}
_NOTE_PREFIX = re.compile(r"^\s*(※|注[\s:：0-9０-９)）.．]|注$|\*)")

Column = tuple[str, int, str]  # field, column index, column letter


def skip_reason(first: str, code: str | None, title: str | None) -> str | None:
    """Why a row with text is not an item: a note under the table, or a total."""
    if _NOTE_PREFIX.match(first):
        return "a note (starts with ※ or 注), not an item"
    for text in (code, title, first):
        if text and key(text) in _TOTALS:
            return f"a total row ({text}), not an item"
    return None


def _at(cells: Sequence[Cell], index: int) -> Cell | None:
    return cells[index] if index < len(cells) else None


def _value(cells: Sequence[Cell], index: int) -> object:
    return cells[index].value if index < len(cells) else None


class RowReader:
    """Reads the fields of one sheet's rows, and keeps every problem it meets, in row order."""

    def __init__(self, sheet: str, layout: Layout, vocabulary: Vocabulary, epoch: datetime):
        self.sheet = sheet
        self.epoch = epoch
        self.errors: list[Diagnostic] = []
        self.indexes: dict[str, list[int]] = {}
        for index, name in sorted(layout.columns.items()):
            self.indexes.setdefault(name, []).append(index)
        self.letters = {name: column_letter(found[0]) for name, found in self.indexes.items()}

        def present(kind: Kind) -> list[Column]:
            return [
                (field.name, self.indexes[field.name][0], self.letters[field.name])
                for field in vocabulary.of_kind(kind)
                if field.name in self.indexes
            ]

        self._texts = [(*column, clean_text) for column in present(Kind.short_text)] + [
            (*column, clean_long_text) for column in present(Kind.long_text)
        ]
        roles = {field.name: field.role for field in vocabulary.of_kind(Kind.day)}
        self._days = [(*column, roles[column[0]] or Role.start) for column in present(Kind.day)]
        self._percent = present(Kind.percent)
        self._status = present(Kind.status)
        self._codes = present(Kind.codes)
        # A step or choice column: the values its field may take, by every word for one.
        self._valued = [
            (*column, vocabulary.by_name[column[0]])
            for column in (*present(Kind.step), *present(Kind.choice))
        ]
        self._item_id = present(Kind.item_id)
        self._role_word = self.indexes.get(RESPONSIBILITY, [None])[0]
        self._marks: list[tuple[Party, list[int]]] = [
            ("vendor" if name.endswith("vendor") else "municipality", found)
            for name, found in self.indexes.items()
            if name.startswith(MARK_PREFIX)
        ]
        self._status_name = vocabulary.one(Kind.status)
        self._progress_name = vocabulary.one(Kind.percent)
        # A period in one cell fills the days the sheet has no column of their own for.
        self._periods = [
            (days, self.indexes[name][0], self.letters[name])
            for name, days in PERIOD_DAYS.items()
            if name in self.indexes and not set(days) & set(self.indexes)
        ]
        self._done = (
            (self.indexes[DONE_MARK][0], self.letters[DONE_MARK])
            if DONE_MARK in self.indexes
            else None
        )
        # Every row reads the same fields from the same columns: one dict for them all.
        read: list[Column] = [
            *((name, index, letter) for name, index, letter, _ in self._texts),
            *((name, index, letter) for name, index, letter, _ in self._days),
            *self._percent,
            *self._status,
            *self._codes,
            *((name, index, letter) for name, index, letter, _ in self._valued),
        ]
        self.columns: dict[str, str] = {name: letter for name, _, letter in read}
        for days, _, letter in self._periods:
            self.columns.update(dict.fromkeys(days, letter))
        if self._done is not None and self._status_name not in self.columns:
            self.columns[self._status_name] = self._done[1]
        if self._role_word is not None:
            self.columns[RESPONSIBILITY] = self.letters[RESPONSIBILITY]
        elif self._marks:
            self.columns[RESPONSIBILITY] = "/".join(
                column_letter(i) for _, found in self._marks for i in found
            )

    def cell(self, cells: Sequence[Cell], name: str) -> Cell | None:
        found = self.indexes.get(name)
        return _at(cells, found[0]) if found else None

    def value(self, cells: Sequence[Cell], name: str) -> object:
        found = self.indexes.get(name)
        return _value(cells, found[0]) if found else None

    def problem(
        self, row: int, column: str | None, value: object, message: str, kind: str | None = None
    ) -> None:
        shown = None if value is None else str(value)
        self.errors.append(Diagnostic(self.sheet, row, column, shown, message, kind))

    def values(self, row: int, cells: Sequence[Cell], dates: DateContext) -> dict[str, Any]:
        """The row's fields as typed values; a cell that cannot be read is a problem instead."""
        values: dict[str, Any] = {}
        for name, index, _, clean in self._texts:
            values[name] = clean(_value(cells, index))
        self._responsibility(row, cells, values)
        for name, index, letter, role in self._days:
            raw = _value(cells, index)
            try:
                parsed = parse_date(raw, role, dates, epoch=self.epoch)
            except DateError as error:
                self.problem(row, letter, raw, str(error), "date")
                continue
            values[name] = parsed.day if parsed else None
            values[f"{name}_text"] = parsed.text if parsed else None
        for days, index, letter in self._periods:
            raw = _value(cells, index)
            try:
                ends = parse_period(raw, dates, epoch=self.epoch)
            except DateError as error:
                self.problem(row, letter, raw, str(error), "date")
                continue
            for name, parsed in zip(days, ends, strict=True):
                values[name] = parsed.day if parsed else None
                values[f"{name}_text"] = parsed.text if parsed else None
        self._progress(row, cells, values)
        for name, index, _ in self._codes:
            values[name] = read_predecessors(_value(cells, index))
        for _, index, letter, valued in self._valued:
            self._valued_cell(row, _value(cells, index), letter, valued, values)
        for name, index, letter in self._item_id:
            raw = _value(cells, index)
            if raw in (None, ""):
                continue
            try:
                values[name] = int(str(raw).strip().removesuffix(".0"))
            except ValueError:
                self.problem(
                    row, letter, raw, "the ID column holds a number the export wrote", "id"
                )
        return values

    def _valued_cell(
        self, row: int, raw: object, letter: str, field: SheetField, values: dict[str, Any]
    ) -> None:
        """A step (③-2) or a choice (住民記録) as the field's value; blank clears it."""
        text = clean_text(raw)
        if text is None or is_blank_word(text):
            values[field.name] = None
            return
        try:
            word = read_step(text) if field.kind is Kind.step else key(text)
        except WholeStep:
            # A group's row names its major step (③): the row is no one step of the 40.
            values[field.name] = None
            return
        except ValueProblem as problem:
            self.problem(row, letter, raw, str(problem), field.name)
            return
        value = field.values.get(word or "")
        if value is None:
            named = word if field.kind is Kind.step and word else text
            self.problem(row, letter, raw, unknown_value(named, field), field.name)
            return
        values[field.name] = value

    def _responsibility(self, row: int, cells: Sequence[Cell], values: dict[str, Any]) -> None:
        if self._role_word is None and not self._marks:
            return
        raw: object
        try:
            if self._role_word is not None:
                raw = _value(cells, self._role_word)
                values[RESPONSIBILITY] = read_responsibility(raw)
            else:
                marks = {party: [_value(cells, i) for i in found] for party, found in self._marks}
                raw = " ".join(str(v) for found in marks.values() for v in found if v is not None)
                values[RESPONSIBILITY] = read_marks(marks)
        except ValueProblem as problem:
            kind = "role" if self._role_word is not None else "mark"
            self.problem(row, self.columns[RESPONSIBILITY], raw or None, str(problem), kind)

    def _done_mark(self, row: int, cells: Sequence[Cell], values: dict[str, Any]) -> bool | None:
        """A completion column's mark (済, ○, ✓): done, not done (未, ×), or nothing said."""
        if self._done is None:
            return None
        index, letter = self._done
        raw = _value(cells, index)
        try:
            marked = read_done_mark(raw)
        except ValueProblem as problem:
            self.problem(row, letter, raw, str(problem), "done_mark")
            return None
        written = values.get(self._status_name)
        if marked and written not in (None, "done", "not_applicable"):
            status_letter = self.letters.get(self._status_name)
            self.problem(
                row,
                letter,
                raw,
                f"column {letter} marks the item done ({raw}) but column {status_letter} says "
                f"{written}: correct one of them",
                "done_mark",
            )
        return marked

    def _progress(self, row: int, cells: Sequence[Cell], values: dict[str, Any]) -> None:
        for name, index, letter in self._percent:
            cell = _at(cells, index)
            raw = cell.value if cell is not None else None
            try:
                values[name] = read_progress(raw, number_format(cell))
            except ValueProblem as problem:
                self.problem(row, letter, raw, str(problem), "progress")
        open_word = False
        for name, index, letter in self._status:
            raw = _value(cells, index)
            try:
                values[name] = read_status(raw)
            except ValueProblem as problem:
                self.problem(row, letter, raw, str(problem), "status")
            if values.get(name) is None:
                open_word = says_not_done(raw)
        marked = self._done_mark(row, cells, values)
        if not (self._status or self._percent or self._done):
            return
        status, progress = self._status_name, self._progress_name
        if values.get(status) is None:
            # A blank status says no more than the progress beside it; 未了 says only "not done".
            done = values.get(progress)
            if marked:
                values[status] = "done"
            elif done == 100 and not open_word and marked is None:
                values[status] = "done"
            else:
                values[status] = "in_progress" if done else "not_started"
        if values.get(progress) is None and self._percent:
            values[progress] = 100 if values[status] in ("done", "not_applicable") else 0
