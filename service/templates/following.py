"""Projects made from a template, and the writes that give a project a template's items.

Items are written through the bulk push (service/items/bulk.py), as any vendor's push is:
the same ownership rules, checks and change events.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.access import Caller
from service.changes.service import Actor
from service.db import in_slices, utcnow
from service.errors import Conflict, FieldError, ServiceError
from service.items.bulk import push_items
from service.items.codes import code_key, natural_key
from service.items.schemas import BulkItem, BulkPush
from service.organisations.models import OrgKind
from service.projects.models import Project
from service.projects.schemas import ProjectCreate
from service.projects.service import create_project
from service.templates.merge import MERGED, resolved
from service.templates.models import Template, TemplateFollower, TemplateVersion, VersionState
from service.templates.schemas import ProjectsFromTemplate, TemplateItemData
from service.templates.service import get_version, version_items

# The most a push takes at once (BulkPush).
_PUSH = 1000


def entry(values: dict[str, Any], names: Iterable[str], version: int | None = None) -> BulkItem:
    return BulkItem.model_validate(
        {"code": values["code"], **{name: values[name] for name in names}, "version": version}
    )


def push(session: Session, project: Project, actor: Actor, entries: Sequence[BulkItem]) -> None:
    for part in in_slices(list(entries), _PUSH):
        push_items(session, project, actor, BulkPush(items=list(part)))


def write_creates(
    session: Session,
    project: Project,
    actor: Actor,
    creates: Sequence[dict[str, Any]],
    existing: Iterable[str],
) -> None:
    """Create these items (values as `merge.resolved` gives them) beside the `existing` codes.

    A push creates an item's parent and predecessors before it only if they sort before it, and
    a template may name them in any order: so parents come first, level by level, and the
    predecessors not yet there when an item is made are linked in one push at the end (each
    such link checks the project's links for a cycle: a chain of 200 linked so took 4 s).
    """
    made = {code_key(code) for code in existing}
    depth: dict[str, int] = {}
    by_key = {code_key(values["code"]): values for values in creates}

    def level(key: str) -> int:
        if key not in depth:
            parent = by_key[key]["parent_code"]
            parent_key = code_key(parent) if parent else None
            depth[key] = level(parent_key) + 1 if parent_key in by_key else 0
        return depth[key]

    waves: dict[int, list[dict[str, Any]]] = {}
    for key in by_key:
        waves.setdefault(level(key), []).append(by_key[key])
    later: list[BulkItem] = []
    plain = [name for name in MERGED if name != "predecessors"]
    for number in sorted(waves):
        entries = []
        # A push makes its new items in code order: one sorting earlier in the same push is
        # there when a later one names it.
        earlier = {
            code_key(values["code"]): natural_key(values["code"]) for values in waves[number]
        }
        for values in waves[number]:
            own = natural_key(values["code"])
            ready = [
                code
                for code in values["predecessors"]
                if code_key(code) in made or earlier.get(code_key(code), own) < own
            ]
            entries.append(entry({**values, "predecessors": ready}, [*plain, "predecessors"]))
            if len(ready) < len(values["predecessors"]):
                later.append(entry(values, ["predecessors"]))
        push(session, project, actor, entries)
        made |= {code_key(values["code"]) for values in waves[number]}
    push(session, project, actor, later)


def _published(template: Template, number: int) -> TemplateVersion:
    version = get_version(template, number, field="version")
    if version.state is not VersionState.published:
        raise Conflict(
            f"version {number} of template {template.id} is a draft: publish it before "
            "making projects from it"
        )
    return version


def _in_context(error: ServiceError, index: int) -> ServiceError:
    """The same error, naming the project entry of the body it came from."""
    errors = [
        FieldError(
            loc=["body", "projects", index, *e.loc[1:]],
            field=f"projects[{index}].{e.field}",
            message=e.message,
            type=e.type,
        )
        for e in error.errors or []
    ]
    return type(error)(
        f"projects[{index}]: {error.detail}", errors=errors or None, extra=error.extra
    )


def create_followers(
    session: Session, caller: Caller, template: Template, data: ProjectsFromTemplate
) -> list[TemplateFollower]:
    """One project per entry, each anchored on its day, all following the version; all or none."""
    version = _published(template, data.version)
    items = version_items(session, version)
    actor = Actor.of(caller)
    # A vendor's template makes projects with that vendor unless another is named.
    vendor = template.owner_id if template.owner.kind is OrgKind.vendor else None
    followers = []
    for index, entry in enumerate(data.projects):
        if vendor is None and entry.vendor_id is None:
            raise Conflict.for_field(
                f"projects[{index}].vendor_id",
                "the template is the PMO's: name the vendor of each project",
            )
        try:
            project = create_project(
                session,
                caller,
                ProjectCreate(
                    municipality_id=entry.municipality_id,
                    vendor_id=entry.vendor_id or vendor,
                    name=entry.name,
                    consortium=entry.consortium,
                ),
            )
            follower = start_following(
                session, actor, project, template, version, items, entry.anchor
            )
        except ServiceError as error:
            raise _in_context(error, index) from None
        followers.append(follower)
    return followers


def start_following(
    session: Session,
    actor: Actor,
    project: Project,
    template: Template,
    version: TemplateVersion,
    items: Sequence[TemplateItemData],
    anchor: date,
) -> TemplateFollower:
    write_creates(session, project, actor, [resolved(item, anchor) for item in items], ())
    follower = TemplateFollower(
        project_id=project.id,
        template_id=template.id,
        version_id=version.id,
        anchor=anchor,
        updated_at=utcnow(),
    )
    session.add(follower)
    session.flush()
    return follower


def list_followers(session: Session, template: Template) -> list[tuple[TemplateFollower, Project]]:
    return [
        (follower, project)
        for follower, project in session.execute(
            select(TemplateFollower, Project)
            .join(Project, Project.id == TemplateFollower.project_id)
            .where(TemplateFollower.template_id == template.id)
            .order_by(TemplateFollower.project_id)
        )
    ]


def follower_of(session: Session, project_id: int) -> tuple[TemplateFollower, Project]:
    follower = session.get_one(TemplateFollower, project_id)
    return follower, session.get_one(Project, project_id)
