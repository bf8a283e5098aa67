"""Applying a sheet to a project: match rows to items, diff, respect ownership, write.

Nothing is written unless every row is valid (all or nothing): the writes go into the caller's
transaction, and an import that finds a problem raises so the caller rolls them back. Fields
the caller does not own come back as conflicts and are not applied; the rest still applies.

An import streams. The first pass reads the sheet once, putting its rows aside on disk and
keeping only each row's code, ID and links; the checks that need the whole sheet (matching,
parents, predecessors, cycles) run on those; the second pass takes the rows back a slice at a
time, diffs them against their items, writes them and writes their answer. Memory stays flat
however long the sheet is: holding every stage of 100,000 rows cost more than a gigabyte.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, or_, select, update
from sqlalchemy.orm import Session

from importers.sheet import Diagnostic, ImportRow, ParsedSheet
from importers.values import clean_long_text, clean_text
from service.access import may_plan, refused_fields
from service.changes.models import ChangeKind, ChangeSource
from service.changes.service import Actor, diff, record_change
from service.db import SLICE, in_slices, insert_rows, utcnow
from service.errors import Unprocessable
from service.imports.answer import AnswerList
from service.imports.models import ImportRecord
from service.items.codes import code_columns, code_key, natural_key
from service.items.fields import CODE_FIELDS, DAYS, EVENT_ORDER, LONG_TEXT, SHORT_TEXT
from service.items.models import Item, Responsibility, Status, item_predecessors
from service.items.rules import derived_parent_code, parent_cycle, predecessor_cycle
from service.items.service import SNAPSHOT_COLUMNS, snapshot_values
from service.projects.models import Project

# Rows diffed and written together; tests make it small to cross slice boundaries.
ROWS_PER_SLICE = SLICE

# Fields a sheet can set (its codes are the rows' own), in the order events list them.
SHEET_FIELDS = tuple(name for name in EVENT_ORDER if name not in CODE_FIELDS)
# A group made up from level columns has its title, and what it rolls up from its children.
_GROUP_FIELDS = {"title", "responsibility", "planned_start", "planned_end", "status"}
# The table itself: the writes here are Core statements, not ORM unit-of-work flushes.
_ITEMS = cast(Table, Item.__table__)


@dataclass(slots=True)
class SheetRow:
    """What the whole-sheet checks need of a row; its values wait on disk."""

    row: int
    code: str
    sheet_id: int | None
    parent_code: str | None  # as the sheet's structure or the code itself names it
    predecessors: list[str] | None  # None: the sheet has no predecessors column
    columns: dict[str, str]

    @classmethod
    def of(cls, row: ImportRow) -> SheetRow:
        sheet_id = row.values.get("id")
        return cls(
            row.row,
            row.code,
            sheet_id if isinstance(sheet_id, int) else None,
            row.parent_code or derived_parent_code(row.code),
            row.values.get("predecessors"),
            row.columns,
        )


@dataclass(slots=True)
class KnownItem:
    """What the whole-sheet checks need of an item already in the project."""

    id: int
    code: str
    sort_key: str
    title: str
    responsibility: Responsibility
    parent_id: int | None


@dataclass
class ImportPlan:
    """What the import did, or would do: the answer's lists, and what stops it."""

    created: AnswerList = field(default_factory=AnswerList)
    updated: AnswerList = field(default_factory=AnswerList)
    unchanged: AnswerList = field(default_factory=AnswerList)
    conflicts: AnswerList = field(default_factory=AnswerList)
    missing: list[tuple[str, str]] = field(default_factory=list)  # (code, title)
    deleted: list[str] = field(default_factory=list)
    errors: list[Diagnostic] = field(default_factory=list)
    rows: int = 0
    record: ImportRecord | None = None

    def close(self) -> None:
        for answer in (self.created, self.updated, self.unchanged, self.conflicts):
            answer.close()


