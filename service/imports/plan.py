"""The diff, a slice of rows at a time: what each row creates or changes, what it may not.

Nothing here writes: a slice's plan is a value the writer applies and the answer lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from importers.fields import Kind
from importers.results import ImportRow
from importers.values import clean_long_text, clean_text
from service.access import refused_fields
from service.changes.service import diff
from service.imports.checks import CheckedSheet, same_code
from service.imports.known import KnownItem, ProjectItems
from service.imports.reading import SheetRow
from service.items.codes import natural_key
from service.items.fields import (
    CODE_FIELDS,
    DAYS,
    EVENT_ORDER,
    ITEM_FIELDS,
    LONG_TEXT,
    SHORT_TEXT,
)
from service.organisations.models import OrgKind

# Fields a sheet can set (its codes are the rows' own), in the order events list them.
SHEET_FIELDS = tuple(name for name in EVENT_ORDER if name not in CODE_FIELDS)
# A group made up from the outline has its title, and what it rolls up from its children.
_GROUP_FIELDS = {"title", "responsibility", "planned_start", "planned_end", "status"}
# Fields a row may say without a column of their own: a step at the start of its code (③-2), a
# business in the sheet's name. Where a row says one it applies; where none does, nothing
# is cleared.
_SAID_BY_ROW = frozenset(
    field.name for field in ITEM_FIELDS if field.kind in (Kind.step, Kind.choice)
)
_CLEANERS = [(name, clean_text) for name in SHORT_TEXT] + [
    (name, clean_long_text) for name in LONG_TEXT
]


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def desired(row: ImportRow, fields: frozenset[str], parent_code: str | None) -> dict[str, Any]:
    """The item as the sheet wants it, in the JSON form `snapshot` uses, for the sheet's fields."""
    wanted: dict[str, Any] = {"code": row.code, "parent_code": parent_code}
    present = _GROUP_FIELDS if row.is_group else fields | {"title"}
    present = present | (_SAID_BY_ROW & row.values.keys())
    for name in SHEET_FIELDS:
        base = name.removesuffix("_text")
        if name in present or (name.endswith("_text") and base in present):
            if name in row.values:
                wanted[name] = _json(row.values[name])
    return wanted


def settle(wanted: dict[str, Any], current: dict[str, Any]) -> None:
    """Drop differences of notation only, so exporting and re-importing changes nothing.

    A code written differently (１－２ for 1-2), text that differs only in blanks, and an exact
    day where the item keeps the approximate text it was given (10月下旬) are not changes.
    """
    for name in ("code", "parent_code"):
        if name in wanted and same_code(wanted[name], current.get(name)):
            wanted[name] = current.get(name)
    if "predecessors" in wanted:
        known = {natural_key(code): code for code in current.get("predecessors", [])}
        wanted["predecessors"] = [known.get(natural_key(c), c) for c in wanted["predecessors"]]
    for name, clean in _CLEANERS:
        if name in wanted and wanted[name] == clean(current.get(name)):
            wanted[name] = current.get(name)
    for name in DAYS:
        text_name = f"{name}_text"
        if name in wanted and wanted[name] == current.get(name) and wanted.get(text_name) is None:
            wanted[text_name] = current.get(text_name)


@dataclass(frozen=True)
class Create:
    row: ImportRow
    wanted: dict[str, Any]

    def answer(self) -> dict[str, Any]:
        return {
            "row": self.row.row,
            "code": self.row.code,
            "changes": [
                {"field": name, "old": None, "new": value}
                for name, value in self.wanted.items()
                if value not in (None, [])
            ],
        }


@dataclass(frozen=True)
class Update:
    row: ImportRow
    known: KnownItem
    changes: dict[str, tuple[Any, Any]]

    def answer(self) -> dict[str, Any]:
        return {
            "row": self.row.row,
            "code": self.row.code,
            "changes": [
                {"field": name, "old": old, "new": new} for name, (old, new) in self.changes.items()
            ],
        }


@dataclass(frozen=True)
class SlicePlan:
    creates: list[Create]
    updates: list[Update]
    unchanged: list[str]
    conflicts: list[dict[str, Any]]
    # The first new row without a side, in a sheet with no column to give one.
    sideless: SheetRow | None


def _conflict(row: ImportRow, name: str, current: Any, sheet: Any, reason: str) -> dict[str, Any]:
    return {
        "row": row.row,
        "code": row.code,
        "field": name,
        "current": current,
        "sheet": sheet,
        "reason": reason,
    }


@dataclass(frozen=True)
class Planner:
    """What every slice is diffed with: the sheet's checked rows and who is importing."""

    rows: Sequence[SheetRow]
    checked: CheckedSheet
    items: ProjectItems
    fields: frozenset[str]
    importer: OrgKind
    may_add: bool  # the project's vendor or the PMO

    def plan(self, start: int, rows: list[ImportRow], columns: dict[int, Any]) -> SlicePlan:
        """The slice of rows from `start`, against its items' current `columns` (by id)."""
        plan = SlicePlan(creates=[], updates=[], unchanged=[], conflicts=[], sideless=None)
        matched = self.checked.matched[start : start + len(rows)]
        sideless = None
        for index, (row, known) in enumerate(zip(rows, matched, strict=True), start):
            if index in self.checked.failed:
                continue
            wanted = desired(row, self.fields, self.checked.parents[index])
            if "predecessors" in wanted:
                wanted["predecessors"] = list(self.checked.predecessors[index] or [])
            if known is not None:
                changes = self._changes(row, known, columns[known.id], wanted, plan.conflicts)
                if changes:
                    plan.updates.append(Update(row, known, changes))
                else:
                    plan.unchanged.append(row.code)
            elif not self.may_add:
                reason = "new items are added by the project's vendor or the PMO"
                plan.conflicts.append(_conflict(row, "code", None, row.code, reason))
            elif wanted.get("responsibility"):
                plan.creates.append(Create(row, wanted))
            elif "responsibility" not in self.fields and sideless is None:
                # A sheet with the column has said why for this row already.
                sideless = self.rows[index]
        return replace(plan, sideless=sideless)

    def _changes(
        self,
        row: ImportRow,
        known: KnownItem,
        columns: Any,
        wanted: dict[str, Any],
        conflicts: list[dict[str, Any]],
    ) -> dict[str, tuple[Any, Any]]:
        """The changes the importer may make; each one it may not, added to `conflicts`."""
        current = self.items.snapshot(known, columns)
        settle(wanted, current)
        changes = diff({name: current.get(name) for name in wanted}, wanted)
        side = known.responsibility.value
        for name in refused_fields(self.importer, known.responsibility, changes):
            old, new = changes.pop(name)
            reason = f"{self.importer.value} does not own {name} of this {side} item"
            conflicts.append(_conflict(row, name, old, new, reason))
        return changes
