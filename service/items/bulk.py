"""A vendor's push: many creates and partial updates by code, applied all or nothing."""

from __future__ import annotations

from collections import Counter, defaultdict

from sqlalchemy import bindparam, inspect, or_, select, update
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from service.access import may_plan
from service.changes.service import Actor
from service.db import SLICE, in_slices
from service.errors import (
    FieldError,
    Forbidden,
    NotFound,
    PreconditionFailed,
    ServiceError,
    Unprocessable,
)
from service.items.codes import code_key, natural_key
from service.items.fields import PLAIN_COLUMNS
from service.items.inserts import NewItem, insert_items
from service.items.models import Item
from service.items.rules import derived_parent_code, parent_cycle, predecessor_cycle
from service.items.schemas import BulkItem, BulkItemResult, BulkPush, ItemCreate, ItemUpdate
from service.items.service import (
    ITEMS,
    ensure_dates_in_order,
    parent_cycle_error,
    parent_unknown,
    predecessor_cycle_error,
    resolve_predecessors,
    update_loaded_item,
)
from service.projects.models import Project
from service.sessions import note_load

_NOT_FIELDS = {"code", "version"}
# What a field of a new item is when its entry leaves it out: as for `POST …/items`.
_CREATE_DEFAULTS = {
    name: ItemCreate.model_fields[name].get_default(call_default_factory=True)
    for name in PLAIN_COLUMNS
}


def _stale(session: Session, project: Project, push: BulkPush) -> list[dict[str, object]]:
    keys = [code_key(entry.code) for entry in push.items if entry.version is not None]
    rows = session.execute(
        select(Item.code_key, Item.version).where(
            Item.project_id == project.id, Item.code_key.in_(keys)
        )
    )
    current = dict(rows.all())
    return [
        {
            "code": entry.code,
            "version": entry.version,
            "current_version": current.get(code_key(entry.code)),
        }
        for entry in push.items
        if entry.version is not None and current.get(code_key(entry.code)) != entry.version
    ]


def _in_context(error: ServiceError, index: int, code: str) -> ServiceError:
    """The same error, naming the pushed entry it came from."""
    errors = [
        FieldError(
            loc=["body", "items", index, *e.loc[1:]],
            field=f"items[{index}].{e.field}",
            message=e.message,
            type=e.type,
        )
        for e in error.errors or []
    ]
    return type(error)(
        f"items[{index}] (code {code}): {error.detail}",
        errors=errors or None,
        headers=error.headers,
        extra=error.extra,
    )


def push_items(
    session: Session, project: Project, actor: Actor, push: BulkPush
) -> list[BulkItemResult]:
    # Look-alikes (１－２ and 1-2) are the same code pushed twice.
    keys = [code_key(entry.code) for entry in push.items]
    times = Counter(keys)
    repeated = sorted(
        {entry.code for entry, key in zip(push.items, keys, strict=True) if times[key] > 1}
    )
    if repeated:
        raise Unprocessable.for_field(
            "items", f"codes pushed more than once: {', '.join(repeated)}"
        )
    stale = _stale(session, project, push)
    if stale:
        raise PreconditionFailed(
            f"{len(stale)} item(s) changed since the versions pushed: "
            + ", ".join(str(s["code"]) for s in stale)
            + "; read them again and push the changes anew. Nothing was applied.",
            extra={"stale": stale},
        )
    # One query for every item the push updates, instead of one (or more) per entry.
    existing = {
        item.code_key: item
        for item in session.scalars(
            select(Item)
            .where(Item.project_id == project.id, Item.code_key.in_(keys))
            .options(joinedload(Item.parent), selectinload(Item.predecessors))
        )
    }
    results: dict[int, BulkItemResult] = {}
    # New items first, in a few statements, so that the updates can name them.
    creates = [index for index, key in enumerate(keys) if key not in existing]
    for index, item_id in zip(
        creates, _create(session, project, actor, push, creates), strict=True
    ):
        code = push.items[index].code
        results[index] = BulkItemResult(code=code, id=item_id, result="created", version=1)
    updated: dict[int, tuple[Item, int]] = {}
    for index in sorted(
        (index for index, key in enumerate(keys) if key in existing),
        key=lambda i: natural_key(push.items[i].code),
    ):
        entry, known = push.items[index], existing[keys[index]]
        updated[index] = (known, known.version)
        fields = entry.model_dump(exclude_unset=True, exclude=_NOT_FIELDS)
        try:
            update_loaded_item(session, project, actor, known, ItemUpdate.model_validate(fields))
        except ServiceError as error:
            raise _in_context(error, index, entry.code) from None
    try:
        _write_plain_updates(session, list(updated.values()))
        session.flush()  # the rest: new parents or predecessors, which the ORM writes
    except StaleDataError:
        raise _lost_race(session, list(updated.values())) from None
    for index, (item, before) in updated.items():
        result = "unchanged" if item.version == before else "updated"
        results[index] = BulkItemResult(
            code=item.code, id=item.id, result=result, version=item.version
        )
    note_load(session, project.id, len(push.items))
    return [results[index] for index in range(len(push.items))]


