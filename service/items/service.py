"""Rules and queries for WBS items. Flushes, never commits."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, Select, Table, and_, bindparam, or_, select, tuple_
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from service.access import may_plan, refused_fields
from service.changes.models import ChangeKind
from service.changes.service import Actor, diff, record_change
from service.concurrency import check_if_match, versions_checked
from service.cursors import item_cursor, item_position
from service.db import utcnow
from service.errors import Conflict, FieldError, Forbidden, NotFound, Unprocessable
from service.items.codes import code_columns, code_key, natural_key
from service.items.fields import DAYS, PLAIN_COLUMNS, TEXT_COMPANIONS
from service.items.models import CLOSED_STATUSES, Item, Responsibility, Status, item_predecessors
from service.items.rules import (
    dates_out_of_order,
    derived_parent_code,
    parent_cycle,
    predecessor_cycle,
)
from service.items.schemas import ItemCreate, ItemRead, ItemUpdate
from service.national import Business
from service.projects.models import Project

T = TypeVar("T")


def is_overdue(planned_end: date | None, status: Status, as_of: date) -> bool:
    return planned_end is not None and planned_end < as_of and status not in CLOSED_STATUSES


def open_clause() -> ColumnElement[bool]:
    """Items not yet closed, with the statuses written into the SQL as literals.

    The partial index on open items serves a query only when its condition visibly implies
    the index's; SQLite cannot see that through bound parameters and read 750,000 closed
    items of a 1,000,000-item database for the overdue report instead.
    """
    closed = bindparam(
        None,
        [status.value for status in CLOSED_STATUSES],
        expanding=True,
        literal_execute=True,
        type_=Item.status.type,
    )
    return Item.status.not_in(closed)


def overdue_clause(as_of: date) -> ColumnElement[bool]:
    """SQL twin of `is_overdue`."""
    return and_(Item.planned_end < as_of, open_clause())


def record_item_change(
    session: Session, actor: Actor, item: Item, kind: ChangeKind, changes: Mapping[str, Any]
) -> None:
    """The change event of one item, in the writer's transaction."""
    record_change(
        session,
        actor,
        project_id=item.project_id,
        item_id=item.id,
        item_code=item.code,
        kind=kind,
        changes=changes,
    )


