"""Reading one cell's words: responsibility (role words or ◎○△ marks), status, progress, codes."""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

Party = Literal["vendor", "municipality"]
ResponsibilityValue = Literal["vendor", "municipality", "joint"]
StatusValue = Literal["not_started", "in_progress", "delayed", "on_hold", "done", "not_applicable"]


class ValueProblem(ValueError):
    """A cell's value cannot be read; the message says what was expected."""


def clean_text(value: object) -> str | None:
    """Cell text with its whitespace normalised: line breaks and runs of blanks become one space."""
    if value is None:
        return None
    text = str(value).replace("\u3000", " ")
    text = re.sub(r"\s+", " ", text).strip()
    return text or None


def clean_long_text(value: object) -> str | None:
    """Multi-line text with each line's blanks normalised and empty lines dropped."""
    if value is None:
        return None
    lines = [re.sub(r"[ \t\u3000]+", " ", line).strip() for line in str(value).splitlines()]
    text = "\n".join(line for line in lines if line)
    return text or None


def key(text: str) -> str:
    """A header or vocabulary word reduced for comparison: width, case, blanks and marks."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\s()（）【】\[\]「」:：・_*＊※]", "", folded)


_PARTY_WORDS: dict[str, Party] = {
    **dict.fromkeys(
        ["自治体", "町", "市", "村", "区", "団体", "市町村", "市区町村", "県", "発注者", "ユーザ",
         "ユーザー", "municipality", "customer", "client", "city", "town"],
        "municipality",
    ),
    **dict.fromkeys(
        ["ベンダー", "ベンダ", "事業者", "業者", "受注者", "委託事業者", "vendor", "supplier",
         "contractor"],
        "vendor",
    ),
}  # fmt: skip
_JOINT_WORDS = {key(w) for w in ["共同", "両者", "双方", "合同", "both", "joint", "全体"]}
_PARTY_SEPARATORS = re.compile(r"[・/／,、，&＆+＋\s]|and|及び|および|と")


def party_of(word: str) -> Party | None:
    return _PARTY_WORDS.get(key(word))


def read_responsibility(value: object) -> ResponsibilityValue:
    """A role word per row: 自治体, ベンダー, 共同, or both parties joined (団体・ベンダ)."""
    text = clean_text(value)
    if text is None:
        raise ValueProblem("responsibility is blank: write 自治体, ベンダー or 共同")
    word = key(text)
    if word in _JOINT_WORDS:
        return "joint"
    party = _PARTY_WORDS.get(word)
    if party is not None:
        return party
    spelled = unicodedata.normalize("NFKC", text).casefold()
    parts = {_PARTY_WORDS.get(key(part)) for part in _PARTY_SEPARATORS.split(spelled) if part}
    if parts == {"vendor", "municipality"}:
        return "joint"
    if len(parts) == 1 and None not in parts:
        only = parts.pop()
        assert only is not None
        return only
    raise ValueProblem(
        f"{text!r} is not a role this importer knows: write 自治体 (municipality), "
        "ベンダー (vendor) or 共同 (both)"
    )


LEAD_MARKS = frozenset("◎●○〇◯Oo")
SUPPORT_MARKS = frozenset("△▲")


def read_marks(marks: dict[Party, list[object]]) -> ResponsibilityValue:
    """One mark column per party: ◎ or ○ makes a party responsible, △ alone never does."""
    responsible: set[Party] = set()
    for party, cells in marks.items():
        for cell in cells:
            text = clean_text(cell)
            if text is None:
                continue
            mark = unicodedata.normalize("NFKC", text)[0]
            if mark in LEAD_MARKS:
                responsible.add(party)
            elif mark not in SUPPORT_MARKS and mark not in "-ー―":
                raise ValueProblem(
                    f"{text!r} is not a role mark: use ◎ (lead), ○ (responsible) or △ (supports)"
                )
    if responsible == {"vendor", "municipality"}:
        return "joint"
    if len(responsible) == 1:
        return responsible.pop()
    raise ValueProblem("no party is marked ◎ or ○ (△ alone does not make a party responsible)")


_STATUS_VOCABULARY: dict[StatusValue, tuple[str, ...]] = {
    "not_started": ("未着手", "未", "未実施", "未開始", "not started", "open", "todo"),
    "in_progress": (
        "着手", "着手済", "着手済み", "作業中", "対応中", "実施中", "進行中",
        "in progress", "started", "wip", "ongoing",
    ),
    "delayed": ("遅延", "遅れ", "遅延中", "delayed", "late", "behind", "overdue"),
    "on_hold": ("保留", "保留中", "中断", "on hold", "hold", "pending", "paused"),
    "done": (
        "完了", "完了済", "完了済み", "済", "済み", "終了", "対応済", "対応済み",
        "complete", "completed", "done", "closed", "finished",
    ),
    "not_applicable": (
        "対象外", "不要", "中止", "該当なし", "なし", "n/a", "na", "not applicable",
        "cancelled", "canceled",
    ),
}  # fmt: skip
_STATUS_WORDS = {
    key(word).replace("-", ""): status
    for status, words in _STATUS_VOCABULARY.items()
    for word in words
}


def read_status(value: object) -> StatusValue | None:
    text = clean_text(value)
    if text is None:
        return None
    status = _STATUS_WORDS.get(key(text).replace("-", ""))
    if status is None:
        raise ValueProblem(
            f"{text!r} is not a status this importer knows: "
            "use 未着手, 作業中, 遅延, 保留, 完了 or 対象外"
        )
    return status


def read_progress(value: object, number_format: str | None = None) -> int | None:
    """0–100, a fraction in a percent-formatted cell, or text such as "80%"."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueProblem(f"{value!r} is not a progress percentage")
    if isinstance(value, int | float):
        number = float(value)
        if (number_format and "%" in number_format) or (0 < number < 1):
            number *= 100
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip().replace(" ", "")
        match = re.fullmatch(r"(\d+(?:\.\d+)?)(%?)", text)
        if not match:
            raise ValueProblem(f"{value!r} is not a progress percentage: write 0–100 or 80%")
        number = float(match.group(1))
    if not 0 <= number <= 100:
        raise ValueProblem(f"{value!r} is outside 0–100%")
    return round(number)