class _Named:
    """Every item the push's new items may name, looked up as `find_item` looks up one.

    The project's items come in one query (a slice of codes at a time), the new items are the
    push's own: the code as compared first, failing that the one code that differs only in
    its separators (1.2 for 1-2).
    """

    def __init__(self, session: Session, project_id: int, new: list[str], named: list[str]):
        self.ids: dict[str, int] = {}  # the project's items named, by code
        self._by_key = {code_key(code): code for code in new}
        self._alike: dict[str, list[str]] = defaultdict(list)
        for code in new:
            self._alike[natural_key(code)].append(code)
        wanted = [code for code in dict.fromkeys(named) if code_key(code) not in self._by_key]
        for part in in_slices(wanted, SLICE // 2):
            rows = session.execute(
                select(Item.id, Item.code, Item.code_key, Item.sort_key).where(
                    Item.project_id == project_id,
                    or_(
                        Item.code_key.in_({code_key(code) for code in part}),
                        Item.sort_key.in_({natural_key(code) for code in part}),
                    ),
                )
            )
            for row in rows:
                if row.code not in self.ids:
                    self.ids[row.code] = row.id
                    self._by_key[row.code_key] = row.code
                    self._alike[row.sort_key].append(row.code)

    def find(self, code: str) -> str | None:
        """The code, as the project stores it, of the item `code` names."""
        found = self._by_key.get(code_key(code))
        if found is not None:
            return found
        alike = self._alike.get(natural_key(code), [])
        return alike[0] if len(alike) == 1 else None


def _create(
    session: Session, project: Project, actor: Actor, push: BulkPush, creates: list[int]
) -> list[int]:
    """Create the entries at `creates` (indexes into the push): their new ids, in that order.

    Their codes, parents and predecessors are resolved together, the rules checked entry by
    entry in code order (parents before children, as a create of each in turn would), and
    the items written a level of the hierarchy at a time (items/inserts.py).
    """
    if not creates:
        return []
    entries = [push.items[index] for index in creates]
    named = [
        code
        for entry in entries
        for code in (
            entry.parent_code or derived_parent_code(entry.code) or "",
            *(entry.predecessors or ()),
        )
        if code
    ]
    lookup = _Named(session, project.id, [entry.code for entry in entries], named)
    planned: dict[int, NewItem] = {}
    for index in sorted(creates, key=lambda i: natural_key(push.items[i].code)):
        entry = push.items[index]
        try:
            planned[index] = _new_item(project, actor, entry, lookup)
        except ServiceError as error:
            raise _in_context(error, index, entry.code) from None
    _ensure_no_cycles(push, planned)
    new = [planned[index] for index in creates]
    ids = lookup.ids
    left = insert_items(session, project.id, actor, new, ids)
    # Every parent and predecessor was found above, in the project or among the new items.
    assert not left.orphans
    assert not left.later_links
    return [ids[item.code] for item in new]


def _new_item(project: Project, actor: Actor, entry: BulkItem, lookup: _Named) -> NewItem:
    """The item an entry creates, checked as `create_item` checks one."""
    fields = entry.model_dump(exclude_unset=True, exclude=_NOT_FIELDS)
    missing = [name for name in ("title", "responsibility") if name not in fields]
    if missing:
        # Either an update of an item that is not there, or a create missing its fields.
        raise NotFound(
            f"no item {entry.code!r} to update in this project; a new item needs "
            f"{', '.join(missing)}",
            errors=[
                FieldError(
                    loc=["body", name],
                    field=name,
                    message="required for a new item",
                    type="missing",
                )
                for name in missing
            ],
        )
    if not may_plan(actor, project):
        raise Forbidden("items are created by the project's vendor or the PMO")
    # The entry's fields were validated as the push's; a create's defaults fill in the rest.
    columns = {name: fields.get(name, _CREATE_DEFAULTS[name]) for name in PLAIN_COLUMNS}
    given_parent = fields.get("parent_code")
    parent_code = given_parent or derived_parent_code(entry.code)
    parent = None
    if parent_code:
        parent = lookup.find(parent_code)
        if parent is None:
            raise parent_unknown(parent_code, derived=given_parent is None)
    predecessors = resolve_predecessors(fields.get("predecessors") or [], entry.code, lookup.find)
    ensure_dates_in_order(columns)
    return NewItem(entry.code, parent, columns, predecessors)


def _ensure_no_cycles(push: BulkPush, planned: dict[int, NewItem]) -> None:
    """409 when the new items' parents or predecessors lead back to where they started.

    Only the new items can close a cycle among themselves: the project's items name none of
    them (an update in the same push that names one is checked as it is applied).
    """
    by_code = {item.code: item for item in planned.values()}
    index_of = {item.code: index for index, item in planned.items()}
    cycle = parent_cycle(by_code, lambda code: by_code[code].parent if code in by_code else None)
    if cycle is not None:
        first = min(cycle, key=lambda code: natural_key(code))
        raise _in_context(parent_cycle_error(), index_of[first], first)
    closing = predecessor_cycle(
        by_code, lambda code: [p for p in by_code[code].predecessors if p in by_code]
    )
    if closing is not None:
        code = closing[0]
        raise _in_context(predecessor_cycle_error(), index_of[code], code)


def _lost_race(session: Session, updated: list[tuple[Item, int]]) -> PreconditionFailed:
    """412 naming every item another writer changed while the push was being applied.

    The push read them at one version and found another when it wrote: as if its versions
    had been stale from the start, nothing is applied.
    """
    before = {item.id: (item.code, version) for item, version in updated}
    session.rollback()  # the push's writes are void; the versions are read afresh
    rows = session.execute(select(Item.id, Item.version).where(Item.id.in_(list(before))))
    current = {row.id: row.version for row in rows}
    stale = [
        {"code": code, "version": version, "current_version": current.get(item_id)}
        for item_id, (code, version) in before.items()
        if current.get(item_id) != version
    ]
    return PreconditionFailed(
        f"{len(stale)} item(s) changed by another request while the push was applied: "
        + ", ".join(str(entry["code"]) for entry in stale)
        + "; read them again and push the changes anew. Nothing was applied.",
        extra={"stale": stale},
    )


def _write_plain_updates(session: Session, updated: list[tuple[Item, int]]) -> None:
    """Write the items whose changes are all plain columns in one UPDATE per set of columns.

    The ORM writes a versioned row with one UPDATE of its own, to check its version: a
    thousand round trips for a replan of a thousand items, most of the push's time on
    PostgreSQL. Here the same version check is in the WHERE of an executemany, and the
    number of rows it touched tells whether another writer got there first.
    """
    items = ITEMS
    columns = {attribute.key for attribute in Item.__mapper__.column_attrs}
    batches: dict[tuple[str, ...], list[tuple[Item, int]]] = defaultdict(list)
    for item, before in updated:
        changed = tuple(sorted(inspect(item).committed_state))
        if changed and set(changed) <= columns and "version" not in changed:
            batches[changed].append((item, before))
    connection = session.connection()
    for changed, batch in batches.items():
        statement = (
            update(items)
            .where(items.c.id == bindparam("b_id"), items.c.version == bindparam("b_version"))
            .values({name: bindparam(name) for name in (*changed, "version")})
        )
        rows = [
            {
                "b_id": item.id,
                "b_version": before,
                "version": before + 1,
                **{name: getattr(item, name) for name in changed},
            }
            for item, before in batch
        ]
        written = connection.execute(statement, rows).rowcount
        if written != len(rows):
            # As the ORM says it for a versioned row it could not find at its version.
            raise StaleDataError(f"{len(rows) - written} item(s) of the push changed meanwhile")
        for item, before in batch:
            # The row is written: the session must not write it again.
            for name in changed:
                set_committed_value(item, name, getattr(item, name))
            set_committed_value(item, "version", before + 1)
