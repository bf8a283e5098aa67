"""The checks that need the whole sheet, on the rows' keys alone: which row is which item,
parents and predecessors that exist, cycles, codes another item holds, and who may prune."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from importers.results import Diagnostic
from importers.sheet import SheetLayout
from service.errors import Unprocessable
from service.imports.known import KnownItem, ProjectItems
from service.imports.reading import SheetRow
from service.items.codes import code_key, natural_key
from service.items.rules import parent_cycle, predecessor_cycle


def same_code(a: str | None, b: str | None) -> bool:
    """Two notations of one code (１－２ and 1-2)."""
    return a == b or (a is not None and b is not None and natural_key(a) == natural_key(b))


@dataclass(frozen=True)
class CheckedSheet:
    """What the checks found, row by row (each list runs parallel to the sheet's rows)."""

    matched: list[KnownItem | None]  # the item each row updates; None: a new item
    parents: list[str | None]  # each row's parent, as the project will store its code
    predecessors: list[list[str] | None]  # likewise; None: the sheet has no such column
    failed: frozenset[int]  # rows that cannot be applied at all
    to_delete: list[KnownItem]  # items the sheet no longer lists, when pruning
    missing: list[tuple[str, str]]  # (code, title) of those kept
    renotated: dict[str, str]  # a row's code → its item's, the same but for notation
    errors: list[Diagnostic]

    def stored(self, code: str) -> str:
        """The code as the project stores it (１－２ in a sheet is the item 1-2)."""
        return self.renotated.get(code, code)


class _Problems(list[Diagnostic]):
    def __init__(self, layout: SheetLayout) -> None:
        super().__init__()
        self.layout = layout

    def add(self, row: SheetRow, name: str, value: Any, message: str, kind: str) -> None:
        columns = self.layout.mapping.get(name) or []
        column = row.columns.get(name) or (columns[0] if columns else None)
        shown = None if value is None else str(value)
        self.append(Diagnostic(self.layout.sheet, row.row, column, shown, message, kind))


class _Alike:
    """The sheet's and the project's codes written like a given one (１－２ like 1-2).

    Only a code that is not found as written needs this: the index is built on the first.
    """

    def __init__(self, codes: Iterable[str]) -> None:
        self._codes = codes
        self._by_key: dict[str, list[str]] | None = None

    def codes(self, code: str) -> list[str]:
        if self._by_key is None:
            self._by_key = {}
            for known in self._codes:
                self._by_key.setdefault(natural_key(known), []).append(known)
        return self._by_key.get(natural_key(code), [])


def match_rows(rows: Sequence[SheetRow], items: ProjectItems) -> list[KnownItem | None]:
    """Pair rows with items: by the exported ID first, then by code among the unclaimed.

    A user who inserts a row in an exported sheet and renumbers the codes below it moves
    those items (their IDs travel with them); the inserted row has no ID and becomes new.
    """
    claimed: set[int] = set()
    matched: list[KnownItem | None] = [None] * len(rows)
    for index, row in enumerate(rows):
        known = items.by_id.get(row.sheet_id) if row.sheet_id is not None else None
        if known is not None and known.id not in claimed:
            claimed.add(known.id)
            matched[index] = known
    free = [known for known in items.by_id.values() if known.id not in claimed]
    # Look-alike codes (１－２ for 1-2) are the same code, as everywhere else.
    by_code = {code_key(known.code): known for known in free}
    by_key: dict[str, list[KnownItem]] = {}
    for known in free:
        by_key.setdefault(known.sort_key, []).append(known)
    for index, row in enumerate(rows):
        if matched[index] is not None:
            continue
        found = by_code.get(code_key(row.code))
        if found is None:
            alike = by_key.get(natural_key(row.code), [])
            found = alike[0] if len(alike) == 1 else None
        if found is not None and found.id not in claimed:
            claimed.add(found.id)
            matched[index] = found
    return matched


@dataclass(frozen=True)
class _Links:
    parents: list[str | None]
    predecessors: list[list[str] | None]
    failed: frozenset[int]


def check_sheet(
    layout: SheetLayout,
    rows: Sequence[SheetRow],
    items: ProjectItems,
    *,
    prune: bool,
    may_prune: bool,
) -> CheckedSheet:
    problems = _Problems(layout)
    # Look-alike codes are one code: a second row written 1−2 beside 1-2 repeats it.
    row_of_key: dict[str, int] = {}
    repeated = set()
    for index, row in enumerate(rows):
        first = row_of_key.setdefault(code_key(row.code), index)
        if first != index:
            problems.add(
                row,
                "code",
                row.code,
                f"code {row.code} is already used in row {rows[first].row} "
                f"(written {rows[first].code})",
                "duplicate",
            )
            repeated.add(index)
    matched = match_rows(rows, items)
    renotated = {
        row.code: known.code
        for row, known in zip(rows, matched, strict=True)
        if known is not None and row.code != known.code and same_code(row.code, known.code)
    }
    index_of: dict[str, int | KnownItem] = {row.code: i for i, row in enumerate(rows)}
    matched_ids = {known.id for known in matched if known is not None}
    kept: list[KnownItem] = []
    to_delete: list[KnownItem] = []
    for known in items.by_id.values():
        if known.id in matched_ids:
            continue
        if prune:
            to_delete.append(known)
            continue
        kept.append(known)
        clash = row_of_key.get(code_key(known.code))
        if clash is not None:
            problems.add(
                rows[clash],
                "code",
                known.code,
                f"code {known.code} belongs to another item (id {known.id}) "
                "that the sheet does not list",
                "clash",
            )
        index_of.setdefault(known.code, known)
    links = _resolve_links(rows, index_of, renotated, problems, repeated)
    _check_cycles(rows, matched, renotated, links, kept, items, problems)
    if to_delete and not may_prune:
        problems.append(
            Diagnostic(
                layout.sheet, 0, None, None, "only the project's vendor or the PMO may prune items"
            )
        )
    return CheckedSheet(
        matched=matched,
        parents=links.parents,
        predecessors=links.predecessors,
        failed=links.failed,
        to_delete=to_delete,
        missing=[(known.code, known.title) for known in kept],
        renotated=renotated,
        errors=list(problems),
    )


def _resolve_links(
    rows: Sequence[SheetRow],
    index_of: dict[str, int | KnownItem],
    renotated: dict[str, str],
    problems: _Problems,
    repeated: set[int],
) -> _Links:
    """Each row's parent and predecessors as the project will store their codes, and the rows
    whose parent is nowhere."""
    alike = _Alike(index_of)
    parents: list[str | None] = [None] * len(rows)
    # A row refused for its parent keeps its predecessors as written: the cycle check sees them.
    predecessors = [row.predecessors for row in rows]
    failed = set(repeated)
    for index, row in enumerate(rows):
        parent = row.parent_code
        if parent is not None and parent not in index_of:
            same = alike.codes(parent)
            if len(same) != 1:
                message = f"its parent {parent} is neither in the sheet nor in the project"
                problems.add(row, "code", row.code, message, "missing_parent")
                failed.add(index)
                continue
            parent = same[0]
        parents[index] = renotated.get(parent, parent) if parent is not None else None
        if row.predecessors is None:
            continue
        found = []
        for predecessor in row.predecessors:
            code = (
                predecessor
                if predecessor in index_of
                else next(iter(alike.codes(predecessor)), None)
            )
            if code is None:
                message = f"predecessor {predecessor} is neither in the sheet nor in the project"
                problems.add(row, "predecessors", predecessor, message, "missing_predecessor")
            elif predecessor == row.code:
                message = "an item cannot precede itself"
                problems.add(row, "predecessors", predecessor, message, "cycle")
            else:
                found.append(renotated.get(code, code))
        # Most rows' predecessors are found as written: their own list serves (a second list
        # per row was a tenth of a 100,000-row import's memory).
        predecessors[index] = row.predecessors if found == row.predecessors else found
    return _Links(parents, predecessors, frozenset(failed))


def _check_cycles(
    rows: Sequence[SheetRow],
    matched: list[KnownItem | None],
    renotated: dict[str, str],
    links: _Links,
    kept: list[KnownItem],
    items: ProjectItems,
    problems: _Problems,
) -> None:
    """Parents that lead back to themselves refuse the sheet; a cycle of predecessors is a
    problem on the row that closes it."""
    final_code = {known.id: known.code for known in kept}
    for row, known in zip(rows, matched, strict=True):
        if known is not None:
            final_code[known.id] = renotated.get(row.code, row.code)

    def codes_of(ids: Iterable[int]) -> list[str]:
        return [final_code[i] for i in ids if i in final_code]

    parents: dict[str, str | None] = {
        known.code: final_code.get(known.parent_id) if known.parent_id else None for known in kept
    }
    edges = {known.code: codes_of(items.links.get(known.id, ())) for known in kept}
    for index, (row, known) in enumerate(zip(rows, matched, strict=True)):
        code = renotated.get(row.code, row.code)
        if index not in links.failed:
            parents[code] = links.parents[index]
        predecessors = links.predecessors[index]
        if predecessors is not None:
            edges[code] = predecessors
        elif known is not None:
            edges[code] = codes_of(items.links.get(known.id, ()))
    cycle = parent_cycle(parents, parents.get)
    if cycle is not None:
        raise Unprocessable(f"parent codes form a cycle: {' → '.join(cycle)}")
    closing = predecessor_cycle(edges, lambda code: edges.get(code, ()))
    if closing is not None:
        node, child = closing
        culprit = next((row for row in rows if renotated.get(row.code, row.code) == node), None)
        if culprit is not None:
            message = f"predecessors form a cycle through {child}"
            problems.add(culprit, "predecessors", child, message, "cycle")
