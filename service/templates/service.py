"""Templates and their versions: who may see and write them, and what a version may hold.

A version is a draft while its author writes it; published, it never changes. Flushes, never
commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import ColumnElement, delete, select, true
from sqlalchemy.orm import Session, joinedload, selectinload

from service.access import Caller, may_plan
from service.db import utcnow
from service.errors import Conflict, FieldError, Forbidden, NotFound
from service.items.codes import code_columns, code_key
from service.items.models import Item
from service.items.rules import derived_parent_code, parent_cycle, predecessor_cycle
from service.organisations.models import OrgKind
from service.projects.service import get_visible_project
from service.templates.models import Template, TemplateItem, TemplateVersion, VersionState
from service.templates.schemas import (
    FromProject,
    TemplateCreate,
    TemplateItemData,
    VersionCreate,
    VersionUpdate,
)


def visible_templates(caller: Caller) -> ColumnElement[bool]:
    """A template is its owner's (a vendor's or the PMO's); the PMO sees every one."""
    if caller.is_pmo:
        return true()
    return Template.owner_id == caller.organisation_id


def get_visible_template(session: Session, caller: Caller, template_id: int) -> Template:
    """The template, or 404 alike for one that does not exist and one the caller may not see."""
    template = session.scalar(
        select(Template).where(Template.id == template_id, visible_templates(caller))
    )
    if template is None:
        raise NotFound(f"template {template_id} not found")
    return template


def require_author(caller: Caller) -> None:
    if caller.organisation_kind is OrgKind.municipality:
        raise Forbidden("templates are defined by a vendor or the PMO")


def list_templates(
    session: Session, caller: Caller, *, after_id: int, limit: int
) -> list[Template]:
    return list(
        session.scalars(
            select(Template)
            .where(visible_templates(caller), Template.id > after_id)
            .order_by(Template.id)
            .limit(limit)
        )
    )


def create_template(session: Session, caller: Caller, data: TemplateCreate) -> Template:
    require_author(caller)
    name = data.name.strip()
    clash = session.scalar(
        select(Template.id).where(
            Template.owner_id == caller.organisation_id, Template.name == name
        )
    )
    if clash is not None:
        raise Conflict(f"you already have a template named {name!r}")
    items = _items_of(session, caller, data.items, data.from_project)
    template = Template(owner_id=caller.organisation_id, name=name, description=data.description)
    session.add(template)
    session.flush()
    _new_version(session, template, 1, data.note, items)
    session.refresh(template, ["owner", "versions"])
    return template


def create_from_items(
    session: Session,
    caller: Caller,
    name: str,
    items: list[TemplateItemData],
    note: str | None = None,
) -> Template:
    """A template whose first draft holds these items (read from a workbook, say)."""
    return create_template(session, caller, TemplateCreate(name=name, note=note, items=items))


def _items_of(
    session: Session,
    caller: Caller,
    items: list[TemplateItemData] | None,
    from_project: FromProject | None,
) -> list[TemplateItemData]:
    if from_project is not None:
        return items_of_project(session, caller, from_project.project_id, from_project.anchor)
    return check_items(items or [])


def items_of_project(
    session: Session, caller: Caller, project_id: int, anchor: date | None
) -> list[TemplateItemData]:
    """A project's plan as template items, its days as offsets from `anchor` (by default its
    earliest day)."""
    project = get_visible_project(session, caller, project_id)
    if not may_plan(caller, project):
        raise Forbidden("a template is taken from a project its vendor or the PMO plans")
    found = list(
        session.scalars(
            select(Item)
            .where(Item.project_id == project.id)
            .options(joinedload(Item.parent), selectinload(Item.predecessors))
            .order_by(Item.sort_key, Item.id)
        ).unique()
    )
    days = [day for item in found for day in (item.planned_start, item.planned_end) if day]
    start = anchor or (min(days) if days else date.today())
    return check_items(
        [
            TemplateItemData(
                code=item.code,
                parent_code=item.parent.code if item.parent else None,
                title=item.title,
                description=item.description,
                responsibility=item.responsibility,
                deliverable=item.deliverable,
                step=item.step,
                business=item.business,
                predecessors=[predecessor.code for predecessor in item.predecessors],
                start_offset=_offset(start, item.planned_start),
                end_offset=_offset(start, item.planned_end),
            )
            for item in found
        ]
    )


def _offset(anchor: date, day: date | None) -> int | None:
    return (day - anchor).days if day is not None else None


def _item_error(index: int, field: str, message: str, kind: str) -> FieldError:
    return FieldError(
        loc=["body", "items", index, field],
        field=f"items[{index}].{field}",
        message=message,
        type=kind,
    )


