"""Reading one cell's words: responsibility (role words or ◎○△ marks), status, progress, codes."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Literal

Party = Literal["vendor", "municipality"]
ResponsibilityValue = Literal["vendor", "municipality", "joint"]
StatusValue = Literal["not_started", "in_progress", "delayed", "on_hold", "done", "not_applicable"]


class ValueProblem(ValueError):
    """A cell's value cannot be read; the message says what was expected."""


# Kana and kanji: a line break between two of them is where the cell wrapped a word
# (推進体制の\n立上げ), not a space the writer typed.
_KANA_KANJI = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WRAPPED = re.compile(rf"(?<=[{_KANA_KANJI}])[ \t\u3000]*[\r\n]+[ \t\u3000]*(?=[{_KANA_KANJI}])")


def clean_text(value: object) -> str | None:
    """Cell text with its whitespace normalised: line breaks and runs of blanks become one space,
    and a line break inside a Japanese word goes."""
    if value is None:
        return None
    text = str(value)
    if "\n" in text or "\r" in text:
        text = _WRAPPED.sub("", text)
    text = re.sub(r"\s+", " ", text.replace("\u3000", " ")).strip()
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


# Words that say only "not done yet" (未了): the progress beside them tells whether work began.
_OPEN_WORDS = {key(word) for word in ("未了", "未完了", "未完", "not done", "incomplete")}
# A dash in a status or progress cell is a blank written out.
_DASHES = {"-", "－", "ー", "―", "—", "–", "‐", "−", "ｰ"}


def is_blank_word(text: str) -> bool:
    return text.strip() in _DASHES


def says_not_done(value: object) -> bool:
    """未了: not done, neither started nor not by itself."""
    text = clean_text(value)
    return text is not None and key(text) in _OPEN_WORDS


def read_status(value: object) -> StatusValue | None:
    text = clean_text(value)
    if text is None or is_blank_word(text) or key(text) in _OPEN_WORDS:
        return None
    status = _STATUS_WORDS.get(key(text).replace("-", ""))
    if status is None:
        raise ValueProblem(
            f"{text!r} is not a status this importer knows: "
            "use 未着手, 作業中, 遅延, 保留, 完了 or 対象外"
        )
    return status


_PROGRESS_WORDS = {"半分": 50, "半ば": 50, "済": 100, "完了": 100, "未着手": 0, "未": 0}


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
        if is_blank_word(text):
            return None
        if text in _PROGRESS_WORDS:
            return _PROGRESS_WORDS[text]
        match = re.fullmatch(r"(\d+(?:\.\d+)?)(%?)", text)
        if not match:
            raise ValueProblem(f"{value!r} is not a progress percentage: write 0–100 or 80%")
        number = float(match.group(1))
    if not 0 <= number <= 100:
        raise ValueProblem(f"{value!r} is outside 0–100%")
    return round(number)


_TRAILING_SEPARATORS = ".-"
_LETTER = r"[ア-ンa-zA-Zｱ-ﾝ]"
_LETTERED = re.compile(rf"^[(（]?({_LETTER})[)）.．]?$")
_LETTERED_LAST = re.compile(rf"^(?P<stem>.+?)[-.](?P<letter>{_LETTER})$")
# Numbers as chapters and bracketed items write them: 第1章, (1), 1), （3）.
_WRAPPED_NUMBER = re.compile(r"^(?:第(?P<chapter>\d+)[章節部編項]|[(]?(?P<number>\d+)[)])$")