def _json_ready(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    return value


def snapshot(item: Item) -> dict[str, Any]:
    """The item's tracked fields as JSON values: what change events compare."""
    return snapshot_values(
        item.code,
        item.parent.code if item.parent is not None else None,
        {name: getattr(item, name) for name in SNAPSHOT_COLUMNS},
        [predecessor.code for predecessor in item.predecessors],
    )


# What a snapshot reads off the item's row: its plain columns and the texts kept beside days.
SNAPSHOT_COLUMNS = PLAIN_COLUMNS + TEXT_COMPANIONS


def snapshot_values(
    code: str, parent_code: str | None, columns: Mapping[str, Any], predecessors: list[str]
) -> dict[str, Any]:
    """`snapshot` of an item known only by its column values (one written in bulk)."""
    values: dict[str, Any] = {"code": code, "parent_code": parent_code}
    values.update({name: _json_ready(columns.get(name)) for name in PLAIN_COLUMNS})
    values.update({name: columns.get(name) for name in TEXT_COMPANIONS})
    values["predecessors"] = predecessors
    return values


# What an answer reads off the item's row as it is; codes and links are looked up.
_READ_COLUMNS = (
    "id",
    "project_id",
    "code",
    *SNAPSHOT_COLUMNS,
    "version",
    "created_at",
    "updated_at",
)


def to_read(item: Item, as_of: date) -> ItemRead:
    """An item as the API shows it (its parent and predecessors loaded)."""
    return ItemRead.model_validate(
        {
            **{name: getattr(item, name) for name in _READ_COLUMNS},
            "parent_code": item.parent.code if item.parent is not None else None,
            "predecessors": [predecessor.code for predecessor in item.predecessors],
            "overdue": is_overdue(item.planned_end, item.status, as_of),
        }
    )


def _items_of(project_id: int) -> Select[Item]:
    return (
        select(Item)
        .where(Item.project_id == project_id)
        # The parent in the same query (one row at most); predecessors in one more.
        .options(joinedload(Item.parent), selectinload(Item.predecessors))
    )


def find_item(session: Session, project_id: int, code: str) -> Item | None:
    """The item with this code (as codes compare); failing that, the one whose code differs only
    in its separators (1.2 for 1-2)."""
    item = session.scalar(_items_of(project_id).where(Item.code_key == code_key(code)))
    if item is not None:
        return item
    alike = list(session.scalars(_items_of(project_id).where(Item.sort_key == natural_key(code))))
    return alike[0] if len(alike) == 1 else None


# Built once, with the project and code as parameters: building the statement and its cache
# key cost a single read or write as much as a query.
_ITEM_BY_CODE = (
    select(Item)
    .where(Item.project_id == bindparam("project_id"), Item.code_key == bindparam("code_key"))
    .options(joinedload(Item.parent), selectinload(Item.predecessors))
)


def get_item(session: Session, project: Project, code: str) -> Item:
    item = session.scalar(_ITEM_BY_CODE, {"project_id": project.id, "code_key": code_key(code)})
    if item is None:
        raise NotFound(f"item {code!r} not found in project {project.id}")
    return item


@dataclass(frozen=True)
class ItemFilters:
    as_of: date
    responsibility: Responsibility | None = None
    statuses: tuple[Status, ...] = ()
    assignee: str | None = None
    parent: str | None = None
    overdue: bool | None = None
    due_before: date | None = None
    due_after: date | None = None
    updated_since: datetime | None = None
    text: str | None = None
    steps: tuple[str, ...] = ()
    businesses: tuple[Business, ...] = ()


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filtered(
    session: Session, query: Select[Any], project_id: int, filters: ItemFilters
) -> Select[Any]:
    if filters.responsibility is not None:
        query = query.where(Item.responsibility == filters.responsibility)
    if filters.statuses:
        query = query.where(Item.status.in_(filters.statuses))
    if filters.assignee is not None:
        query = query.where(Item.assignee == filters.assignee)
    if filters.steps:
        query = query.where(Item.step.in_(filters.steps))
    if filters.businesses:
        query = query.where(Item.business.in_(filters.businesses))
    if filters.parent is not None:
        parent = find_item(session, project_id, filters.parent)
        query = query.where(Item.parent_id == (parent.id if parent else -1))
    if filters.overdue is True:
        query = query.where(overdue_clause(filters.as_of))
    elif filters.overdue is False:
        query = query.where(
            or_(
                Item.planned_end.is_(None),
                Item.planned_end >= filters.as_of,
                Item.status.in_(CLOSED_STATUSES),
            )
        )
    if filters.due_before is not None:
        query = query.where(Item.planned_end <= filters.due_before)
    if filters.due_after is not None:
        query = query.where(Item.planned_end >= filters.due_after)
    if filters.updated_since is not None:
        query = query.where(Item.updated_at >= filters.updated_since)
    if filters.text:
        pattern = f"%{_escape_like(filters.text)}%"
        query = query.where(
            or_(
                Item.code.ilike(pattern, escape="\\"),
                Item.title.ilike(pattern, escape="\\"),
                Item.description.ilike(pattern, escape="\\"),
            )
        )
    return query


# The table itself, for the writers that use Core statements rather than ORM flushes.
ITEMS = cast(Table, Item.__table__)

# Built once: an alias costs more to make than the query it serves.
_PARENT = aliased(Item, name="parent")
_NAMED = aliased(Item, name="named")


# Built once: constructing these statements cost a page almost as much as running them.
_LISTED = select(Item.__table__, _PARENT.code.label("parent_code")).outerjoin(
    _PARENT, _PARENT.id == Item.parent_id
)
_LISTED_ONE = _LISTED.where(
    Item.project_id == bindparam("project_id"), Item.code_key == bindparam("code_key")
)
_PREDECESSOR_CODES = (
    select(item_predecessors.c.item_id, _NAMED.code)
    .join(_NAMED, _NAMED.id == item_predecessors.c.predecessor_id)
    .where(item_predecessors.c.item_id.in_(bindparam("ids", expanding=True)))
    .order_by(_NAMED.sort_key)
)


def list_items(
    session: Session, project: Project, filters: ItemFilters, *, cursor: str | None, limit: int
) -> tuple[list[ItemRead], str | None]:
    """One page in natural code order, and the cursor of the next page (None at the end).

    Plain rows, not ORM instances: nothing on a page is modified, and building and tracking
    instances was most of the time a page took.
    """
    query = _filtered(session, _LISTED.where(Item.project_id == project.id), project.id, filters)
    if cursor is not None:
        key, last_id = item_position(cursor)
        # A row value, not `a > k OR (a = k AND id > i)`: both databases read it as a range
        # of the (project, sort key, id) index, so a page deep in the list costs the first's.
        query = query.where(tuple_(Item.sort_key, Item.id) > tuple_(key, last_id))
    rows = session.execute(query.order_by(Item.sort_key, Item.id).limit(limit)).all()
    next_cursor = item_cursor(rows[-1].sort_key, rows[-1].id) if len(rows) == limit else None
    return _reads(session, rows, filters.as_of), next_cursor


def read_item(session: Session, project: Project, code: str, as_of: date) -> ItemRead:
    """One item as `GET item` shows it, read as a plain row like a page of `list_items`."""
    row = session.execute(
        _LISTED_ONE, {"project_id": project.id, "code_key": code_key(code)}
    ).first()
    if row is None:
        raise NotFound(f"item {code!r} not found in project {project.id}")
    return _reads(session, [row], as_of)[0]


def _reads(session: Session, rows: Sequence[Row[Any]], as_of: date) -> list[ItemRead]:
    """Rows of `_LISTED` with their predecessors (one more query), as the API shows them."""
    predecessors: dict[int, list[str]] = {row.id: [] for row in rows}
    if rows:
        for item_id, code in session.execute(_PREDECESSOR_CODES, {"ids": list(predecessors)}):
            predecessors[item_id].append(code)
    # Validated from each row's mapping in one call: reading 26 attributes off a Row one by one
    # cost more than the validation itself.
    return [
        ItemRead.model_validate(
            {
                **row._mapping,
                "predecessors": predecessors[row.id],
                "overdue": is_overdue(row.planned_end, row.status, as_of),
            }
        )
        for row in rows
    ]


def parent_unknown(parent_code: str, *, derived: bool) -> NotFound:
    """The answer to a parent code that names no item (`derived`: implied by the item's code)."""
    implied = ", implied by the code," if derived else ""
    advice = "; create it first" + (" or pass parent_code" if derived else "")
    return NotFound.for_field(
        "parent_code",
        f"parent {parent_code!r}{implied} does not exist in this project{advice}",
        "parent_unknown",
    )


def _resolve_parent(session: Session, project_id: int, parent_code: str, *, derived: bool) -> Item:
    parent = find_item(session, project_id, parent_code)
    if parent is None:
        raise parent_unknown(parent_code, derived=derived)
    return parent


def resolve_predecessors(
    codes: Iterable[str], own_code: str, find: Callable[[str], T | None]
) -> list[T]:
    """The items `codes` name, each once, found by `find`; 409 for the item itself among
    them, 404 naming every code that names nothing."""
    wanted = list(dict.fromkeys(codes))
    if code_key(own_code) in {code_key(code) for code in wanted}:
        raise Conflict.for_field(
            "predecessors", "an item cannot precede itself", "predecessor_cycle"
        )
    found = {code: find(code) for code in wanted}
    unknown = [code for code, item in found.items() if item is None]
    if unknown:
        raise NotFound.for_field(
            "predecessors",
            f"not in this project: {', '.join(unknown)}",
            "predecessor_unknown",
        )
    return [item for item in found.values() if item is not None]


def _resolve_predecessors(
    session: Session, project_id: int, codes: Iterable[str], own_code: str
) -> list[Item]:
    return resolve_predecessors(codes, own_code, lambda code: find_item(session, project_id, code))


def parent_cycle_error() -> Conflict:
    return Conflict.for_field(
        "parent_code", "the parent would be the item itself or its descendant", "parent_cycle"
    )


def predecessor_cycle_error() -> Conflict:
    return Conflict.for_field(
        "predecessors", "these predecessors would make the item wait on itself", "predecessor_cycle"
    )


def _ensure_no_parent_cycle(session: Session, item_id: int, parent: Item) -> None:
    def parent_of(current: int) -> int | None:
        if current == item_id:
            return parent.id
        found: int | None = session.scalar(select(Item.parent_id).where(Item.id == current))
        return found

    if parent_cycle([item_id], parent_of) is not None:
        raise parent_cycle_error()


def _ensure_no_predecessor_cycle(session: Session, item: Item, predecessors: list[Item]) -> None:
    edges: dict[int, set[int]] = {}
    rows = session.execute(
        select(item_predecessors.c.item_id, item_predecessors.c.predecessor_id)
        .join(Item, Item.id == item_predecessors.c.item_id)
        .where(Item.project_id == item.project_id)
    )
    for successor_id, predecessor_id in rows:
        edges.setdefault(successor_id, set()).add(predecessor_id)
    edges[item.id] = {predecessor.id for predecessor in predecessors}
    if predecessor_cycle([item.id], lambda current: edges.get(current, ())) is not None:
        raise predecessor_cycle_error()


def _ensure_dates_in_order(item: Item) -> None:
    ensure_dates_in_order({name: getattr(item, name) for name in DAYS})


def ensure_dates_in_order(values: Mapping[str, object]) -> None:
    """422 naming each end before its start among an item's `values`."""
    found = dates_out_of_order(values)
    if found:
        raise Unprocessable(
            "; ".join(problem.message for problem in found),
            errors=[
                FieldError(
                    loc=["body", problem.field],
                    field=problem.field,
                    message=problem.message,
                    type="date_order",
                )
                for problem in found
            ],
        )


def _ensure_code_free(session: Session, project_id: int, code: str, other_than: int = 0) -> None:
    taken = session.scalar(
        select(Item.code).where(
            Item.project_id == project_id, Item.code_key == code_key(code), Item.id != other_than
        )
    )
    if taken is not None:
        written = "" if taken == code else f" (written {taken!r})"
        raise Conflict(f"code {code!r} is already used in this project{written}")


def create_item(session: Session, project: Project, actor: Actor, data: ItemCreate) -> Item:
    if not may_plan(actor, project):
        raise Forbidden("items are created by the project's vendor or the PMO")
    _ensure_code_free(session, project.id, data.code)
    parent_code = data.parent_code or derived_parent_code(data.code)
    parent = (
        _resolve_parent(session, project.id, parent_code, derived=data.parent_code is None)
        if parent_code
        else None
    )
    predecessors = _resolve_predecessors(session, project.id, data.predecessors, data.code)
    now = utcnow()
    item = Item(
        project_id=project.id,
        **code_columns(data.code),
        parent=parent,
        predecessors=predecessors,
        created_at=now,
        updated_at=now,
        **{name: getattr(data, name) for name in PLAIN_COLUMNS},
    )
    _ensure_dates_in_order(item)
    session.add(item)
    session.flush()
    record_item_change(session, actor, item, ChangeKind.created, diff({}, snapshot(item)))
    return item


def update_item(
    session: Session,
    project: Project,
    actor: Actor,
    code: str,
    data: ItemUpdate,
    *,
    if_match: str | None = None,
) -> Item:
    item = get_item(session, project, code)
    check_if_match(if_match, item.version)
    update_loaded_item(session, project, actor, item, data)
    with versions_checked(session, ITEMS, item.id, f"item {code!r}"):
        session.flush()  # the new version, for the answer's ETag
    return item


def update_loaded_item(
    session: Session, project: Project, actor: Actor, item: Item, data: ItemUpdate
) -> Item:
    """`update_item` for an item already loaded (with parent and predecessors), as a push has.

    Not flushed: a push of a thousand items writes them in one flush, not a thousand.
    """
    sent = data.model_dump(exclude_unset=True)
    before = snapshot(item)
    _apply(session, project, item, sent)
    changes = diff(before, snapshot(item))
    refused = refused_fields(
        actor.organisation_kind, Responsibility(before["responsibility"]), changes
    )
    if refused:
        raise Forbidden(
            f"{actor.organisation_kind.value} may not change {', '.join(refused)} of this "
            f"{before['responsibility']} item",
            extra={"fields": refused},
        )
    if changes:
        _ensure_dates_in_order(item)
        item.updated_at = utcnow()
        record_item_change(session, actor, item, ChangeKind.updated, changes)
    return item


def _apply(session: Session, project: Project, item: Item, sent: Mapping[str, Any]) -> None:
    """Set the sent fields on the item, resolving codes; ownership is checked by the caller."""
    new_code = sent.get("code", item.code)
    if new_code != item.code:
        _ensure_code_free(session, project.id, new_code, other_than=item.id)
    parent = item.parent
    # Neither a new parent nor a new code: the parent stands, and needs no lookup or cycle check.
    if "parent_code" in sent or new_code != item.code:
        derived = "parent_code" not in sent
        parent_code = derived_parent_code(new_code) if derived else sent["parent_code"]
        parent = (
            _resolve_parent(session, project.id, parent_code, derived=derived)
            if parent_code
            else None
        )
        if parent is not None:
            _ensure_no_parent_cycle(session, item.id, parent)
    if "predecessors" in sent:
        predecessors = _resolve_predecessors(session, project.id, sent["predecessors"], new_code)
        _ensure_no_predecessor_cycle(session, item, predecessors)
        if [p.id for p in predecessors] != [p.id for p in item.predecessors]:
            item.predecessors = predecessors
    if parent is not item.parent:
        item.parent = parent
    if new_code != item.code:
        for name, value in code_columns(new_code).items():
            setattr(item, name, value)
    for name in PLAIN_COLUMNS:
        if name in sent and sent[name] != getattr(item, name):
            setattr(item, name, sent[name])
            if name in DAYS:
                # A day set through the API replaces whatever approximate text a sheet gave.
                setattr(item, f"{name}_text", None)


def delete_item(
    session: Session, project: Project, actor: Actor, code: str, *, if_match: str | None = None
) -> None:
    if not may_plan(actor, project):
        raise Forbidden("items are deleted by the project's vendor or the PMO")
    item = get_item(session, project, code)
    check_if_match(if_match, item.version)
    children = list(session.scalars(select(Item.code).where(Item.parent_id == item.id)))
    successors = list(
        session.scalars(
            select(Item.code)
            .join(item_predecessors, item_predecessors.c.item_id == Item.id)
            .where(item_predecessors.c.predecessor_id == item.id)
        )
    )
    if children or successors:
        reasons = []
        if children:
            reasons.append(f"it has child items {', '.join(sorted(children))}")
        if successors:
            reasons.append(f"items {', '.join(sorted(successors))} name it as a predecessor")
        raise Conflict(f"item {code!r} cannot be deleted: {'; '.join(reasons)}")
    record_item_change(session, actor, item, ChangeKind.deleted, diff(snapshot(item), {}))
    session.delete(item)
    with versions_checked(session, ITEMS, item.id, f"item {code!r}"):
        session.flush()