def check_items(items: Sequence[TemplateItemData]) -> list[TemplateItemData]:
    """The items, if they make a plan: codes unique, parents and predecessors among them, no
    cycle, no end before its start; otherwise 409 naming every offending item."""
    errors: list[FieldError] = []
    index_of: dict[str, int] = {}
    for index, item in enumerate(items):
        key = code_key(item.code)
        if key in index_of:
            errors.append(
                _item_error(index, "code", f"code {item.code!r} is used twice", "duplicate")
            )
        index_of.setdefault(key, index)
    parents: dict[int, int | None] = {}
    links: dict[int, list[int]] = {}
    for index, item in enumerate(items):
        parent = item.parent_code or derived_parent_code(item.code)
        parents[index] = index_of.get(code_key(parent)) if parent else None
        if parent and parents[index] is None:
            errors.append(
                _item_error(
                    index, "parent_code", f"parent {parent!r} is not an item here", "parent_unknown"
                )
            )
        unknown = [code for code in item.predecessors if code_key(code) not in index_of]
        if unknown:
            errors.append(
                _item_error(
                    index,
                    "predecessors",
                    f"not items here: {', '.join(unknown)}",
                    "predecessor_unknown",
                )
            )
        links[index] = [index_of[code_key(c)] for c in item.predecessors if code_key(c) in index_of]
        for side_a, side_b in (("start_offset", "end_offset"), ("start_on", "end_on")):
            start, end = getattr(item, side_a), getattr(item, side_b)
            if start is not None and end is not None and end < start:
                errors.append(
                    _item_error(index, side_b, f"ends before it starts ({side_a})", "date_order")
                )
    if not errors:
        cycle = parent_cycle(list(parents), parents.get)
        if cycle is not None:
            errors.append(
                _item_error(
                    cycle[0], "parent_code", "its parents lead back to itself", "parent_cycle"
                )
            )
        looped = predecessor_cycle(list(links), lambda index: links.get(index, ()))
        if looped is not None:
            errors.append(
                _item_error(
                    looped[0], "predecessors", "its predecessors wait on it", "predecessor_cycle"
                )
            )
    if errors:
        # 409 as for an item's own cycles and codes: each item is valid alone, and the items
        # as sent conflict with one another.
        raise Conflict(
            f"{len(errors)} problem{'s' if len(errors) > 1 else ''} in the items: "
            + "; ".join(f"{e.field}: {e.message}" for e in errors[:5]),
            errors=errors,
        )
    return list(items)


def _new_version(
    session: Session,
    template: Template,
    number: int,
    note: str | None,
    items: Sequence[TemplateItemData],
) -> TemplateVersion:
    version = TemplateVersion(
        template_id=template.id, number=number, state=VersionState.draft, note=note
    )
    session.add(version)
    session.flush()
    _write_items(session, version, items)
    template.updated_at = utcnow()
    return version


def _write_items(
    session: Session, version: TemplateVersion, items: Sequence[TemplateItemData]
) -> None:
    session.add_all(
        TemplateItem(
            version_id=version.id,
            **code_columns(item.code),
            **item.model_dump(exclude={"code", "parent_code"}),
            parent_code=item.parent_code or derived_parent_code(item.code),
        )
        for item in items
    )
    session.flush()


def get_version(template: Template, number: int, field: str | None = None) -> TemplateVersion:
    """Version `number` of the template; 404 (naming the body's `field`, if it came from one)."""
    for version in template.versions:
        if version.number == number:
            return version
    message = f"template {template.id} has no version {number}"
    if field is not None:
        raise NotFound.for_field(field, message)
    raise NotFound(message)


def version_items(session: Session, version: TemplateVersion) -> list[TemplateItemData]:
    rows = session.scalars(
        select(TemplateItem)
        .where(TemplateItem.version_id == version.id)
        .order_by(TemplateItem.sort_key, TemplateItem.id)
    )
    return [TemplateItemData.model_validate(row) for row in rows]


def latest_published(template: Template) -> TemplateVersion | None:
    published = [v for v in template.versions if v.state is VersionState.published]
    return published[-1] if published else None


def _ensure_no_draft(template: Template) -> None:
    drafts = [v.number for v in template.versions if v.state is VersionState.draft]
    if drafts:
        raise Conflict(
            f"version {drafts[0]} of template {template.id} is a draft: publish or edit it "
            "before starting another"
        )


def add_version(
    session: Session, caller: Caller, template: Template, data: VersionCreate
) -> TemplateVersion:
    require_author(caller)
    _ensure_no_draft(template)
    if data.items is None and data.from_project is None:
        items = version_items(session, template.versions[-1])
    else:
        items = _items_of(session, caller, data.items, data.from_project)
    return add_draft(session, template, data.note, items)


def add_draft(
    session: Session, template: Template, note: str | None, items: Sequence[TemplateItemData]
) -> TemplateVersion:
    """The template's next version, a draft holding these (checked) items."""
    _ensure_no_draft(template)
    number = template.versions[-1].number + 1 if template.versions else 1
    version = _new_version(session, template, number, note, items)
    session.refresh(template, ["versions"])
    return version


def _draft(template: Template, number: int) -> TemplateVersion:
    version = get_version(template, number)
    if version.state is VersionState.published:
        raise Conflict(
            f"version {number} of template {template.id} is published and never changes: "
            "start a new version (POST …/versions)"
        )
    return version


def replace_version(
    session: Session, caller: Caller, template: Template, number: int, data: VersionUpdate
) -> TemplateVersion:
    require_author(caller)
    version = _draft(template, number)
    items = check_items(data.items)
    session.execute(delete(TemplateItem).where(TemplateItem.version_id == version.id))
    version.note = data.note
    _write_items(session, version, items)
    template.updated_at = utcnow()
    return version


def publish(session: Session, caller: Caller, template: Template, number: int) -> TemplateVersion:
    require_author(caller)
    version = _draft(template, number)
    mark_published(template, version)
    session.flush()
    return version


def mark_published(template: Template, version: TemplateVersion) -> None:
    version.state = VersionState.published
    version.published_at = template.updated_at = utcnow()
