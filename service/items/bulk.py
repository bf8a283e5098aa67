"""A vendor's push: many creates and partial updates by code, applied all or nothing."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import cast

from sqlalchemy import Table, bindparam, inspect, select, update
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from service.changes.service import Actor
from service.errors import (
    FieldError,
    NotFound,
    PreconditionFailed,
    ServiceError,
    Unprocessable,
)
from service.items.codes import code_key, natural_key
from service.items.models import Item
from service.items.schemas import BulkItem, BulkItemResult, BulkPush, ItemCreate, ItemUpdate
from service.items.service import create_item, update_loaded_item
from service.projects.models import Project
from service.sessions import note_load

_NOT_FIELDS = {"code", "version"}


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
    # New items go first, parents before children, so later entries can name them.
    order = sorted(
        range(len(push.items)),
        key=lambda i: (keys[i] in existing, natural_key(push.items[i].code)),
    )
    applied: dict[int, tuple[Item, int | None]] = {}
    for index in order:
        entry = push.items[index]
        try:
            applied[index] = _apply(session, project, actor, entry, existing.get(keys[index]))
        except ServiceError as error:
            raise _in_context(error, index, entry.code) from None
    updated = [(item, before) for item, before in applied.values() if before is not None]
    try:
        _write_plain_updates(session, updated)
        session.flush()  # the rest: new parents or predecessors, which the ORM writes
    except StaleDataError:
        raise _lost_race(session, updated) from None
    note_load(session, project.id, len(applied))
    return [_result(*applied[index]) for index in range(len(push.items))]


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
    items = cast(Table, Item.__table__)
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


def _result(item: Item, version_before: int | None) -> BulkItemResult:
    if version_before is None:
        result = "created"
    else:
        result = "unchanged" if item.version == version_before else "updated"
    return BulkItemResult(code=item.code, id=item.id, result=result, version=item.version)


def _apply(
    session: Session, project: Project, actor: Actor, entry: BulkItem, known: Item | None
) -> tuple[Item, int | None]:
    """The item created or updated, with the version it had before (None: created)."""
    fields = entry.model_dump(exclude_unset=True, exclude=_NOT_FIELDS)
    if known is None:
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
        item = create_item(
            session, project, actor, ItemCreate.model_validate({"code": entry.code, **fields})
        )
        return item, None
    before = known.version
    return update_loaded_item(
        session, project, actor, known, ItemUpdate.model_validate(fields)
    ), before