class _RowSpool:
    """The sheet's rows on disk, from the pass that reads them to the pass that applies them."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()
        self._waiting: list[ImportRow] = []

    def add(self, row: ImportRow) -> None:
        self._waiting.append(row)
        if len(self._waiting) >= ROWS_PER_SLICE:
            self._put_aside()

    def _put_aside(self) -> None:
        if self._waiting:
            pickle.dump(self._waiting, self._file, protocol=pickle.HIGHEST_PROTOCOL)
            self._waiting = []

    def slices(self, groups: dict[str, ImportRow]) -> Iterator[list[ImportRow]]:
        """The rows in sheet order; groups as settled at the end of the sheet."""
        self._put_aside()
        self._file.seek(0)
        while True:
            try:
                rows: list[ImportRow] = pickle.load(self._file)
            except EOFError:
                return
            yield [groups[row.code] if row.is_group else row for row in rows]

    def close(self) -> None:
        self._file.close()


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _desired(row: ImportRow, fields: set[str], parent_code: str | None) -> dict[str, Any]:
    """The item as the sheet wants it, in the JSON form `snapshot` uses, for the sheet's fields."""
    wanted: dict[str, Any] = {"code": row.code, "parent_code": parent_code}
    present = _GROUP_FIELDS if row.is_group else fields | {"title"}
    for name in SHEET_FIELDS:
        base = name.removesuffix("_text")
        if name in present or (name.endswith("_text") and base in present):
            if name in row.values:
                wanted[name] = _json(row.values[name])
    return wanted


def _same_code(a: str | None, b: str | None) -> bool:
    return a == b or (a is not None and b is not None and natural_key(a) == natural_key(b))


def _settle(wanted: dict[str, Any], current: dict[str, Any]) -> None:
    """Drop differences of notation only, so exporting and re-importing changes nothing.

    A code written differently (１－２ for 1-2), text that differs only in blanks, and an exact
    day where the item keeps the approximate text it was given (10月下旬) are not changes.
    """
    for name in ("code", "parent_code"):
        if name in wanted and _same_code(wanted[name], current.get(name)):
            wanted[name] = current.get(name)
    if "predecessors" in wanted:
        known = {natural_key(code): code for code in current.get("predecessors", [])}
        wanted["predecessors"] = [known.get(natural_key(c), c) for c in wanted["predecessors"]]
    for name, clean in [(n, clean_text) for n in SHORT_TEXT] + [
        (n, clean_long_text) for n in LONG_TEXT
    ]:
        if name in wanted and wanted[name] == clean(current.get(name)):
            wanted[name] = current.get(name)
    for name in DAYS:
        text_name = f"{name}_text"
        if name in wanted and wanted[name] == current.get(name) and wanted.get(text_name) is None:
            wanted[text_name] = current.get(text_name)


def _column_value(name: str, value: Any) -> Any:
    """A sheet's value (in its JSON form) as the column stores it."""
    if name in DAYS:
        return date.fromisoformat(value) if value else None
    if name == "responsibility":
        return Responsibility(value)
    if name == "status":
        return Status(value)
    return value


def _levels(parents: dict[str, str | None], new_codes: set[str]) -> dict[str, int]:
    """How many new ancestors each new item has: the order its level is inserted in."""
    levels: dict[str, int] = {}
    for start in parents:
        path: list[str] = []
        code: str | None = start
        while code is not None and code in new_codes and code not in levels:
            path.append(code)
            code = parents[code]
        depth = levels[code] + 1 if code is not None and code in levels else 0
        for code_on_path in reversed(path):
            levels[code_on_path] = depth
            depth += 1
    return levels


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


