"""The writes: an import's record, then each slice's plan as bulk Core statements, then the
links to rows that came later, the deletions and the record's counts.

Every write goes into the caller's transaction and records its change events; a problem found
in a later slice raises, and the caller rolls back all of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import bindparam, delete, or_, update
from sqlalchemy.orm import Session

from service.access import refused_fields
from service.changes.models import ChangeKind, ChangeSource
from service.changes.service import Actor, diff, record_change
from service.db import in_slices, insert_rows, utcnow
from service.imports.checks import CheckedSheet, same_code
from service.imports.known import ProjectItems, current_columns
from service.imports.models import ImportRecord
from service.imports.plan import Create, SlicePlan, Update
from service.imports.reading import SheetRow
from service.imports.schemas import ImportCounts
from service.items.codes import code_columns
from service.items.fields import DAYS
from service.items.inserts import NewItem, insert_items
from service.items.models import Responsibility, Status, item_predecessors
from service.items.service import ITEMS
from service.projects.models import Project


def _column_value(name: str, value: Any) -> Any:
    """A sheet's value (in its JSON form) as the column stores it."""
    if name in DAYS:
        return date.fromisoformat(value) if value else None
    if name == "responsibility":
        return Responsibility(value)
    if name == "status":
        return Status(value)
    return value


class ImportWriter:
    """Writes one import's slices, in sheet order, and what they leave to the end."""

    def __init__(
        self,
        session: Session,
        project: Project,
        actor: Actor,
        record: ImportRecord,
        items: ProjectItems,
        checked: CheckedSheet,
        rows: Sequence[SheetRow],
    ) -> None:
        session.add(record)
        session.flush()
        self.session = session
        self.project = project
        self.items = items
        self.to_delete = checked.to_delete
        self.record = record
        # As the import's events name it: source "import", its record's id.
        self.writer = Actor(
            actor.organisation_id,
            actor.organisation_kind,
            actor.label,
            ChangeSource.import_,
            str(record.id),
        )
        deleting = {known.id for known in checked.to_delete}
        # Code → item id, for every item the project keeps; new items join as they are written.
        self.ids = {
            known.code: known.id for known in items.by_id.values() if known.id not in deleting
        }
        self.orphans: list[tuple[str, str]] = []  # (item, parent) where the parent comes later
        self.later_links: list[tuple[str, str]] = []  # (item, predecessor), likewise
        moving = []
        for row, known in zip(rows, checked.matched, strict=True):
            if known is None:
                continue
            self.ids[checked.stored(row.code)] = known.id
            if not same_code(row.code, known.code) and not refused_fields(
                actor.organisation_kind, known.responsibility, ["code"]
            ):
                moving.append(known.id)
        # Renumbering (2→3, 3→4) would collide with the unique code mid-way: park the codes
        # of every item that moves until its own row gives it its new one.
        if moving:
            session.execute(
                update(ITEMS)
                .where(ITEMS.c.id == bindparam("moving_id"))
                .values(code="~" + bindparam("parked"), code_key="~" + bindparam("parked")),
                [{"moving_id": item_id, "parked": str(item_id)} for item_id in moving],
            )

    def write(self, plan: SlicePlan) -> None:
        self._insert(plan.creates)
        self._update(plan.updates)

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

    def _insert(self, creates: list[Create]) -> None:
        """New items in bulk, as the push writes them; links to rows still to come wait for
        the end."""
        new = []
        for create in creates:
            columns: dict[str, Any] = {"status": Status.not_started, "progress": 0}
            for name, value in create.wanted.items():
                if name not in ("code", "parent_code", "predecessors"):
                    columns[name] = _column_value(name, value)
            new.append(
                NewItem(
                    create.row.code,
                    create.wanted.get("parent_code"),
                    columns,
                    create.wanted.get("predecessors") or [],
                )
            )
        left = insert_items(self.session, self.project.id, self.writer, new, self.ids)
        self.orphans += left.orphans
        self.later_links += left.later_links

    def _update(self, updates: list[Update]) -> None:
        now = utcnow()
        links: list[dict[str, int]] = []
        for change in updates:
            known, changes = change.known, change.changes
            code = changes["code"][1] if "code" in changes else known.code
            values: dict[str, Any] = {"updated_at": now, "version": ITEMS.c.version + 1}
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
            self.session.execute(update(ITEMS).where(ITEMS.c.id == known.id).values(values))
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

    def finish(self, counts: ImportCounts) -> list[str]:
        """Links to items that came later in the sheet, deletions, and the record's counts;
        the deleted codes, deepest first."""
        if self.orphans:
            self.session.execute(
                update(ITEMS)
                .where(ITEMS.c.id == bindparam("child_id"))
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
        deleted = self._delete()
        for name, count in counts.model_dump().items():
            setattr(self.record, name, count)
        return deleted

    def _delete(self) -> list[str]:
        """Delete the items the sheet no longer lists, deepest first so parents go last."""
        if not self.to_delete:
            return []
        order = sorted(self.to_delete, key=lambda known: -len(known.sort_key.split(" ")))
        for part in in_slices(order):
            columns = current_columns(self.session, [known.id for known in part])
            for known in part:
                record_change(
                    self.session,
                    self.writer,
                    project_id=self.project.id,
                    item_id=known.id,
                    item_code=known.code,
                    kind=ChangeKind.deleted,
                    changes=diff(self.items.snapshot(known, columns[known.id]), {}),
                )
            ids = [known.id for known in part]
            self.session.execute(
                delete(item_predecessors).where(
                    or_(
                        item_predecessors.c.item_id.in_(ids),
                        item_predecessors.c.predecessor_id.in_(ids),
                    )
                )
            )
        depths: dict[int, list[int]] = {}
        for known in order:
            depths.setdefault(len(known.sort_key.split(" ")), []).append(known.id)
        for depth in sorted(depths, reverse=True):
            for part_ids in in_slices(depths[depth]):
                self.session.execute(delete(ITEMS).where(ITEMS.c.id.in_(part_ids)))
        return [known.code for known in order]
