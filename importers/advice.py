"""When most rows fail the same way in one column, one problem says it of the column.

A person fixing a sheet reads the first problems first: forty lines of "'◎' is not a role"
tell less than one that says the column holds marks and gives the mapping that reads them.
The per-row problems stay, complete, after it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

from importers.layout import MARK_PREFIX, column_index
from importers.results import Diagnostic
from importers.sheet import SheetLayout
from importers.sources import column_letter
from importers.values import LEAD_MARKS, SUPPORT_MARKS, party_of

# At least this many rows, and at least half the rows read, make a column's problem.
_FEW = 3
_EXAMPLES = 3


def _position(column: str) -> int:
    """Where a column stands: D, or the first of D/E (marks) and M:NM (a grid)."""
    return column_index(column.split("/")[0].split(":")[0])


def _marks(values: Sequence[str]) -> bool:
    return all(value[:1] in LEAD_MARKS | SUPPORT_MARKS for value in values)


def _examples(values: Sequence[str]) -> str:
    shown = list(dict.fromkeys(values))[:_EXAMPLES]
    return ", ".join(shown)


def _shown(mapping: dict[str, str]) -> str:
    return json.dumps(mapping, ensure_ascii=False)


def _role_column(
    layout: SheetLayout, column: str, values: Sequence[str]
) -> tuple[str, dict[str, str] | None]:
    header = layout.headers.get(column, "")
    if _marks(values):
        neighbour = column_letter(_position(column) + 1)
        mapping = {f"{MARK_PREFIX}municipality": column, f"{MARK_PREFIX}vendor": neighbour}
        return (
            f"column {column} holds ◎/○/△ marks under {header!r}, not role words: it looks like "
            "one column per party. This sheet reads that way with the mapping "
            f"{_shown(mapping)} (swap the letters if {neighbour} is the municipality's)",
            mapping,
        )
    if not any(party_of(value) for value in values):
        mapping = {"assignee": column}
        return (
            f"column {column} ({header}) holds names or departments ({_examples(values)}), not "
            f"the side: it looks like the assignee. Map it with {_shown(mapping)}, and give the "
            "side in a column of its own (担当区分: 自治体, ベンダー, 共同) or as ◎○ marks",
            mapping,
        )
    return (
        f"column {column} ({header}): most values are not role words ({_examples(values)}); "
        "write 自治体 (municipality), ベンダー (vendor) or 共同 (both)",
        None,
    )


_HINTS = {
    "date": "write days as 2025/4/1, R7.4.1 or 令和7年4月1日, or approximately as 4月下旬, "
    "R7.3月末 or 令和7年度末",
    "status": "use 未着手, 作業中, 遅延, 保留, 完了 or 対象外, or leave it blank for the progress "
    "to say",
    "progress": "write 0–100 or 80%",
    "mark": "use ◎ (lead), ○ (responsible) or △ (supports)",
    "done_mark": "write 済 or ○ when the item is done, and leave it blank when it is not",
    "outline": "the codes and the groups beside them describe different trees: correct the codes, "
    "or the groups",
    "missing_parent": "the parents these codes name are not in the sheet: if a column names the "
    "groups (大項目, 手順), map it as level1",
}


def column_problems(
    errors: Sequence[Diagnostic], rows_read: int, layout: SheetLayout
) -> list[Diagnostic]:
    """One problem for each column where most rows fail the same way, left to right."""
    by_column: dict[tuple[str, str], list[Diagnostic]] = {}
    for error in errors:
        if error.column and error.kind and error.row:
            by_column.setdefault((error.column, error.kind), []).append(error)
    found = []
    for (column, kind), failing in by_column.items():
        if len(failing) < _FEW or len(failing) * 2 < rows_read:
            continue
        values = [error.value for error in failing if error.value]
        mapping: dict[str, str] | None = None
        if kind == "role":
            message, mapping = _role_column(layout, column, values)
        elif kind in _HINTS:
            common = Counter(values).most_common(_EXAMPLES)
            such = f" (such as {', '.join(value for value, _ in common)})" if common else ""
            message = (
                f"column {column} ({layout.headers.get(column, '')}): {len(failing)} of "
                f"{rows_read} rows fail the same way{such}: {_HINTS[kind]}"
            )
        else:
            continue
        found.append(
            Diagnostic(layout.sheet, 0, column, _examples(values) or None, message, kind, mapping)
        )
    return sorted(found, key=lambda problem: _position(problem.column or "A"))