def read_code(value: object) -> str | None:
    """`１－２` → `1-2`, `①-1` → `1-1`, `1.2.3.` → `1.2.3`, `第1章`, `(1)` and `1)` → `1`; ints
    and 1.0-style floats alike."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    text = re.sub(r"\s+", "", text).replace("ー", "-").replace("－", "-").replace("‐", "-")
    wrapped = _WRAPPED_NUMBER.match(text)
    if wrapped:
        return wrapped["chapter"] or wrapped["number"]
    text = text.rstrip(_TRAILING_SEPARATORS)
    return text or None


def lettered_suffix(code: str) -> str | None:
    """`ア)` or `(イ)`: a sub-item lettered under the numbered item above it."""
    match = _LETTERED.match(code)
    return unicodedata.normalize("NFKC", match.group(1)) if match else None


def numbered_stem(code: str) -> str:
    """The numbered item a lettered code hangs under: `3-2-ア` → `3-2`; `3-2` itself."""
    match = _LETTERED_LAST.match(code)
    return match["stem"] if match else code


_DONE_MARKS = {
    key(word)
    for word in ("済", "済み", "完", "完了", "完了済", "完了済み", "done", "yes", "y", "true", "1")
} | set("○〇◯●✓✔☑レ◎")
_UNDONE_MARKS = {key(word) for word in ("未", "未了", "no", "n", "false", "0")} | set("×✗□")


def read_done_mark(value: object) -> bool | None:
    """A completion column: 済, ○, ✓ (done); 未, × (not yet); blank says nothing."""
    if isinstance(value, bool):
        return value
    text = clean_text(value)
    if text is None or is_blank_word(text):
        return None
    word = key(text)
    if word in _DONE_MARKS:
        return True
    if word in _UNDONE_MARKS:
        return False
    raise ValueProblem(
        f"{text!r} is not a completion mark: write 済 or ○ when the item is done, leave it blank"
        " when it is not"
    )  # fmt: skip


_PREDECESSOR_SPLIT = re.compile(r"[,、，;；\s]+")
# Microsoft Project writes links as 3FS+2d or 2FS+0 days: the code, the link type, a lag.
_LINK_SUFFIX = re.compile(
    r"(?<=\S)(?:FS|SS|FF|SF)(?:\s*[+-]\s*\d+(?:\.\d+)?\s*(?:[a-z]+|営業日|日)?)?(?=$|[,、，;；\s])",
    re.IGNORECASE,
)


def read_predecessors(value: object) -> list[str]:
    text = clean_text(value)
    if text is None:
        return []
    codes = []
    for token in _PREDECESSOR_SPLIT.split(
        _LINK_SUFFIX.sub("", unicodedata.normalize("NFKC", text))
    ):
        code = read_code(token)
        if code and code not in codes:
            codes.append(code)
    return codes


# The national procedure's steps: a major step (①…⑱, or 1–18) and its sub-step, written ③-2,
# 3-2, ３－２, 手順3-2, ステップ③-2, 第3-2, 3の2. Canonically "3-2": what people type, what
# compares.
_CIRCLED = "\u2460-\u2473"  # ①–⑳
_STEP_PREFIX = r"(?:手順|ステップ|[Ss]tep|STEP|第)"
_STEP_NUMBER = rf"[0-9０-９]{{1,2}}|[{_CIRCLED}]"
_STEP_SEPARATOR = r"[-‐－ー−–—.．のノ]"
_STEP = re.compile(
    rf"^{_STEP_PREFIX}?\s*(?P<major>{_STEP_NUMBER})"
    rf"(?:\s*{_STEP_SEPARATOR}\s*(?P<sub>[0-9０-９]{{1,2}}))?$"
)
# A step at the start of a code or a title (③-2, ③-2-ア, 【手順3-2】 名前): only a circled
# number or the word 手順 makes it one; a bare 3-2 is any WBS's numbering.
_STEP_AT_START = re.compile(
    rf"^[\s【\[(（]*(?:(?:手順|ステップ)\s*(?P<major>{_STEP_NUMBER})|(?P<circled>[{_CIRCLED}]))"
    rf"\s*{_STEP_SEPARATOR}\s*(?P<sub>[0-9０-９]{{1,2}})(?![0-9０-９])"
)


def _number(text: str) -> int:
    return int(unicodedata.normalize("NFKC", text))


class WholeStep(ValueProblem):
    """A major step alone (③): the group of its sub-steps, none of the 40 itself."""


def read_step(value: object) -> str | None:
    """A step as `major-sub` (`③-2`, `手順３－２` → `3-2`); None for a blank cell."""
    text = clean_text(value)
    if text is None or is_blank_word(text):
        return None
    match = _STEP.match(text)
    if match is None:
        raise ValueProblem(f"{text!r} is not a step of the procedure: write it as ③-2 or 3-2")
    if match["sub"] is None:
        major = match["major"]
        raise WholeStep(
            f"{text!r} names a whole step, not one of its parts: write {major}-1, {major}-2 …"
        )
    return f"{_number(match['major'])}-{_number(match['sub'])}"


def step_at_start(text: str | None) -> str | None:
    """The step a code or title starts with (`③-2-ア`, `【手順3-2】 帳票の確認` → `3-2`), if any."""
    if not text:
        return None
    match = _STEP_AT_START.match(text)
    if match is None:
        return None
    return f"{_number(match['major'] or match['circled'])}-{_number(match['sub'])}"


def named_in(text: str, words: Mapping[str, str]) -> str | None:
    """The one value `words` (folded by key()) name in the text: the longest word wins over the
    words inside it (戸籍の附票 over 戸籍, 法人住民税 over 住民税); words for two values
    (住民記録・印鑑登録) name none."""
    folded = key(text)
    found = [word for word in words if word and word in folded]
    outer = [word for word in found if not any(word != other and word in other for other in found)]
    named = {words[word] for word in outer}
    return named.pop() if len(named) == 1 else None


def circled_step(step: str) -> str:
    """`3-2` as the procedure's sheets write it: `③-2`."""
    major, sub = step.split("-")
    return f"{chr(0x2460 + int(major) - 1)}-{sub}"


def unknown_step(step: str, known: Iterable[str]) -> str:
    """Why a well-written step is none of the procedure's: the parts its major step has."""
    major = step.split("-")[0]
    siblings = [circled_step(code) for code in known if code.split("-")[0] == major]
    if not siblings:
        majors = sorted({int(code.split("-")[0]) for code in known})
        first, last = (circled_step(f"{n}-1")[0] for n in (majors[0], majors[-1]))
        return f"{step} is not a step of the procedure: its steps are {first} to {last}"
    return (
        f"{circled_step(step)} is not a step of the procedure: "
        f"{siblings[0][0]} has {', '.join(siblings)}"
    )
