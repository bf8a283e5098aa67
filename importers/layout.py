"""Finding the header row and what each column means, in sheets written for people."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from importers.fields import LEVELS, TITLE, Vocabulary
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

MARK_PREFIX = "marks:"


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


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
    """What a header means: a field name, `marks:<party>`, or None when unknown."""
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
    if group:
        combined = vocabulary.field_of(key(group) + word)
        if combined:
            return combined
    named = vocabulary.field_of(word)
    if named:
        return named
    party = party_of(header)
    return MARK_PREFIX + party if party else None


@dataclass
class Layout:
    header_rows: tuple[int, ...]  # 1-based sheet rows
    columns: dict[int, str]  # column index → field or marks:<party>
    headers: dict[int, str]  # column index → header text as written
    ignored: list[tuple[str, str]] = field(default_factory=list)  # (letter, header)

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


def _texts(row: Sequence[object]) -> list[str]:
    return [clean_text(value) or "" for value in row]


def _layout_of(
    upper: list[str], lower: list[str] | None, rows: tuple[int, ...], vocabulary: Vocabulary
) -> Layout:
    columns: dict[int, str] = {}
    headers: dict[int, str] = {}
    ignored: list[tuple[str, str]] = []
    group = ""
    width = max(len(upper), len(lower or []))
    for index in range(width):
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
        if meaning is None or (meaning in columns.values() and not meaning.startswith(MARK_PREFIX)):
            ignored.append((column_letter(index), shown))
            continue
        columns[index] = meaning
        headers[index] = shown
    return Layout(rows, columns, headers, ignored)


def _score(layout: Layout) -> int:
    names = layout.fields()
    if not names & {TITLE, *LEVELS}:
        return 0
    marks = {name for name in names if name.startswith(MARK_PREFIX)}
    # One party's word alone is as likely a data cell (ベンダー) as a mark column's header.
    return len(names - marks) + (1 if len(marks) == 2 else 0)


def detect_layout(
    top_rows: Sequence[Sequence[object]], vocabulary: Vocabulary, first_row_number: int = 1
) -> Layout | None:
    """The best header (one row, or two with a group row above) among the first rows."""
    texts = [_texts(row) for row in top_rows[:HEADER_SEARCH_ROWS]]
    best: tuple[tuple[int, int], Layout] | None = None
    for offset, row in enumerate(texts):
        number = first_row_number + offset
        candidates = [_layout_of(row, None, (number,), vocabulary)]
        if offset + 1 < len(texts) and any(row):
            candidates.append(_layout_of(row, texts[offset + 1], (number, number + 1), vocabulary))
        for candidate in candidates:
            # On equal scores the single row wins: a second row must add meaning to count.
            rank = (_score(candidate), -len(candidate.header_rows))
            if rank[0] >= 2 and (best is None or rank > best[0]):
                best = (rank, candidate)
    return best[1] if best else None


def layout_from_mapping(
    mapping: dict[str, str], header_row: int, header: Sequence[object], vocabulary: Vocabulary
) -> Layout:
    """The caller's own mapping (field → column letter or header text), for when detection errs."""
    texts = _texts(header)
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
        (column_letter(i), text) for i, text in enumerate(texts) if text and i not in columns
    ]
    return Layout((header_row,), columns, headers, ignored)
