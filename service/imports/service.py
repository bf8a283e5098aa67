"""Applying a parsed sheet to a project: match rows to items, diff, respect ownership, write.

Nothing is written unless every row is valid (all or nothing). Fields the caller does not own
come back as conflicts and are not applied; the rest of the sheet still applies.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, selectinload

from importers.sheet import Diagnostic, ImportRow, ParsedSheet
from importers.values import clean_long_text, clean_text
from service.auth import may_plan
from service.changes.models import ChangeKind
from service.changes.service import Actor, diff, record_change
from service.db import in_slices, utcnow
from service.errors import Unprocessable
from service.imports.models import ImportRecord
from service.items.codes import derived_parent_code, natural_key
from service.items.models import Item, Responsibility, Status, item_predecessors
from service.items.service import (
    SNAPSHOT_COLUMNS,
    record_item_change,
    snapshot,
    snapshot_values,
)
from service.ownership import refused_fields
from service.projects.models import Project

# Fields a sheet can set, in the order events list them.
SHEET_FIELDS = (
    "title",
    "description",
    "responsibility",
    "assignee",
    "planned_start",
    "planned_end",
    "planned_start_text",
    "planned_end_text",
    "actual_start",
    "actual_end",
    "actual_start_text",
    "actual_end_text",
    "status",
    "progress",
    "deliverable",
    "notes",
    "predecessors",
)
_DATE_FIELDS = ("planned_start", "planned_end", "actual_start", "actual_end")


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass
class RowResult:
    row: int
    code: str
    changes: list[FieldChange] = field(default_factory=list)


@dataclass(frozen=True)
class Conflict:
    row: int
    code: str
    field: str
    current: Any
    sheet: Any
    reason: str


@dataclass
class ImportPlan:
    created: list[RowResult] = field(default_factory=list)
    updated: list[RowResult] = field(default_factory=list)
    unchanged: list[RowResult] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)  # (code, title)
    deleted: list[str] = field(default_factory=list)
    errors: list[Diagnostic] = field(default_factory=list)
    # What to write: (row, item or None for a new one, desired values)
    writes: list[tuple[ImportRow, Item | None, dict[str, Any]]] = field(default_factory=list)
    prune: list[Item] = field(default_factory=list)


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _desired(row: ImportRow, fields: set[str], parent_code: str | None) -> dict[str, Any]:
    """The item as the sheet wants it, in the JSON form `snapshot` uses, for the sheet's fields."""
    wanted: dict[str, Any] = {"code": row.code, "parent_code": parent_code}
    present = {"title"} if row.is_group else fields | {"title"}
    for name in SHEET_FIELDS:
        base = name.removesuffix("_text")
        if name in present or (name.endswith("_text") and base in present):
            if name in row.values:
                wanted[name] = _json(row.values[name])
    return wanted


def _match_rows(rows: list[ImportRow], existing: list[Item]) -> list[tuple[ImportRow, Item | None]]:
    """Pair rows with items: by the exported ID first, then by code among the unclaimed.

    A user who inserts a row in an exported sheet and renumbers the codes below it moves those
    items (their IDs travel with them); the inserted row has no ID and becomes a new item.
    """
    by_id = {item.id: item for item in existing}
    claimed: dict[int, ImportRow] = {}
    paired: dict[int, Item | None] = {}
    for index, row in enumerate(rows):
        item_id = row.values.get("id")
        if isinstance(item_id, int) and item_id in by_id and item_id not in claimed:
            claimed[item_id] = row
            paired[index] = by_id[item_id]
    free = [known for known in existing if known.id not in claimed]
    by_code = {known.code: known for known in free}
    by_key: dict[str, list[Item]] = {}
    for known in free:
        by_key.setdefault(known.sort_key, []).append(known)
    for index, row in enumerate(rows):
        if index in paired:
            continue
        found = by_code.get(row.code)
        if found is None:
            alike = by_key.get(natural_key(row.code), [])
            found = alike[0] if len(alike) == 1 else None
        if found is not None and found.id not in claimed:
            claimed[found.id] = row
            paired[index] = found
        else:
            paired[index] = None
    return [(row, paired[index]) for index, row in enumerate(rows)]


