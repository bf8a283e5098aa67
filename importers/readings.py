"""Which header a sheet has: every reading of its first rows, judged by the values under it.

A reading is a header (one row, or two with a group row above) and what it makes of each
column. The one chosen explains the most columns whose values read as their field; between
readings that explain as many, the share of values that read decides, then the fewer rows.
The values also settle what a header alone cannot: which of two 担当 columns holds the side,
whether a 手順 column holds codes or the step's name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from importers.dates import DateContext, DateError, Role, parse_date, parse_period
from importers.fields import (
    CODE,
    DONE_MARK,
    LEVELS,
    NOTATIONS,
    PERIOD_DAYS,
    RESPONSIBILITY,
    TITLE,
    Kind,
    Vocabulary,
)
from importers.grid import describe_grid, find_grid
from importers.layout import (
    HEADER_SEARCH_ROWS,
    MARK_PREFIX,
    STEP_COLUMN,
    Ignored,
    Layout,
    reading_of,
    texts_of,
)
from importers.sources import column_letter
from importers.values import (
    LEAD_MARKS,
    SUPPORT_MARKS,
    ValueProblem,
    clean_text,
    is_blank_word,
    key,
    read_code,
    read_done_mark,
    read_predecessors,
    read_progress,
    read_responsibility,
    read_status,
    read_step,
    says_not_done,
)

# A yearless day (4/1) is judged in some fiscal year, as the title's 年度 would give it one;
# its January to March fall in 2024, a leap year, so 2/29 reads too.
_ANY_FISCAL_YEAR = 2023
# Data rows under a header that its values are judged on.
SAMPLE_ROWS = 20
# Rows read to find the header and judge it.
TOP_ROWS = HEADER_SEARCH_ROWS + SAMPLE_ROWS
# A code as sheets write them: short segments of digits or letters joined by - or .
_CODE = re.compile(
    r"[(（]?[0-9A-Za-zア-ンｱ-ﾝ]{1,8}[)）]?(?:[-.][(（]?[0-9A-Za-zア-ンｱ-ﾝ]{1,8}[)）]?)*"
)


def looks_like_code(value: object) -> bool:
    code = read_code(value)
    return code is not None and bool(_CODE.fullmatch(code)) and len(code) <= 30


def _reads(check: Callable[[object], object]) -> Callable[[object], bool]:
    def reads(value: object) -> bool:
        try:
            check(value)
        except (ValueProblem, DateError):
            return False
        return True

    return reads


def _reads_as_mark(value: object) -> bool:
    text = clean_text(value)
    return text is not None and (text[0] in LEAD_MARKS | SUPPORT_MARKS or is_blank_word(text))


def _reads_as_status(value: object) -> bool:
    return says_not_done(value) or _reads(read_status)(value)


def _anything(value: object) -> bool:
    return True


def checker(name: str, vocabulary: Vocabulary) -> Callable[[object], bool]:
    """Whether a value reads as the field a column is taken for."""
    if name.startswith(MARK_PREFIX):
        return _reads_as_mark
    if name in NOTATIONS:
        if name == DONE_MARK:
            return _reads(read_done_mark)
        return _reads(lambda value: parse_period(value, DateContext(fiscal_year=_ANY_FISCAL_YEAR)))
    field = vocabulary.by_name.get(name)
    if field is None:  # levels, the 手順 column: any text
        return _anything
    kind = field.kind
    if kind is Kind.code:
        return looks_like_code
    if kind is Kind.item_id:
        return lambda value: str(value).strip().removesuffix(".0").isdigit()
    if kind is Kind.day:
        role = field.role or Role.start
        return _reads(
            lambda value: parse_date(value, role, DateContext(fiscal_year=_ANY_FISCAL_YEAR))
        )
    if kind is Kind.responsibility:
        return _reads(read_responsibility)
    if kind is Kind.status:
        return _reads_as_status
    if kind is Kind.percent:
        return _reads(read_progress)
    if kind is Kind.codes:
        return lambda value: all(looks_like_code(code) for code in read_predecessors(value))
    if kind is Kind.step:
        return _reads(read_step)
    if kind is Kind.choice:
        return lambda value: key(clean_text(value) or "") in field.values
    return _anything


@dataclass(frozen=True)
class ColumnValues:
    seen: int  # values under the header
    read: int  # of those, values that read as the column's field

    @property
    def fits(self) -> bool:
        return self.read * 2 >= self.seen


def column_values(
    samples: Sequence[Sequence[object]], index: int, check: Callable[[object], bool]
) -> ColumnValues:
    values = [row[index] for row in samples if index < len(row) and clean_text(row[index])]
    return ColumnValues(len(values), sum(1 for value in values if check(value)))


@dataclass(frozen=True)
class Reading:
    """A header reading with what its values say of it."""

    layout: Layout
    explained: int  # fields whose columns' values read as them
    read: int
    seen: int

    @property
    def share(self) -> float:
        return self.read / self.seen if self.seen else 0.0

    def rank(self) -> tuple[int, float, int]:
        return (self.explained, round(self.share, 3), -len(self.layout.header_rows))


@dataclass(frozen=True)
class Detection:
    chosen: Reading
    # The best reading of another header (a row more or less): what the sheet would have been.
    alternative: Reading | None


def _judge(layout: Layout, samples: Sequence[Sequence[object]], vocabulary: Vocabulary) -> Reading:
    fitting: set[str] = set()
    read = seen = 0
    for index, name in layout.columns.items():
        values = column_values(samples, index, checker(name, vocabulary))
        read, seen = read + values.read, seen + values.seen
        if values.fits:
            fitting.add(name)
    marks = {name for name in fitting if name.startswith(MARK_PREFIX)}
    # One party's word alone is as likely a data cell (ベンダー) as a mark column's header.
    explained = len(fitting - marks) + (1 if len(marks) == 2 else 0)
    return Reading(layout, explained, read, seen)


def _with_grid(
    texts: list[list[str]], raw: Sequence[Sequence[object]], offset: int, height: int
) -> tuple[range, int]:
    """The calendar grid around a header, and how many rows under it belong to the header (a
    weekday row under the day numbers, with nothing in the task list's columns)."""
    grid = find_grid(raw[max(0, offset - 1) : offset + height + 2])
    if not grid:
        return grid, 0
    extra = 0
    for row in texts[offset + height : offset + height + 2]:
        if any(text for index, text in enumerate(row) if index not in grid):
            break
        extra += 1
    return grid, extra


def _candidates(
    raw: Sequence[Sequence[object]], vocabulary: Vocabulary, first_row_number: int
) -> list[tuple[Layout, int]]:
    texts = [texts_of(row) for row in raw]
    found = []
    for offset, row in enumerate(texts[:HEADER_SEARCH_ROWS]):
        if not any(row):
            continue
        for height in (1, 2):
            if offset + height > len(texts):
                continue
            grid, extra = _with_grid(texts, raw, offset, height)
            number = first_row_number + offset
            rows = tuple(range(number, number + height + extra))
            lower = texts[offset + 1] if height == 2 else None
            layout = reading_of(row, lower, rows, vocabulary, grid)
            names = layout.fields()
            if names & {TITLE, *LEVELS} or STEP_COLUMN in names:
                found.append((layout, offset + height + extra))
    return found


def detect_layout(
    raw: Sequence[Sequence[object]], vocabulary: Vocabulary, first_row_number: int = 1
) -> Detection | None:
    """The best header among the first rows, with the runner-up of another height."""
    judged: list[Reading] = []
    for layout, first_data in _candidates(raw, vocabulary, first_row_number):
        samples = raw[first_data : first_data + SAMPLE_ROWS]
        judged.append(_judge(settle_by_values(layout, samples, vocabulary), samples, vocabulary))
    # Earliest first among equals: max() keeps the first of the best.
    good = [
        reading
        for reading in judged
        if reading.explained >= 2 and reading.layout.fields() & {TITLE, *LEVELS}
    ]
    if not good:
        return None
    chosen = max(good, key=Reading.rank)
    others = [r for r in good if r.layout.header_rows != chosen.layout.header_rows]
    near = [r for r in others if r.layout.header_rows[0] == chosen.layout.header_rows[0]]
    alternative = max(near or others, key=Reading.rank) if others else None
    return Detection(_finished(chosen, raw, first_row_number), alternative)


def _finished(reading: Reading, raw: Sequence[Sequence[object]], first: int) -> Reading:
    """The chosen reading as it will be used: its grid named, its leftovers ignored."""
    layout = reading.layout
    if layout.grid:
        rows = raw[layout.header_rows[0] - first : layout.header_rows[-1] - first + 1]
        span = f"{column_letter(layout.grid.start)}:{column_letter(layout.grid.stop - 1)}"
        why = "the bars of a Gantt chart are drawn, not data: the dates come from the task list"
        ignored = [*layout.ignored, Ignored(span, describe_grid(rows, layout.grid), why)]
        layout = replace(layout, ignored=ignored)
    return replace(reading, layout=layout.settle())


def settle_by_values(
    layout: Layout, samples: Sequence[Sequence[object]], vocabulary: Vocabulary
) -> Layout:
    """What only the values tell: which of two columns named alike holds the field, and what a
    手順 column holds."""
    columns, duplicates = dict(layout.columns), dict(layout.duplicates)
    ignored = list(layout.ignored)

    def fit(index: int, name: str) -> ColumnValues:
        return column_values(samples, index, checker(name, vocabulary))

    for name in sorted(set(layout.duplicates.values())):
        alike = sorted([i for i, n in columns.items() if n == name] + [
            i for i, n in duplicates.items() if n == name
        ])  # fmt: skip
        # The column whose values read as the field; the leftmost among equals.
        best = max(alike, key=lambda i: (fit(i, name).read, -i))
        for index in alike:
            columns.pop(index, None)
            duplicates.pop(index, None)
            if index != best:
                duplicates[index] = name
        columns[best] = name
        if name == RESPONSIBILITY and "assignee" not in columns.values():
            # 担当 beside 担当区分: names and departments in one, the side in the other.
            names = [i for i in duplicates if duplicates[i] == name and not fit(i, name).fits]
            if names:
                columns[names[0]] = "assignee"
                del duplicates[names[0]]
    for index, name in sorted(columns.items()):
        if name == "id" and "parent_code" not in columns.values() and _counts_rows(samples, index):
            # Microsoft Project's ID numbers its rows 1, 2, 3: no item of the service's.
            del columns[index]
            if CODE not in columns.values():
                columns[index] = CODE
            else:
                why = "numbers the rows 1, 2, 3 …: a row number, not an ID this service exported"
                ignored.append(Ignored(column_letter(index), layout.headers[index], why))
        elif name == STEP_COLUMN:
            meaning = _step_column(samples, index, set(columns.values()), vocabulary)
            if meaning is None:
                del columns[index]
                why = "a 手順 column, but the sheet has its code and its groups elsewhere"
                ignored.append(Ignored(column_letter(index), layout.headers[index], why))
            else:
                columns[index] = meaning
        elif name == DONE_MARK and not fit(index, name).fits:
            day = "actual_end"
            if day not in columns.values() and fit(index, day).fits:
                columns[index] = day  # 完了 holding days: the day it was done
    for index, name in sorted(columns.items()):
        days = PERIOD_DAYS.get(name)
        if days and not fit(index, name).fits:
            del columns[index]
            why = "named like a period, but its values are not periods"
            ignored.append(Ignored(column_letter(index), layout.headers[index], why))
    # A column of values under no header is dropped too, and says so.
    named = set(layout.headers) | set(columns)
    width = max((len(row) for row in samples), default=0)
    for index in range(width):
        if (
            index not in named
            and index not in layout.grid
            and column_values(samples, index, _anything).seen
        ):
            why = "values but no header: map it if it holds a field"
            ignored.append(Ignored(column_letter(index), "", why))
    return replace(layout, columns=columns, duplicates=duplicates, ignored=ignored)


def _counts_rows(samples: Sequence[Sequence[object]], index: int) -> bool:
    """Values 1, 2, 3 … (or 0, 1, 2 …) on every row, as a row number column holds. An
    exported sheet's IDs skip (a row inserted without one) or start elsewhere."""
    filled = [row for row in samples if any(clean_text(value) for value in row)]
    values = [row[index] if index < len(row) else None for row in filled]
    numbers = [str(value).strip().removesuffix(".0") for value in values]
    if len(numbers) < 2 or not all(number.isdigit() for number in numbers):
        return False
    first = int(numbers[0])
    return first in (0, 1) and [int(n) for n in numbers] == list(range(first, first + len(numbers)))


def _step_column(
    samples: Sequence[Sequence[object]], index: int, taken: set[str], vocabulary: Vocabulary
) -> str | None:
    """A 手順 column: its codes (①-1) make it the code column, or, beside a code column of the
    sheet's own, the step field; its named steps (① 推進体制の立上げ) the group column."""
    values = [row[index] for row in samples if index < len(row) and clean_text(row[index])]
    codes = sum(1 for value in values if looks_like_code(value))
    if codes * 2 >= len(values) and values and CODE not in taken:
        return CODE
    steps = [field.name for field in vocabulary.of_kind(Kind.step) if field.name not in taken]
    read = sum(1 for value in values if _reads(read_step)(value))
    if steps and values and read * 2 >= len(values):
        return steps[0]
    if LEVELS[0] not in taken:
        return LEVELS[0]
    return None
