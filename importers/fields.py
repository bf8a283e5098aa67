"""The fields a sheet can fill, as the importer sees them: a name, a kind, the header words.

The fields themselves are the service's (service/items/fields.py); it describes them to the
importer with these types, since the importer knows no service, and hands them over as one
`Vocabulary`. What only gives a sheet its shape (the level columns 大項目/中項目/小項目) is the
importer's own and joins the vocabulary here.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from importers.dates import Role
from importers.values import key, unknown_step


class Kind(enum.StrEnum):
    """How a cell of the field is read."""

    item_id = "item_id"  # the ID column an export writes
    code = "code"  # 項番 such as 1-2, ①-1, １－２
    short_text = "short_text"  # one line
    long_text = "long_text"  # several lines
    day = "day"  # a day, keeping the sheet's text when it was not exact (10月下旬)
    responsibility = "responsibility"  # a role word, or ◎○△ marks in one column per party
    status = "status"  # a status word
    percent = "percent"  # 0–100, or a fraction in a percent-formatted cell
    codes = "codes"  # a list of codes
    step = "step"  # a step of the national procedure: ③-2, 3-2, 手順3-2 (values.read_step)
    choice = "choice"  # one of the field's values, by any of its words (業務: 住民記録, 住基)


@dataclass(frozen=True)
class SheetField:
    name: str
    kind: Kind
    # Headers that name the field, compared after importers.values.key() folding.
    words: tuple[str, ...]
    role: Role | None = None
    # The values a step or choice may take, by every word that names one (folded by key()):
    # a cell naming none of them is a problem.
    values: Mapping[str, str] = dataclasses.field(default_factory=dict)


def unknown_value(text: str, field: SheetField) -> str:
    """Why a step or choice cell names none of the field's values, and what it may name."""
    if field.kind is Kind.step:
        return unknown_step(text, field.values.values())
    shown = dict.fromkeys(field.values.values())
    return f"{text!r} is not a {field.name} this service knows: write one of {'、'.join(shown)}"


# The caller's rule for the parent a code names: 1-2-3 → 1-2, 1 → None.
ParentOf = Callable[[str], str | None]

# The fields the outline is built from: the importer reads these by name.
CODE = "code"
PARENT_CODE = "parent_code"
TITLE = "title"
RESPONSIBILITY = "responsibility"
_STRUCTURAL = {CODE: Kind.code, PARENT_CODE: Kind.code, TITLE: Kind.short_text}

# Level columns: a sheet's outline written as one column per depth, not an item field.
LEVELS = ("level1", "level2", "level3")
_LEVEL_WORDS = {
    "level1": ("大項目", "大分類", "フェーズ", "工程", "phase"),
    "level2": ("中項目", "中分類"),
    "level3": ("小項目", "小分類", "細目"),
}


# Other ways sheets write a field, read into the fields they stand for: a period in one cell
# (2025/4/1～2025/6/30) is a start and an end; a completion column (済, ○, ✓) is a status.
PERIOD = "period"
ACTUAL_PERIOD = "actual_period"
DONE_MARK = "done_mark"
NOTATIONS = (PERIOD, ACTUAL_PERIOD, DONE_MARK)
# The days each period fills.
PERIOD_DAYS = {
    PERIOD: ("planned_start", "planned_end"),
    ACTUAL_PERIOD: ("actual_start", "actual_end"),
}


class Vocabulary:
    """Every field a sheet can fill and every header that names one, built once by the caller,
    with the caller's rule for the parent a code names (1-2-3 → 1-2)."""

    def __init__(self, fields: Iterable[SheetField], parent_of: ParentOf) -> None:
        self.parent_of = parent_of
        self.fields = tuple(fields)
        self.by_name = {field.name: field for field in self.fields}
        for name, kind in _STRUCTURAL.items():
            if name not in self.by_name or self.by_name[name].kind is not kind:
                raise ValueError(f"the vocabulary needs the field {name!r} of kind {kind}")
        # What a mapping may name: the fields, the level columns, the other notations.
        self.names = (*self.by_name, *LEVELS, *NOTATIONS)
        words = {key(word): field.name for field in self.fields for word in field.words}
        self._by_word = words | {
            key(word): level for level, level_words in _LEVEL_WORDS.items() for word in level_words
        }

    def one(self, kind: Kind) -> str:
        """The name of the one field of this kind (there is one status, one progress …)."""
        found = self.of_kind(kind)
        if len(found) != 1:
            raise ValueError(f"the vocabulary has {len(found)} fields of kind {kind}, not one")
        return found[0].name

    def field_of(self, header: str) -> str | None:
        """The field a header's folded words name, if any."""
        return self._by_word.get(header)

    def of_kind(self, kind: Kind) -> tuple[SheetField, ...]:
        return tuple(field for field in self.fields if field.kind is kind)