def plan_import(
    session: Session, project: Project, actor: Actor, parsed: ParsedSheet, *, prune: bool
) -> ImportPlan:
    plan = ImportPlan(errors=list(parsed.errors))
    existing = list(
        session.scalars(
            select(Item)
            .where(Item.project_id == project.id)
            .order_by(Item.sort_key, Item.id)
            .options(selectinload(Item.parent), selectinload(Item.predecessors))
        )
    )
    rows_and_items = _match_rows(parsed.rows, existing)
    matched = {item.id for _, item in rows_and_items if item is not None}
    final_codes: dict[str, ImportRow | Item] = {row.code: row for row, _ in rows_and_items}
    unmatched = [known for known in existing if known.id not in matched]
    for known in unmatched:
        if prune:
            plan.prune.append(known)
            continue
        plan.missing.append((known.code, known.title))
        clash = final_codes.get(known.code)
        if isinstance(clash, ImportRow):
            _error(
                plan,
                parsed,
                clash,
                "code",
                clash.code,
                f"code {clash.code} belongs to another item (id {known.id}) "
                "that the sheet does not list",
            )
        final_codes.setdefault(known.code, known)

    for row, matched_item in rows_and_items:
        parent_code = row.parent_code or derived_parent_code(row.code)
        if parent_code is not None and parent_code not in final_codes:
            alike = [c for c in final_codes if natural_key(c) == natural_key(parent_code)]
            if len(alike) == 1:
                parent_code = alike[0]
            else:
                _error(
                    plan,
                    parsed,
                    row,
                    "code",
                    row.code,
                    f"its parent {parent_code} is neither in the sheet nor in the project",
                )
                continue
        for predecessor in row.values.get("predecessors", []):
            if predecessor not in final_codes and not any(
                _same_code(predecessor, code) for code in final_codes
            ):
                _error(
                    plan,
                    parsed,
                    row,
                    "predecessors",
                    predecessor,
                    f"predecessor {predecessor} is neither in the sheet nor in the project",
                )
            elif predecessor == row.code:
                _error(
                    plan, parsed, row, "predecessors", predecessor, "an item cannot precede itself"
                )
        wanted = _desired(row, parsed.fields, parent_code)
        if matched_item is None:
            _plan_create(plan, parsed, project, actor, row, wanted)
        else:
            _plan_update(plan, actor, row, matched_item, wanted)
    _check_predecessor_cycles(plan, parsed, rows_and_items, unmatched if not prune else [])
    if prune and plan.prune and not may_plan(actor, project):
        plan.errors.append(
            Diagnostic(
                parsed.sheet, 0, None, None, "only the project's vendor or the PMO may prune items"
            )
        )
    return plan


def _error(
    plan: ImportPlan, parsed: ParsedSheet, row: ImportRow, name: str, value: Any, message: str
) -> None:
    columns = parsed.mapping.get(name) or []
    column = row.columns.get(name) or (columns[0] if columns else None)
    plan.errors.append(
        Diagnostic(parsed.sheet, row.row, column, None if value is None else str(value), message)
    )


def _plan_create(
    plan: ImportPlan,
    parsed: ParsedSheet,
    project: Project,
    actor: Actor,
    row: ImportRow,
    wanted: dict[str, Any],
) -> None:
    if not may_plan(actor, project):
        plan.conflicts.append(
            Conflict(
                row.row,
                row.code,
                "code",
                None,
                row.code,
                "new items are added by the project's vendor or the PMO",
            )
        )
        return
    if not wanted.get("responsibility"):
        _error(
            plan, parsed, row, "responsibility", None, "a new item needs its responsibility (担当)"
        )
        return
    plan.created.append(
        RowResult(
            row.row,
            row.code,
            [FieldChange(k, None, v) for k, v in wanted.items() if v not in (None, [])],
        )
    )
    plan.writes.append((row, None, wanted))


_SHORT_TEXT = ("title", "assignee")
_LONG_TEXT = ("description", "deliverable", "notes")


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
    for name, clean in [(n, clean_text) for n in _SHORT_TEXT] + [
        (n, clean_long_text) for n in _LONG_TEXT
    ]:
        if name in wanted and wanted[name] == clean(current.get(name)):
            wanted[name] = current.get(name)
    for name in _DATE_FIELDS:
        text_name = f"{name}_text"
        if name in wanted and wanted[name] == current.get(name) and wanted.get(text_name) is None:
            wanted[text_name] = current.get(text_name)


def _plan_update(
    plan: ImportPlan, actor: Actor, row: ImportRow, item: Item, wanted: dict[str, Any]
) -> None:
    current = snapshot(item)
    _settle(wanted, current)
    changes = diff({k: current.get(k) for k in wanted}, wanted)
    refused = set(refused_fields(actor.organisation_kind, item.responsibility, changes))
    for name in sorted(refused):
        old, new = changes.pop(name)
        plan.conflicts.append(
            Conflict(
                row.row,
                row.code,
                name,
                old,
                new,
                f"{actor.organisation_kind.value} does not own {name} "
                f"of this {item.responsibility.value} item",
            )
        )
    result = RowResult(
        row.row, row.code, [FieldChange(k, old, new) for k, (old, new) in changes.items()]
    )
    if changes:
        plan.updated.append(result)
        plan.writes.append(
            (row, item, {k: new for k, (_, new) in changes.items()} | {"code": row.code})
        )
    else:
        plan.unchanged.append(result)


