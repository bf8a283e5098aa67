"""What each column of a header means, in sheets written for people.

A header is one row, or two with a group row above (予定 over 開始/終了, 役割分担 over one column
per party); a Gantt sheet's calendar grid beside it is set aside whole (grid.py). Which header
reading a sheet has is chosen by readings.py, from the values under each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from importers.fields import ACTUAL_PERIOD, DONE_MARK, PERIOD, PERIOD_DAYS, Vocabulary
from importers.sources import column_letter
from importers.values import clean_text, key, party_of

HEADER_SEARCH_ROWS = 30

# Group headers that qualify the columns below them (予定 over 開始/終了).
GROUPS: dict[str, str] = {
    **dict.fromkeys(["予定", "計画", "planned", "plan", "baseline"], "planned"),
    **dict.fromkeys(["実績", "actual", "actuals"], "actual"),
    **dict.fromkeys(["役割分担", "分担", "担当", "役割", "responsibility", "owner"], "marks"),
}
_START_WORDS = {key(w) for w in ("開始", "開始日", "着手", "着手日", "start", "from", "自")}
_END_WORDS = {
    key(w) for w in ("終了", "終了日", "完了", "完了日", "期限", "finish", "end", "to", "至")
}
_PERIOD_WORDS = {key(w) for w in ("期間", "日程", "時期", "スケジュール", "period", "schedule")}
# Headers of the notations (fields.NOTATIONS); compared after key() folding.
_NOTATION_WORDS = {
    **dict.fromkeys(
        [key(w) for w in ("期間", "実施期間", "作業期間", "予定期間", "計画期間", "スケジュール",
                          "日程", "実施時期", "時期", "予定時期", "period", "schedule")],
        PERIOD,
    ),
    **dict.fromkeys([key(w) for w in ("実績期間", "実施実績", "actual period")], ACTUAL_PERIOD),
    **dict.fromkeys(
        [key(w) for w in ("完了", "済", "済み", "完了済", "完了済み", "完了チェック", "チェック",
                          "完了フラグ", "完", "done", "check", "✓", "✔")],
        DONE_MARK,
    ),
}  # fmt: skip
# A 手順 (step) column holds either the codes (①-1) or the step's name (① 推進体制の立上げ):
# its values decide (readings.py).
STEP_COLUMN = "step?"
_STEP_WORDS = {key(w) for w in ("手順", "ステップ", "step", "手順名", "ステップ名")}

MARK_PREFIX = "marks:"


def column_index(letter: str) -> int:
    number = 0
    for char in letter.strip().upper():
        if not "A" <= char <= "Z":
            raise ValueError(f"{letter!r} is not a column letter")
        number = number * 26 + ord(char) - 64
    if number == 0:
        raise ValueError(f"{letter!r} is not a column letter")
    return number - 1


def classify(header: str, vocabulary: Vocabulary, group: str | None = None) -> str | None:
    """What a header means: a field name, `marks:<party>`, a notation, or None when unknown."""
    word = key(header)
    if not word:
        return None
    group_kind = GROUPS.get(key(group)) if group else None
    if group_kind == "marks":
        party = party_of(header)
        if party:
            return MARK_PREFIX + party
    if group_kind in ("planned", "actual"):
        # 予定 over 開始 is planned_start: the group names the pair, the word its end.
        end = "start" if word in _START_WORDS else "end" if word in _END_WORDS else None
        if end and f"{group_kind}_{end}" in vocabulary.by_name:
            return f"{group_kind}_{end}"
        if word in _PERIOD_WORDS:
            return PERIOD if group_kind == "planned" else ACTUAL_PERIOD
    if group:
        combined = vocabulary.field_of(key(group) + word)
        if combined:
            return combined
    # Before the fields' own words: "step" names the step field too, but a 手順 column may hold
    # the codes or the steps' names as well, and only its values tell which (readings.py).
    if word in _STEP_WORDS:
        return STEP_COLUMN
    named = vocabulary.field_of(word) or _NOTATION_WORDS.get(word)
    if named:
        return named
    party = party_of(header)
    return MARK_PREFIX + party if party else None


@dataclass(frozen=True)
class Ignored:
    """A column the import does not read, and why."""

    column: str  # a letter, or a span such as M:NM
    header: str
    reason: str


UNKNOWN = "no field has this header; map it if it holds one"


@dataclass
class Layout:
    header_rows: tuple[int, ...]  # 1-based sheet rows
    columns: dict[int, str]  # column index → field, marks:<party> or a notation
    headers: dict[int, str]  # column index → header text as written
    ignored: list[Ignored] = field(default_factory=list)
    # The Gantt chart's calendar, never read; its columns do not count against the column cap.
    grid: range = range(0)
    # Further columns whose header names a field another column already has: the values
    # decide which is read (readings.py), the rest are ignored.
    duplicates: dict[int, str] = field(default_factory=dict)

    @property
    def first_data_row(self) -> int:
        return self.header_rows[-1] + 1

    def fields(self) -> set[str]:
        return set(self.columns.values())

    def mapping(self) -> dict[str, list[str]]:
        """Field → column letters, as shown to the user."""
        shown: dict[str, list[str]] = {}
        for index, name in sorted(self.columns.items()):
            shown.setdefault(name, []).append(column_letter(index))
        return shown

    def letter_of(self, name: str) -> str | None:
        found = self.mapping().get(name)
        return found[0] if found else None

    def settle(self) -> Layout:
        """The layout with its leftover duplicates ignored, and a period column set aside when
        the sheet has its own start and end columns."""
        ignored = list(self.ignored)
        for index, name in sorted(self.duplicates.items()):
            read = self.letter_of(name)
            reason = f"{read} is read as {name}" if read else f"not read as {name}"
            ignored.append(Ignored(column_letter(index), self.headers.get(index, ""), reason))
        columns = dict(self.columns)
        for index, name in sorted(self.columns.items()):
            days = PERIOD_DAYS.get(name)
            if days and all(day in columns.values() for day in days):
                letters = " and ".join(str(self.letter_of(day)) for day in days)
                reason = f"a period, but the sheet has its own {days[0]} and {days[1]} ({letters})"
                ignored.append(Ignored(column_letter(index), self.headers[index], reason))
                del columns[index]
        ignored.sort(key=lambda item: (len(item.column.split(":")[0]), item.column))
        return Layout(self.header_rows, columns, self.headers, ignored, self.grid, {})


def texts_of(row: Sequence[object]) -> list[str]:
    return [clean_text(value) or "" for value in row]


def reading_of(
    upper: list[str],
    lower: list[str] | None,
    rows: tuple[int, ...],
    vocabulary: Vocabulary,
    grid: range = range(0),
) -> Layout:
    """The meaning of each column under a header of one row, or of two (a group row above)."""
    columns: dict[int, str] = {}
    headers: dict[int, str] = {}
    duplicates: dict[int, str] = {}
    ignored: list[Ignored] = []
    group = ""
    width = max(len(upper), len(lower or []))
    for index in range(width):
        if index in grid:
            continue
        top = upper[index] if index < len(upper) else ""
        bottom = (lower[index] if index < len(lower) else "") if lower is not None else ""
        # A merged group header is written once, in its first column: it carries rightwards.
        if top:
            group = top
        elif not bottom:
            group = ""
        if lower is None or not bottom:
            meaning, shown = classify(top, vocabulary) if top else None, top
        else:
            meaning = classify(bottom, vocabulary, group) or classify(bottom, vocabulary)
            shown = f"{group} {bottom}".strip() if group else bottom
        if not shown:
            continue
        headers[index] = shown
        if meaning is None:
            ignored.append(Ignored(column_letter(index), shown, UNKNOWN))
        elif meaning in columns.values() and not meaning.startswith(MARK_PREFIX):
            duplicates[index] = meaning
        else:
            columns[index] = meaning
    return Layout(rows, columns, headers, ignored, grid, duplicates)


def layout_from_mapping(
    mapping: dict[str, str], header_row: int, header: Sequence[object], vocabulary: Vocabulary
) -> Layout:
    """The caller's own mapping (field → column letter or header text), for when detection errs."""
    texts = texts_of(header)
    columns: dict[int, str] = {}
    for name, where in mapping.items():
        if name not in vocabulary.names and not name.startswith(MARK_PREFIX):
            raise ValueError(
                f"mapping: {name!r} is not a field (fields: {', '.join(vocabulary.names)})"
            )
        matches = [i for i, text in enumerate(texts) if text and key(text) == key(where)]
        if matches:
            columns[matches[0]] = name
            continue
        try:
            columns[column_index(where)] = name
        except ValueError:
            raise ValueError(
                f"mapping: {name} → {where!r} is neither a column letter "
                f"nor a header in row {header_row}"
            ) from None
    headers = {index: texts[index] if index < len(texts) else "" for index in columns}
    ignored = [
        Ignored(column_letter(i), text, "not in the mapping")
        for i, text in enumerate(texts)
        if text and i not in columns
    ]
    return Layout((header_row,), columns, headers, ignored)
