"""Finding the header row and what each column means, in sheets written for people."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from importers.values import clean_text, key, party_of

HEADER_SEARCH_ROWS = 30

# Field → header words, Japanese and English; compared after `key()` folding.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "id": ("id", "内部id", "システムid", "wbs-sync id", "wbssyncid", "item id"),
    "code": (
        "項番", "no", "no.", "№", "番号", "wbs番号", "wbsno", "wbs no", "wbs id", "wbsid",
        "wbs", "wbsコード", "項目番号", "作業番号", "管理番号", "タスクid", "task id", "code",
        "outline number",
    ),
    "title": (
        "作業項目", "作業名", "タスク名", "タスク", "作業", "項目", "項目名", "件名",
        "作業内容名", "task name", "task", "name", "title", "activity", "work item",
    ),
    "parent_code": ("親項番", "親番号", "上位項番", "親", "parent", "parent code"),
    "level1": ("大項目", "大分類", "フェーズ", "工程", "phase"),
    "level2": ("中項目", "中分類"),
    "level3": ("小項目", "小分類", "細目"),
    "description": (
        "説明", "作業内容", "内容", "詳細", "概要", "作業概要", "description", "details",
    ),
    "responsibility": (
        "担当", "役割分担", "分担", "主担当", "実施者", "実施主体", "責任", "担当区分", "作業主体",
        "owner", "responsibility", "responsible", "role",
    ),
    "assignee": (
        "担当課", "担当者", "担当部署", "所管課", "担当部門", "担当者名", "assignee", "assigned to",
        "resource names", "person in charge",
    ),
    "planned_start": (
        "開始予定日", "予定開始", "予定開始日", "開始予定", "開始日", "開始", "着手予定日",
        "予定開始日付", "start", "start date", "planned start", "baseline start",
    ),
    "planned_end": (
        "終了予定日", "予定終了", "予定終了日", "終了予定", "完了予定日", "完了予定", "終了日",
        "終了", "期限", "期日", "納期", "締切", "締め切り", "完了期限", "finish", "finish date",
        "end", "end date", "due", "due date", "deadline", "planned finish", "baseline finish",
    ),
    "actual_start": (
        "実績開始", "開始実績", "実績開始日", "着手日", "実開始日", "actual start",
    ),
    "actual_end": (
        "実績終了", "終了実績", "実績終了日", "完了日", "実終了日", "完了実績", "actual finish",
        "actual end",
    ),
    "progress": (
        "進捗率", "進捗", "進捗(%)", "達成率", "完了率", "%complete", "% complete", "progress",
    ),
    "status": ("状況", "ステータス", "状態", "進捗状況", "対応状況", "status", "state"),
    "predecessors": (
        "先行作業", "先行", "前提作業", "先行タスク", "依存関係", "predecessors", "predecessor",
        "depends on",
    ),
    "deliverable": ("成果物", "成果品", "deliverable", "deliverables", "output"),
    "notes": ("備考", "メモ", "コメント", "特記事項", "notes", "note", "remarks", "comments"),
}  # fmt: skip
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

_BY_WORD: dict[str, str] = {key(word): name for name, words in SYNONYMS.items() for word in words}
FIELDS = tuple(SYNONYMS)
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


def classify(header: str, group: str | None = None) -> str | None:
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
        if word in _START_WORDS:
            return f"{group_kind}_start"
        if word in _END_WORDS:
            return f"{group_kind}_end"
    if group:
        combined = _BY_WORD.get(key(group) + word)
        if combined:
            return combined
    if word in _BY_WORD:
        return _BY_WORD[word]
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


def _layout_of(upper: list[str], lower: list[str] | None, rows: tuple[int, ...]) -> Layout:
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
            meaning, shown = classify(top) if top else None, top
        else:
            meaning = classify(bottom, group) or classify(bottom)
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
    if not names & {"title", "level1", "level2", "level3"}:
        return 0
    marks = {name for name in names if name.startswith(MARK_PREFIX)}
    # One party's word alone is as likely a data cell (ベンダー) as a mark column's header.
    return len(names - marks) + (1 if len(marks) == 2 else 0)


def detect_layout(top_rows: Sequence[Sequence[object]], first_row_number: int = 1) -> Layout | None:
    """The best header (one row, or two with a group row above) among the first rows."""
    texts = [_texts(row) for row in top_rows[:HEADER_SEARCH_ROWS]]
    best: tuple[tuple[int, int], Layout] | None = None
    for offset, row in enumerate(texts):
        number = first_row_number + offset
        candidates = [_layout_of(row, None, (number,))]
        if offset + 1 < len(texts) and any(row):
            candidates.append(_layout_of(row, texts[offset + 1], (number, number + 1)))
        for candidate in candidates:
            # On equal scores the single row wins: a second row must add meaning to count.
            rank = (_score(candidate), -len(candidate.header_rows))
            if rank[0] >= 2 and (best is None or rank > best[0]):
                best = (rank, candidate)
    return best[1] if best else None


def layout_from_mapping(
    mapping: dict[str, str], header_row: int, header: Sequence[object]
) -> Layout:
    """The caller's own mapping (field → column letter or header text), for when detection errs."""
    texts = _texts(header)
    columns: dict[int, str] = {}
    for name, where in mapping.items():
        if name not in FIELDS and not name.startswith(MARK_PREFIX):
            raise ValueError(f"mapping: {name!r} is not a field (fields: {', '.join(FIELDS)})")
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