def _check_predecessor_cycles(
    plan: ImportPlan,
    parsed: ParsedSheet,
    rows_and_items: list[tuple[ImportRow, Item | None]],
    kept: Iterable[Item],
) -> None:
    edges: dict[str, list[str]] = {item.code: [p.code for p in item.predecessors] for item in kept}
    for row, item in rows_and_items:
        if "predecessors" in row.values:
            edges[row.code] = list(row.values["predecessors"])
        elif item is not None:
            edges[row.code] = [p.code for p in item.predecessors]
    state: dict[str, int] = {}
    for start in edges:
        stack = [(start, iter(edges.get(start, ())))]
        state[start] = state.get(start, 0) or 1
        if state[start] == 2:
            continue
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:
                culprit = next((r for r, _ in rows_and_items if r.code == node), None)
                if culprit is not None:
                    _error(
                        plan,
                        parsed,
                        culprit,
                        "predecessors",
                        child,
                        f"predecessors form a cycle through {child}",
                    )
                return
            elif state.get(child) is None:
                state[child] = 1
                stack.append((child, iter(edges.get(child, ()))))


def record_import(
    session: Session,
    project: Project,
    actor: Actor,
    parsed: ParsedSheet,
    plan: ImportPlan,
    file_name: str,
    data: bytes,
) -> ImportRecord:
    record = ImportRecord(
        project_id=project.id,
        file_name=file_name[:255],
        sha256=hashlib.sha256(data).hexdigest(),
        sheet=parsed.sheet,
        actor_organisation_id=actor.organisation_id,
        actor_label=actor.label,
        rows=len(parsed.rows),
        created=len(plan.created),
        updated=len(plan.updated),
        unchanged=len(plan.unchanged),
        deleted=len(plan.prune),
        missing=len(plan.missing),
        conflicts=len(plan.conflicts),
        skipped=len(parsed.skipped),
    )
    session.add(record)
    session.flush()
    return record


def apply_plan(session: Session, project: Project, actor: Actor, plan: ImportPlan) -> None:
    """Write the plan; the caller's transaction makes it all or nothing.

    New items go in as bulk inserts, a level of the hierarchy at a time (parents first, for
    their ids): building and flushing an ORM object per row cost most of a first import's time
    and memory. Updated items are few per import and go through the ORM.
    """
    now = utcnow()
    before = {id(old): snapshot(old) for _, old, _ in plan.writes if old is not None}
    # Renumbering (2→3, 3→4) would collide with the unique code mid-way: park the codes first.
    renamed = [
        (old, wanted["code"])
        for _, old, wanted in plan.writes
        if old is not None and old.code != wanted["code"]
    ]
    for moving, _ in renamed:
        moving.code = f"~{moving.id}"
    if renamed:
        session.flush()
    items = {
        known.code: known
        for known in session.scalars(select(Item).where(Item.project_id == project.id))
    }
    updates: list[tuple[Item, dict[str, Any]]] = []
    for row, old, wanted in plan.writes:
        if old is not None:
            old.updated_at = now
            items[row.code] = old
            updates.append((old, wanted))
    for moving, code in renamed:
        moving.code, moving.sort_key = code, natural_key(code)
    codes = _Codes({code: item.id for code, item in items.items()})
    created = _insert_new_items(
        session, project, [(row, wanted) for row, old, wanted in plan.writes if old is None], codes
    )

    def resolve(code: str) -> Item:
        final = codes.final(code)
        if final not in items:  # an item this import created: load it to link to it
            found = session.get(Item, codes.ids[final])
            assert found is not None
            items[final] = found
        return items[final]

    for target, wanted in updates:
        for name, value in wanted.items():
            _set(target, name, value, resolve)
    plan.deleted = _prune(session, project, actor, plan)
    session.flush()
    for row, previous, _wanted in plan.writes:
        if previous is None:
            item_id, values = created[row.code]
            record_change(
                session,
                actor,
                project_id=project.id,
                item_id=item_id,
                item_code=row.code,
                kind=ChangeKind.created,
                changes=diff({}, values),
            )
        else:
            record_item_change(
                session,
                actor,
                previous,
                ChangeKind.updated,
                diff(before[id(previous)], snapshot(previous)),
            )