_TRAILING_SEPARATORS = ".-"
_LETTERED = re.compile(r"^[(（]?([ア-ンa-zA-Zｱ-ﾝ])[)）.．]?$")


def read_code(value: object) -> str | None:
    """`１－２` → `1-2`, `①-1` → `1-1`, `1.2.3.` → `1.2.3`; ints and 1.0-style floats alike."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    text = re.sub(r"\s+", "", text).replace("ー", "-").replace("－", "-").replace("‐", "-")
    text = text.rstrip(_TRAILING_SEPARATORS)
    return text or None


def lettered_suffix(code: str) -> str | None:
    """`ア)` or `(イ)`: a sub-item lettered under the numbered item above it."""
    match = _LETTERED.match(code)
    return unicodedata.normalize("NFKC", match.group(1)) if match else None


_PREDECESSOR_SPLIT = re.compile(r"[,、，;；\s]+")
# Microsoft Project writes links as 3FS+2d: the code, then the link type and a lag.
_LINK_SUFFIX = re.compile(r"(?:FS|SS|FF|SF)(?:[+-]\d+(?:\.\d+)?\s*[a-z日]*)?$", re.IGNORECASE)


def read_predecessors(value: object) -> list[str]:
    text = clean_text(value)
    if text is None:
        return []
    codes = []
    for token in _PREDECESSOR_SPLIT.split(unicodedata.normalize("NFKC", text)):
        code = read_code(_LINK_SUFFIX.sub("", token))
        if code and code not in codes:
            codes.append(code)
    return codes
