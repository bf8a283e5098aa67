"""What the project already holds, as an import needs it: every item's place, read at once,
and each item's other columns read a slice at a time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.items.models import Responsibility, item_predecessors
from service.items.service import ITEMS, SNAPSHOT_COLUMNS, snapshot_values


@dataclass(frozen=True, slots=True)
class KnownItem:
    """What the whole-sheet checks need of an item already in the project."""

    id: int
    code: str
    sort_key: str
    title: str
    responsibility: Responsibility
    parent_id: int | None


@dataclass(frozen=True)
class ProjectItems:
    """The project's items by id, in code order, and each one's predecessors' ids."""

    by_id: dict[int, KnownItem]
    links: dict[int, list[int]]

    def snapshot(self, known: KnownItem, columns: Any) -> dict[str, Any]:
        """The item's snapshot from its columns, with codes as they were before the import."""
        parent = self.by_id.get(known.parent_id) if known.parent_id else None
        predecessors = sorted(
            (self.by_id[i] for i in self.links.get(known.id, ()) if i in self.by_id),
            key=lambda predecessor: predecessor.sort_key,
        )
        return snapshot_values(
            known.code,
            parent.code if parent else None,
            columns,
            [predecessor.code for predecessor in predecessors],
        )


def load_project_items(session: Session, project_id: int) -> ProjectItems:
    found = session.execute(
        select(
            ITEMS.c.id,
            ITEMS.c.code,
            ITEMS.c.sort_key,
            ITEMS.c.title,
            ITEMS.c.responsibility,
            ITEMS.c.parent_id,
        )
        .where(ITEMS.c.project_id == project_id)
        .order_by(ITEMS.c.sort_key, ITEMS.c.id)
    )
    by_id = {item.id: KnownItem(*item) for item in found}
    links: dict[int, list[int]] = {}
    linked = session.execute(
        select(item_predecessors.c.item_id, item_predecessors.c.predecessor_id)
        .join(ITEMS, ITEMS.c.id == item_predecessors.c.item_id)
        .where(ITEMS.c.project_id == project_id)
    )
    for item_id, predecessor_id in linked:
        links.setdefault(item_id, []).append(predecessor_id)
    return ProjectItems(by_id, links)


def current_columns(session: Session, ids: Sequence[int]) -> dict[int, Any]:
    """The snapshot columns of these items, by id."""
    if not ids:
        return {}
    found = session.execute(
        select(ITEMS.c.id, *(ITEMS.c[name] for name in SNAPSHOT_COLUMNS)).where(ITEMS.c.id.in_(ids))
    ).mappings()
    return {columns["id"]: columns for columns in found}
