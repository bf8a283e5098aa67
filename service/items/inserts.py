"""New items in bulk, as the push and the import both write them: a level of the hierarchy at a
time (parents first, for their ids), then their predecessor links, then their change events.

The writers check the rules first (items/rules.py, ownership); this only writes, into the
caller's transaction. Core statements, not ORM instances: a flush per item was four round
trips an item, most of a 1,000-item push's time.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from service.changes.models import ChangeKind
from service.changes.service import Actor, diff, record_change
from service.db import insert_rows, utcnow
from service.items.codes import code_columns
from service.items.models import item_predecessors
from service.items.service import ITEMS, SNAPSHOT_COLUMNS, snapshot_values


@dataclass(frozen=True)
class NewItem:
    """An item to create: its code, its parent's and predecessors' codes as the project stores
    them, and its snapshot columns as stored values (enums, days); the columns left out are
    empty."""

    code: str
    parent: str | None
    columns: Mapping[str, Any]
    predecessors: Sequence[str] = ()


@dataclass
class Inserted:
    """Links the insert left to the caller: their other end is not written yet."""

    orphans: list[tuple[str, str]] = field(default_factory=list)  # (item, its parent)
    later_links: list[tuple[str, str]] = field(default_factory=list)  # (item, a predecessor)


def levels(parents: Mapping[str, str | None], new_codes: set[str]) -> dict[str, int]:
    """How many new ancestors each new item has: the order its level is inserted in."""
    found: dict[str, int] = {}
    for start in parents:
        path: list[str] = []
        code: str | None = start
        while code is not None and code in new_codes and code not in found:
            path.append(code)
            code = parents[code]
        depth = found[code] + 1 if code is not None and code in found else 0
        for code_on_path in reversed(path):
            found[code_on_path] = depth
            depth += 1
    return found


def insert_items(
    session: Session,
    project_id: int,
    actor: Actor,
    new: Sequence[NewItem],
    ids: MutableMapping[str, int],
) -> Inserted:
    """Insert `new` items with their links and `created` events.

    `ids` maps the code of every item the new ones may name to its id, and gains the new
    items'. A parent or predecessor not among them (yet) is left to the caller, in the answer.
    The parents must form no cycle among the new items (the callers check it).
    """
    left = Inserted()
    if not new:
        return left
    now = utcnow()
    depth = levels({item.code: item.parent for item in new}, {item.code for item in new})
    for level in range(max(depth.values()) + 1):
        batch = [item for item in new if depth[item.code] == level]
        rows = []
        for item in batch:
            parent_id = None
            if item.parent is not None:
                parent_id = ids.get(item.parent)
                if parent_id is None:
                    left.orphans.append((item.code, item.parent))
            rows.append(
                {
                    **dict.fromkeys(SNAPSHOT_COLUMNS),
                    **item.columns,
                    "project_id": project_id,
                    **code_columns(item.code),
                    "parent_id": parent_id,
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        written = insert_rows(session, ITEMS, rows, returning_ids=True)
        ids.update(zip((item.code for item in batch), written, strict=True))
    links = []
    for item in new:
        for predecessor in dict.fromkeys(item.predecessors):
            if predecessor in ids:
                links.append({"item_id": ids[item.code], "predecessor_id": ids[predecessor]})
            else:
                left.later_links.append((item.code, predecessor))
    insert_rows(session, item_predecessors, links)
    for item in new:
        snapshot = snapshot_values(
            item.code, item.parent, item.columns, list(dict.fromkeys(item.predecessors))
        )
        record_change(
            session,
            actor,
            project_id=project_id,
            item_id=ids[item.code],
            item_code=item.code,
            kind=ChangeKind.created,
            changes=diff({}, snapshot),
        )
    return left
