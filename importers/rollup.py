"""A group made up from the outline takes its children's sides, span and status.

Groups come before their children (a group cell on its first child's row, a level column's
new text), so each group's figures are gathered as the children pass and settled when the sheet
ends: only the groups are held, never the rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from importers.fields import ParentOf
from importers.results import ImportRow


@dataclass
class _Span:
    """What a group's children say, gathered as they pass."""

    sides: set[str] = field(default_factory=set)
    start: date | None = None
    end: date | None = None
    statuses: set[str | None] = field(default_factory=set)
    child_groups: list[str] = field(default_factory=list)

    def add(self, values: dict[str, Any]) -> None:
        if values.get("responsibility") is not None:
            self.sides.add(values["responsibility"])
        start, end = values.get("planned_start"), values.get("planned_end")
        if start and (self.start is None or start < self.start):
            self.start = start
        if end and (self.end is None or end > self.end):
            self.end = end
        self.statuses.add(values.get("status"))


class GroupRollUp:
    """The groups of one sheet, and what their children have said of them so far."""

    def __init__(self, parent_of: ParentOf) -> None:
        self.parent_of = parent_of
        self.groups: dict[str, ImportRow] = {}
        self.spans: dict[str, _Span] = {}

    def see(self, row: ImportRow) -> None:
        if row.is_group:
            self.groups[row.code] = row
            self.spans[row.code] = _Span()
        if not self.spans:
            return
        # A row under a group cell names no parent: its code does (①-1 under ①).
        parent = row.parent_code or self.parent_of(row.code)
        span = self.spans.get(parent) if parent else None
        if span is None:
            return
        if row.is_group:
            span.child_groups.append(row.code)  # its figures are known only at the end
        else:
            span.add(row.values)

    def settle(self) -> dict[str, ImportRow]:
        """The groups with their figures, by code."""
        # Deepest groups last in the sheet: settled first, so their parents can add them.
        for code in reversed(self.spans):
            span, values = self.spans[code], self.groups[code].values
            for child in span.child_groups:
                span.add(self.groups[child].values)
            values["responsibility"] = span.sides.pop() if len(span.sides) == 1 else "joint"
            values["planned_start"], values["planned_end"] = span.start, span.end
            if span.statuses and span.statuses <= {"done", "not_applicable"}:
                values["status"] = "done"
            elif span.statuses - {None, "not_started"}:
                values["status"] = "in_progress"
        return self.groups