class SheetImport:
    """One sheet applied to one project, in two passes over its rows (see the module's doc)."""

    def __init__(
        self,
        session: Session,
        project: Project,
        actor: Actor,
        parsed: ParsedSheet,
        *,
        prune: bool,
        write: bool,
    ) -> None:
        self.session = session
        self.project = project
        self.actor = actor
        self.parsed = parsed
        self.prune = prune
        self.write = write
        self.plan = ImportPlan()
        self.rows: list[SheetRow] = []
        self._spool = _RowSpool()
        # Filled by the checks:
        self.known: dict[int, KnownItem] = {}
        self.links: dict[int, list[int]] = {}  # item id → its predecessors' ids
        self.matched: list[KnownItem | None] = []
        self.parents: list[str | None] = []  # each row's parent, as the project will know it
        self.failed: set[int] = set()  # rows that cannot be applied at all
        self.doomed: list[KnownItem] = []
        self.renotated: dict[str, str] = {}  # a row's code → its item's code, same but for notation
        # Filled while writing:
        self.writer = actor  # as the import's events name it: source "import", its record's id
        self.ids: dict[str, int] = {}  # code → item id, for every item the project keeps
        self.orphans: list[tuple[str, str]] = []  # (item, parent) where the parent comes later
        self.later_links: list[tuple[str, str]] = []  # (item, predecessor), likewise
        self._told_no_sides = False

    def read(self, rows: Iterable[ImportRow]) -> None:
        """The first pass: rows aside on disk, what the checks need in memory."""
        try:
            for row in rows:
                self.rows.append(SheetRow.of(row))
                self._spool.add(row)
        except BaseException:
            self._spool.close()
            self.plan.close()
            raise
        self.plan.rows = len(self.rows)
        self.plan.errors.extend(self.parsed.errors)

    def apply(self, file_name: str, sha256: str) -> ImportPlan:
        """The checks, then the second pass; writes unless a dry run or a problem stops them."""
        try:
            self._load_known()
            self._match()
            self._check()
            if self._writing():
                self._start(file_name, sha256)
            start = 0
            for rows in self._spool.slices(self.parsed.groups):
                self._apply_slice(start, rows)
                start += len(rows)
            if self._writing():
                self._finish()
        except BaseException:
            self.plan.close()
            raise
        finally:
            self._spool.close()
        return self.plan

    def _writing(self) -> bool:
        return self.write and not self.plan.errors

    def _error(self, row: SheetRow, name: str, value: Any, message: str) -> None:
        columns = self.parsed.mapping.get(name) or []
        column = row.columns.get(name) or (columns[0] if columns else None)
        self.plan.errors.append(
            Diagnostic(
                self.parsed.sheet, row.row, column, None if value is None else str(value), message
            )
        )

    # The checks that need the whole sheet

    def _load_known(self) -> None:
        items = self.session.execute(
            select(
                _ITEMS.c.id,
                _ITEMS.c.code,
                _ITEMS.c.sort_key,
                _ITEMS.c.title,
                _ITEMS.c.responsibility,
                _ITEMS.c.parent_id,
            )
            .where(_ITEMS.c.project_id == self.project.id)
            .order_by(_ITEMS.c.sort_key, _ITEMS.c.id)
        )
        self.known = {item.id: KnownItem(*item) for item in items}
        links = self.session.execute(
            select(item_predecessors.c.item_id, item_predecessors.c.predecessor_id)
            .join(_ITEMS, _ITEMS.c.id == item_predecessors.c.item_id)
            .where(_ITEMS.c.project_id == self.project.id)
        )
        for item_id, predecessor_id in links:
            self.links.setdefault(item_id, []).append(predecessor_id)

    def _match(self) -> None:
        """Pair rows with items: by the exported ID first, then by code among the unclaimed.

        A user who inserts a row in an exported sheet and renumbers the codes below it moves
        those items (their IDs travel with them); the inserted row has no ID and becomes new.
        """
        claimed: set[int] = set()
        matched: list[KnownItem | None] = [None] * len(self.rows)
        for index, row in enumerate(self.rows):
            known = self.known.get(row.sheet_id) if row.sheet_id is not None else None
            if known is not None and known.id not in claimed:
                claimed.add(known.id)
                matched[index] = known
        free = [known for known in self.known.values() if known.id not in claimed]
        by_code = {known.code: known for known in free}
        by_key: dict[str, list[KnownItem]] = {}
        for known in free:
            by_key.setdefault(known.sort_key, []).append(known)
        for index, row in enumerate(self.rows):
            if matched[index] is not None:
                continue
            found = by_code.get(row.code)
            if found is None:
                alike = by_key.get(natural_key(row.code), [])
                found = alike[0] if len(alike) == 1 else None
            if found is not None and found.id not in claimed:
                claimed.add(found.id)
                matched[index] = found
        self.matched = matched

    def _check(self) -> None:
        plan = self.plan
        index_of: dict[str, int | KnownItem] = {row.code: i for i, row in enumerate(self.rows)}
        # Look-alike codes are one code: a second row written 1−2 beside 1-2 repeats it.
        row_of_key: dict[str, int] = {}
        for index, row in enumerate(self.rows):
            first = row_of_key.setdefault(code_key(row.code), index)
            if first != index:
                self._error(
                    row,
                    "code",
                    row.code,
                    f"code {row.code} is already used in row {self.rows[first].row} "
                    f"(written {self.rows[first].code})",
                )
                self.failed.add(index)
        for row, known in zip(self.rows, self.matched, strict=True):
            if known is not None and row.code != known.code and _same_code(row.code, known.code):
                self.renotated[row.code] = known.code
        matched_ids = {known.id for known in self.matched if known is not None}
        kept: list[KnownItem] = []
        for known in self.known.values():
            if known.id in matched_ids:
                continue
            if self.prune:
                self.doomed.append(known)
                continue
            kept.append(known)
            plan.missing.append((known.code, known.title))
            clash = row_of_key.get(code_key(known.code))
            if clash is not None:
                self._error(
                    self.rows[clash],
                    "code",
                    known.code,
                    f"code {known.code} belongs to another item (id {known.id}) "
                    "that the sheet does not list",
                )
            index_of.setdefault(known.code, known)
        plan.deleted = [known.code for known in self.doomed]
        alike = _Alike(index_of)
        self.parents = [None] * len(self.rows)
        for index, row in enumerate(self.rows):
            parent = row.parent_code
            if parent is not None and parent not in index_of:
                same = alike.codes(parent)
                if len(same) != 1:
                    self._error(
                        row,
                        "code",
                        row.code,
                        f"its parent {parent} is neither in the sheet nor in the project",
                    )
                    self.failed.add(index)
                    continue
                parent = same[0]
            self.parents[index] = self._stored(parent) if parent is not None else None
            if row.predecessors is not None:
                row.predecessors = self._known_predecessors(row, index_of, alike)
        self._check_cycles(kept)
        if self.doomed and not may_plan(self.actor, self.project):
            plan.errors.append(
                Diagnostic(
                    self.parsed.sheet,
                    0,
                    None,
                    None,
                    "only the project's vendor or the PMO may prune items",
                )
            )

    def _stored(self, code: str) -> str:
        """The code as the project stores it (１－２ in a sheet is the item 1-2)."""
        return self.renotated.get(code, code)

    def _known_predecessors(
        self, row: SheetRow, index_of: dict[str, int | KnownItem], alike: _Alike
    ) -> list[str]:
        found = []
        for predecessor in row.predecessors or []:
            code = (
                predecessor
                if predecessor in index_of
                else next(iter(alike.codes(predecessor)), None)
            )
            if code is None:
                self._error(
                    row,
                    "predecessors",
                    predecessor,
                    f"predecessor {predecessor} is neither in the sheet nor in the project",
                )
            elif predecessor == row.code:
                self._error(row, "predecessors", predecessor, "an item cannot precede itself")
            else:
                found.append(self._stored(code))
        return found

    def _check_cycles(self, kept: list[KnownItem]) -> None:
        final_code = {known.id: known.code for known in kept}
        for row, known in zip(self.rows, self.matched, strict=True):
            if known is not None:
                final_code[known.id] = self._stored(row.code)

        def codes_of(ids: Iterable[int]) -> list[str]:
            return [final_code[i] for i in ids if i in final_code]

        parents: dict[str, str | None] = {
            known.code: final_code.get(known.parent_id) if known.parent_id else None
            for known in kept
        }
        edges = {known.code: codes_of(self.links.get(known.id, ())) for known in kept}
        for index, (row, known) in enumerate(zip(self.rows, self.matched, strict=True)):
            code = self._stored(row.code)
            if index not in self.failed:
                parents[code] = self.parents[index]
            if row.predecessors is not None:
                edges[code] = row.predecessors
            elif known is not None:
                edges[code] = codes_of(self.links.get(known.id, ()))
        cycle = parent_cycle(parents, parents.get)
        if cycle is not None:
            raise Unprocessable(f"parent codes form a cycle: {' → '.join(cycle)}")
        closing = predecessor_cycle(edges, lambda code: edges.get(code, ()))
        if closing is not None:
            node, child = closing
            culprit = next((row for row in self.rows if self._stored(row.code) == node), None)
            if culprit is not None:
                self._error(
                    culprit, "predecessors", child, f"predecessors form a cycle through {child}"
                )

    # The second pass

    def _start(self, file_name: str, sha256: str) -> None:
        record = ImportRecord(
            project_id=self.project.id,
            file_name=file_name[:255],
            sha256=sha256,
            sheet=self.parsed.sheet,
            actor_organisation_id=self.actor.organisation_id,
            actor_label=self.actor.label,
        )
        self.session.add(record)
        self.session.flush()
        self.plan.record = record
        self.writer = Actor(
            self.actor.organisation_id,
            self.actor.organisation_kind,
            self.actor.label,
            ChangeSource.import_,
            str(record.id),
        )
        doomed = {known.id for known in self.doomed}
        self.ids = {known.code: known.id for known in self.known.values() if known.id not in doomed}
        moving = []
        for row, known in zip(self.rows, self.matched, strict=True):
            if known is None:
                continue
            self.ids[self._stored(row.code)] = known.id
            if not _same_code(row.code, known.code) and not refused_fields(
                self.actor.organisation_kind, known.responsibility, ["code"]
            ):
                moving.append(known.id)
        # Renumbering (2→3, 3→4) would collide with the unique code mid-way: park the codes
        # of every item that moves until its own row gives it its new one.
        if moving:
            self.session.execute(
                update(_ITEMS)
                .where(_ITEMS.c.id == bindparam("moving_id"))
                .values(code="~" + bindparam("parked"), code_key="~" + bindparam("parked")),
                [{"moving_id": item_id, "parked": str(item_id)} for item_id in moving],
            )

    def _snapshot(self, known: KnownItem, columns: Any) -> dict[str, Any]:
        """The item's snapshot from its columns, with codes as they were before the import."""
        parent = self.known.get(known.parent_id) if known.parent_id else None
        predecessors = sorted(
            (self.known[i] for i in self.links.get(known.id, ()) if i in self.known),
            key=lambda predecessor: predecessor.sort_key,
        )
        return snapshot_values(
            known.code,
            parent.code if parent else None,
            columns,
            [predecessor.code for predecessor in predecessors],
        )

    def _columns(self, ids: list[int]) -> dict[int, Any]:
        if not ids:
            return {}
        found = self.session.execute(
            select(_ITEMS.c.id, *(_ITEMS.c[name] for name in SNAPSHOT_COLUMNS)).where(
                _ITEMS.c.id.in_(ids)
            )
        ).mappings()
        return {columns["id"]: columns for columns in found}

    def _apply_slice(self, start: int, rows: list[ImportRow]) -> None:
        matched = self.matched[start : start + len(rows)]
        columns = self._columns([known.id for known in matched if known is not None])
        creates: list[tuple[ImportRow, dict[str, Any]]] = []
        updates: list[tuple[KnownItem, dict[str, tuple[Any, Any]]]] = []
        for index, (row, known) in enumerate(zip(rows, matched, strict=True), start):
            if index in self.failed:
                continue
            wanted = _desired(row, self.parsed.fields, self.parents[index])
            if "predecessors" in wanted:
                wanted["predecessors"] = list(self.rows[index].predecessors or [])
            if known is None:
                if self._plan_create(row, self.rows[index], wanted):
                    creates.append((row, wanted))
            else:
                changes = self._plan_update(row, known, columns[known.id], wanted)
                if changes:
                    updates.append((known, changes))
        if self._writing():
            self._insert(creates)
            self._update(updates)

    def _conflict(self, row: ImportRow, name: str, current: Any, sheet: Any, reason: str) -> None:
        self.plan.conflicts.append(
            {
                "row": row.row,
                "code": row.code,
                "field": name,
                "current": current,
                "sheet": sheet,
                "reason": reason,
            }
        )

    def _plan_create(self, row: ImportRow, key: SheetRow, wanted: dict[str, Any]) -> bool:
        if not may_plan(self.actor, self.project):
            self._conflict(
                row,
                "code",
                None,
                row.code,
                "new items are added by the project's vendor or the PMO",
            )
            return False
        if not wanted.get("responsibility"):
            # A sheet with the column has said why for this row already; one without it gets
            # one problem, not one per new row.
            if "responsibility" not in self.parsed.fields and not self._told_no_sides:
                self._told_no_sides = True
                self._error(
                    key,
                    "responsibility",
                    None,
                    "new items need their responsibility (担当), and the sheet has no such "
                    "column: add one, or map it",
                )
            return False
        self.plan.created.append(
            {
                "row": row.row,
                "code": row.code,
                "changes": [
                    {"field": name, "old": None, "new": value}
                    for name, value in wanted.items()
                    if value not in (None, [])
                ],
            }
        )
        return True

    def _plan_update(
        self, row: ImportRow, known: KnownItem, columns: Any, wanted: dict[str, Any]
    ) -> dict[str, tuple[Any, Any]]:
        current = self._snapshot(known, columns)
        _settle(wanted, current)
        changes = diff({name: current.get(name) for name in wanted}, wanted)
        kind = self.actor.organisation_kind
        for name in refused_fields(kind, known.responsibility, changes):
            old, new = changes.pop(name)
            self._conflict(
                row,
                name,
                old,
                new,
                f"{kind.value} does not own {name} of this {known.responsibility.value} item",
            )
        if changes:
            self.plan.updated.append(
                {
                    "row": row.row,
                    "code": row.code,
                    "changes": [
                        {"field": name, "old": old, "new": new}
                        for name, (old, new) in changes.items()
                    ],
                }
            )
        else:
            self.plan.unchanged.append(row.code)
        return changes

    # Writing

    def _parent_id(self, code: str, parent: str | None) -> int | None:
        """The parent's id, or None until the end when the parent is a new item still to come."""
        if parent is None:
            return None
        if parent not in self.ids:
            self.orphans.append((code, parent))
        return self.ids.get(parent)

    def _link(self, code: str, predecessors: list[str]) -> list[dict[str, int]]:
        links = []
        for predecessor in dict.fromkeys(predecessors):
            if predecessor in self.ids:
                links.append({"item_id": self.ids[code], "predecessor_id": self.ids[predecessor]})
            else:
                self.later_links.append((code, predecessor))
        return links

    def _insert(self, creates: list[tuple[ImportRow, dict[str, Any]]]) -> None:
        """New items in bulk, a level of the hierarchy at a time: parents first, for their ids."""
        if not creates:
            return
        now = utcnow()
        parents = {row.code: wanted.get("parent_code") for row, wanted in creates}
        levels = _levels(parents, set(parents))
        columns: dict[str, dict[str, Any]] = {}
        for row, wanted in creates:
            values: dict[str, Any] = {"status": Status.not_started, "progress": 0}
            for name, value in wanted.items():
                if name not in ("code", "parent_code", "predecessors"):
                    values[name] = _column_value(name, value)
            columns[row.code] = values
        for level in range(max(levels.values()) + 1):
            batch = [row.code for row, _ in creates if levels[row.code] == level]
            ids = insert_rows(
                self.session,
                _ITEMS,
                [
                    {
                        **dict.fromkeys(SNAPSHOT_COLUMNS),
                        **columns[code],
                        "project_id": self.project.id,
                        **code_columns(code),
                        "parent_id": self._parent_id(code, parents[code]),
                        "version": 1,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for code in batch
                ],
                returning_ids=True,
            )
            self.ids.update(zip(batch, ids, strict=True))
        links = [
            link
            for row, wanted in creates
            for link in self._link(row.code, wanted.get("predecessors") or [])
        ]
        insert_rows(self.session, item_predecessors, links)
        for row, wanted in creates:
            code = row.code
            snapshot = snapshot_values(
                code, parents[code], columns[code], list(wanted.get("predecessors") or [])
            )
            record_change(
                self.session,
                self.writer,
                project_id=self.project.id,
                item_id=self.ids[code],
                item_code=code,
                kind=ChangeKind.created,
                changes=diff({}, snapshot),
            )

    def _update(self, updates: list[tuple[KnownItem, dict[str, tuple[Any, Any]]]]) -> None:
        now = utcnow()
        links: list[dict[str, int]] = []
        for known, changes in updates:
            code = changes["code"][1] if "code" in changes else known.code
            values: dict[str, Any] = {"updated_at": now, "version": _ITEMS.c.version + 1}
            for name, (_, new) in changes.items():
                if name == "code":
                    values.update(code_columns(new))
                elif name == "parent_code":
                    values["parent_id"] = self._parent_id(code, new)
                elif name == "predecessors":
                    self.session.execute(
                        delete(item_predecessors).where(item_predecessors.c.item_id == known.id)
                    )
                    links += self._link(code, new)
                else:
                    values[name] = _column_value(name, new)
            self.session.execute(update(_ITEMS).where(_ITEMS.c.id == known.id).values(values))
            record_change(
                self.session,
                self.writer,
                project_id=self.project.id,
                item_id=known.id,
                item_code=code,
                kind=ChangeKind.updated,
                changes=changes,
            )
        insert_rows(self.session, item_predecessors, links)

    def _finish(self) -> None:
        """Links to items that came later in the sheet, deletions, and the import's record."""
        if self.orphans:
            self.session.execute(
                update(_ITEMS)
                .where(_ITEMS.c.id == bindparam("child_id"))
                .values(parent_id=bindparam("new_parent_id")),
                [
                    {"child_id": self.ids[code], "new_parent_id": self.ids[parent]}
                    for code, parent in self.orphans
                ],
            )
        insert_rows(
            self.session,
            item_predecessors,
            [
                {"item_id": self.ids[code], "predecessor_id": self.ids[predecessor]}
                for code, predecessor in dict.fromkeys(self.later_links)
            ],
        )
        self._delete_doomed()
        record, plan = self.plan.record, self.plan
        assert record is not None
        record.rows = plan.rows
        record.created = len(plan.created)
        record.updated = len(plan.updated)
        record.unchanged = len(plan.unchanged)
        record.deleted = len(self.doomed)
        record.missing = len(plan.missing)
        record.conflicts = len(plan.conflicts)
        record.skipped = len(self.parsed.skipped)

    def _delete_doomed(self) -> None:
        """Delete the items the sheet no longer lists, deepest first so parents go last."""
        if not self.doomed:
            return
        order = sorted(self.doomed, key=lambda doomed: -len(doomed.sort_key.split(" ")))
        for part in in_slices(order):
            columns = self._columns([doomed.id for doomed in part])
            for doomed in part:
                record_change(
                    self.session,
                    self.writer,
                    project_id=self.project.id,
                    item_id=doomed.id,
                    item_code=doomed.code,
                    kind=ChangeKind.deleted,
                    changes=diff(self._snapshot(doomed, columns[doomed.id]), {}),
                )
            ids = [doomed.id for doomed in part]
            self.session.execute(
                delete(item_predecessors).where(
                    or_(
                        item_predecessors.c.item_id.in_(ids),
                        item_predecessors.c.predecessor_id.in_(ids),
                    )
                )
            )
        depths: dict[int, list[int]] = {}
        for doomed in order:
            depths.setdefault(len(doomed.sort_key.split(" ")), []).append(doomed.id)
        for depth in sorted(depths, reverse=True):
            for part_ids in in_slices(depths[depth]):
                self.session.execute(delete(_ITEMS).where(_ITEMS.c.id.in_(part_ids)))
        self.plan.deleted = [doomed.code for doomed in order]