class _Codes:
    """The project's codes after the import, each with its item's id once it has one."""

    def __init__(self, ids: dict[str, int]) -> None:
        self.ids = ids
        self._by_key: dict[str, str] = {}
        for code in ids:
            self._by_key.setdefault(natural_key(code), code)

    def add(self, code: str) -> None:
        self._by_key.setdefault(natural_key(code), code)

    def final(self, code: str) -> str:
        """The code as stored, for the same code in another notation (１－２ for 1-2)."""
        if code in self.ids:
            return code
        return self._by_key.get(natural_key(code), code)


def _insert_new_items(
    session: Session,
    project: Project,
    creates: list[tuple[ImportRow, dict[str, Any]]],
    codes: _Codes,
) -> dict[str, tuple[int, dict[str, Any]]]:
    """Insert the new items; for each code, its id and its snapshot for the change event."""
    if not creates:
        return {}
    now = utcnow()
    new_codes = {row.code for row, _ in creates}
    for code in new_codes:
        codes.add(code)
    parents = {
        row.code: codes.final(wanted["parent_code"]) if wanted.get("parent_code") else None
        for row, wanted in creates
    }
    levels = _levels(parents, new_codes)
    columns: dict[str, dict[str, Any]] = {}
    for row, wanted in creates:
        values: dict[str, Any] = {"status": Status.not_started, "progress": 0}
        for name, value in wanted.items():
            if name not in ("code", "parent_code", "predecessors"):
                values[name] = _column_value(name, value)
        columns[row.code] = values
    by_level = [
        [row.code for row, _ in creates if levels[row.code] == level]
        for level in range(max(levels.values()) + 1)
    ]
    # A level at a time, parents first; in slices, so no import holds every row's parameters.
    for batch in (part for level in by_level for part in in_slices(level)):
        rows = [
            {
                **dict.fromkeys(SNAPSHOT_COLUMNS),
                **columns[code],
                "project_id": project.id,
                "code": code,
                "sort_key": natural_key(code),
                "parent_id": codes.ids[parent] if (parent := parents[code]) else None,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for code in batch
        ]
        ids = session.scalars(
            insert(Item).returning(Item.id, sort_by_parameter_order=True), rows
        ).all()
        codes.ids.update(zip(batch, ids, strict=True))
    predecessors = {
        row.code: [codes.final(code) for code in wanted.get("predecessors") or []]
        for row, wanted in creates
    }
    links = [
        {"item_id": codes.ids[code], "predecessor_id": codes.ids[predecessor]}
        for code, named in predecessors.items()
        for predecessor in dict.fromkeys(named)
    ]
    if links:
        session.execute(insert(item_predecessors), links)
    return {
        code: (
            codes.ids[code],
            snapshot_values(code, parents[code], columns[code], predecessors[code]),
        )
        for code in new_codes
    }


def _levels(parents: dict[str, str | None], new_codes: set[str]) -> dict[str, int]:
    """How many new ancestors each new item has: the order its level is inserted in."""
    levels: dict[str, int] = {}
    for start in parents:
        path: list[str] = []
        code: str | None = start
        while code is not None and code in new_codes and code not in levels:
            if code in path:
                cycle = " → ".join([*path[path.index(code) :], code])
                raise Unprocessable(f"parent codes form a cycle: {cycle}")
            path.append(code)
            code = parents[code]
        depth = levels[code] + 1 if code is not None and code in levels else 0
        for code_on_path in reversed(path):
            levels[code_on_path] = depth
            depth += 1
    return levels


def _column_value(name: str, value: Any) -> Any:
    """A sheet's value (in its JSON form) as the column stores it."""
    if name in _DATE_FIELDS:
        return date.fromisoformat(value) if value else None
    if name == "responsibility":
        return Responsibility(value)
    if name == "status":
        return Status(value)
    return value


def _set(item: Item, name: str, value: Any, resolve: Callable[[str], Item]) -> None:
    if name == "code":
        return
    if name == "parent_code":
        item.parent = resolve(value) if value is not None else None
    elif name == "predecessors":
        item.predecessors = [resolve(code) for code in value]
    else:
        setattr(item, name, _column_value(name, value))


def _prune(session: Session, project: Project, actor: Actor, plan: ImportPlan) -> list[str]:
    """Delete the items the sheet no longer lists, deepest first so parents go last."""
    order = sorted(plan.prune, key=lambda doomed: -len(doomed.sort_key.split(" ")))
    for doomed in order:
        record_item_change(session, actor, doomed, ChangeKind.deleted, diff(snapshot(doomed), {}))
        doomed.predecessors = []
    session.flush()
    for doomed in order:
        session.delete(doomed)
        session.flush()
    return [doomed.code for doomed in order]
