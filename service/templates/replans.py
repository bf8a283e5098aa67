"""Replans: a template's followers moved to a version, previewed across all of them, then
applied one project at a time.

Each project diffs from the version it follows (one that skipped a version takes the sum of
both), by the three-way merge of merge.py. The apply writes each project in a transaction of
its own, ended by the `finish` the edge hands in: a project that fails is rolled back whole
and says why, and the others still apply.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from service.access import Caller
from service.changes.service import Actor
from service.db import utcnow
from service.errors import Conflict, NotFound, ServiceError, Unprocessable
from service.items.codes import code_key
from service.items.models import Item, item_predecessors
from service.items.service import delete_item
from service.projects.models import Project
from service.templates.following import entry, push, write_creates
from service.templates.merge import LocalItem, ProjectPlan, json_value, merge, resolved
from service.templates.models import (
    Outcome,
    Replan,
    ReplanProject,
    ReplanState,
    Template,
    TemplateFollower,
    TemplateVersion,
    VersionState,
)
from service.templates.schemas import ReplanCreate, ReplanEdits, TemplateItemData
from service.templates.service import (
    add_draft,
    check_items,
    get_version,
    latest_published,
    mark_published,
    require_author,
    version_items,
)

Finish = Callable[[Session], None]
Progress = Callable[[int, int], None]


def edited(items: Sequence[TemplateItemData], edits: ReplanEdits) -> list[TemplateItemData]:
    """The items with the edits made: shifts, retirements, predecessors, additions."""
    try:
        return _edited(items, edits)
    except OverflowError:
        raise Unprocessable.for_field(
            "edits.shift", "a shifted fixed day would be past the calendar's end"
        ) from None


def _edited(items: Sequence[TemplateItemData], edits: ReplanEdits) -> list[TemplateItemData]:
    by_key = {code_key(item.code): item for item in items}
    for shift in edits.shift:
        prefix = code_key(shift.prefix)
        days = timedelta(days=shift.days)
        for key, item in by_key.items():
            if key.startswith(prefix):
                by_key[key] = item.model_copy(
                    update={
                        "start_offset": _plus(item.start_offset, shift.days),
                        "end_offset": _plus(item.end_offset, shift.days),
                        "start_on": item.start_on + days if item.start_on else None,
                        "end_on": item.end_on + days if item.end_on else None,
                    }
                )
    for name, codes in (
        ("retire", edits.retire),
        ("predecessors", [change.code for change in edits.predecessors]),
    ):
        unknown = [code for code in codes if code_key(code) not in by_key]
        if unknown:
            raise NotFound.for_field(
                f"edits.{name}", f"not items of the version: {', '.join(unknown)}"
            )
    for key in {code_key(code) for code in edits.retire}:
        del by_key[key]
    for change in edits.predecessors:
        key = code_key(change.code)
        if key not in by_key:
            raise Conflict.for_field("edits.predecessors", f"{change.code} is retired")
        by_key[key] = by_key[key].model_copy(update={"predecessors": list(change.predecessors)})
    taken = [item.code for item in edits.add if code_key(item.code) in by_key]
    if taken:
        raise Conflict.for_field("edits.add", f"codes already in the version: {', '.join(taken)}")
    return check_items([*by_key.values(), *edits.add])


def _plus(offset: int | None, days: int) -> int | None:
    return offset + days if offset is not None else None


def _target(
    session: Session, template: Template, data: ReplanCreate
) -> tuple[TemplateVersion, dict[str, Any] | None]:
    if data.to_version is not None:
        return get_version(template, data.to_version, field="to_version"), None
    assert data.edits is not None
    base = latest_published(template)
    if base is None:
        raise Conflict(f"template {template.id} has no published version to edit")
    items = edited(version_items(session, base), data.edits)
    note = data.note or f"replan of version {base.number}"
    version = add_draft(session, template, note, items)
    return version, data.edits.model_dump(mode="json", exclude_defaults=True)


def followers(session: Session, template: Template) -> list[TemplateFollower]:
    return list(
        session.scalars(
            select(TemplateFollower)
            .where(TemplateFollower.template_id == template.id)
            .order_by(TemplateFollower.project_id)
        )
    )


def preview_replan(
    session: Session, caller: Caller, template: Template, data: ReplanCreate
) -> Replan:
    """What the replan would do to every following project; nothing of theirs is written."""
    require_author(caller)
    following = followers(session, template)
    unknown = sorted(set(data.exclude) - {f.project_id for f in following})
    if unknown:
        raise NotFound.for_field(
            "exclude",
            f"projects {', '.join(map(str, unknown))} do not follow template {template.id}",
        )
    target, edits = _target(session, template, data)
    replan = Replan(
        template_id=template.id,
        version_id=target.id,
        state=ReplanState.previewed,
        note=data.note,
        edits=edits,
        actor_organisation_id=caller.organisation_id,
        actor_label=caller.label,
    )
    session.add(replan)
    session.flush()
    excluded = set(data.exclude)
    versions = _Versions(session, template)
    pending = [f for f in following if f.project_id not in excluded and f.version_id != target.id]
    locals_ = local_items(session, [f.project_id for f in pending])
    for follower in following:
        outcome = Outcome.pending
        plan = ProjectPlan()
        if follower.project_id in excluded:
            outcome = Outcome.excluded
        elif follower.version_id == target.id:
            outcome = Outcome.up_to_date
        else:
            plan = versions.plan(follower, target, locals_.get(follower.project_id, []))
        replan.projects.append(
            ReplanProject(
                project_id=follower.project_id,
                from_version=versions.number(follower.version_id),
                outcome=outcome,
                changes=plan.changes(),
                conflicts=plan.conflicts,
            )
        )
    session.flush()
    return replan


class _Versions:
    """The template's versions' items, each read once however many projects follow it."""

    def __init__(self, session: Session, template: Template) -> None:
        self._session = session
        self.template_id = template.id
        self._by_id = {version.id: version for version in template.versions}
        self._items: dict[int, list[TemplateItemData]] = {}

    def number(self, version_id: int) -> int:
        return self._by_id[version_id].number

    def items(self, version_id: int) -> list[TemplateItemData]:
        if version_id not in self._items:
            self._items[version_id] = version_items(self._session, self._by_id[version_id])
        return self._items[version_id]

    def plan(
        self, follower: TemplateFollower, target: TemplateVersion, local: list[LocalItem]
    ) -> ProjectPlan:
        anchor = follower.anchor
        return merge(
            [resolved(item, anchor) for item in self.items(follower.version_id)],
            [resolved(item, anchor) for item in self.items(target.id)],
            local,
            self.number(follower.version_id),
        )


_PARENT = aliased(Item, name="parent")
_NAMED = aliased(Item, name="named")


def local_items(session: Session, project_ids: Sequence[int]) -> dict[int, list[LocalItem]]:
    """The projects' items as the merge compares them, read in two queries for all."""
    if not project_ids:
        return {}
    rows = session.execute(
        select(
            Item.id,
            Item.project_id,
            Item.version,
            Item.code,
            _PARENT.code.label("parent_code"),
            Item.title,
            Item.description,
            Item.responsibility,
            Item.planned_start,
            Item.planned_end,
            Item.deliverable,
            Item.step,
            Item.business,
            Item.status,
            Item.progress,
            Item.actual_start,
            Item.actual_end,
        )
        .outerjoin(_PARENT, _PARENT.id == Item.parent_id)
        .where(Item.project_id.in_(project_ids))
        .order_by(Item.project_id, Item.sort_key)
    ).all()
    links: dict[int, list[str]] = {}
    for item_id, code in session.execute(
        select(item_predecessors.c.item_id, _NAMED.code)
        .join(_NAMED, _NAMED.id == item_predecessors.c.predecessor_id)
        .where(_NAMED.project_id.in_(project_ids))
        .order_by(_NAMED.sort_key)
    ):
        links.setdefault(item_id, []).append(code)
    found: dict[int, list[LocalItem]] = {}
    for row in rows:
        found.setdefault(row.project_id, []).append(
            LocalItem(
                id=row.id,
                version=row.version,
                values={
                    "code": row.code,
                    "parent_code": row.parent_code,
                    "title": row.title,
                    "description": row.description,
                    "responsibility": json_value(row.responsibility),
                    "planned_start": row.planned_start,
                    "planned_end": row.planned_end,
                    "deliverable": row.deliverable,
                    "step": row.step,
                    "business": json_value(row.business),
                    "predecessors": links.get(row.id, []),
                },
                status=json_value(row.status),
                progress=row.progress,
                started=row.actual_start is not None or row.actual_end is not None,
            )
        )
    return found


def get_replan(session: Session, template: Template, replan_id: int) -> Replan:
    replan = session.scalar(
        select(Replan).where(Replan.id == replan_id, Replan.template_id == template.id)
    )
    if replan is None:
        raise NotFound(f"replan {replan_id} of template {template.id} not found")
    return replan


def list_replans(
    session: Session, template: Template, *, after_id: int, limit: int
) -> list[Replan]:
    return list(
        session.scalars(
            select(Replan)
            .where(Replan.template_id == template.id, Replan.id > after_id)
            .order_by(Replan.id)
            .limit(limit)
        )
    )


def apply_replan(
    session: Session,
    caller: Caller,
    template: Template,
    replan_id: int,
    finish: Finish,
    progress: Progress | None = None,
) -> Replan:
    """Apply a previewed replan: per project, all or nothing, each in its own transaction.

    Every project is diffed afresh from what it holds now (the preview may be old); its events
    carry the replan's id. `finish` commits the transaction so far.
    """
    require_author(caller)
    replan = get_replan(session, template, replan_id)
    if replan.state is ReplanState.applied and not any(
        part.outcome is Outcome.pending for part in replan.projects
    ):
        raise Conflict(f"replan {replan.id} is applied already")
    target_id = replan.version_id
    if replan.version.state is VersionState.draft:
        mark_published(template, replan.version)
    replan.state = ReplanState.applied  # claimed first: a second apply finds it taken
    finish(session)
    pending = [part.project_id for part in replan.projects if part.outcome is Outcome.pending]
    actor = Actor.of(caller, replan_id=replan.id)
    # Each version's items are read and validated once for all the projects, not once each:
    # a published version never changes.
    versions = _Versions(session, template)
    for done, project_id in enumerate(pending):
        try:
            _apply_project(session, actor, versions, replan.id, target_id, project_id)
            finish(session)
        except ServiceError as error:
            session.rollback()
            part = session.scalars(
                select(ReplanProject).where(
                    ReplanProject.replan_id == replan.id, ReplanProject.project_id == project_id
                )
            ).one()
            part.outcome = Outcome.failed
            part.reason = error.detail
            finish(session)
        if progress is not None:
            progress(done + 1, len(pending))
    replan = session.get_one(Replan, replan.id)
    replan.applied_at = utcnow()
    session.flush()
    return replan


def _apply_project(
    session: Session,
    actor: Actor,
    versions: _Versions,
    replan_id: int,
    target_id: int,
    project_id: int,
) -> None:
    follower = session.get_one(TemplateFollower, project_id)
    project = session.get_one(Project, project_id)
    target = session.get_one(TemplateVersion, target_id)
    template_id = versions.template_id
    part = session.scalars(
        select(ReplanProject).where(
            ReplanProject.replan_id == replan_id, ReplanProject.project_id == project_id
        )
    ).one()
    if follower.template_id != template_id:
        raise Conflict(f"project {project_id} no longer follows template {template_id}")
    local = local_items(session, [project_id]).get(project_id, [])
    plan = versions.plan(follower, target, local)
    write_plan(session, project, actor, plan, local)
    part.from_version = versions.number(follower.version_id)
    part.changes = plan.changes()
    part.conflicts = plan.conflicts
    part.outcome = Outcome.applied
    part.applied_at = utcnow()
    follower.version_id = target.id
    follower.updated_at = utcnow()
    session.flush()


def write_plan(
    session: Session, project: Project, actor: Actor, plan: ProjectPlan, local: list[LocalItem]
) -> None:
    """The plan's creates, updates and deletes, through the item writers."""
    write_creates(session, project, actor, plan.creates, (i.values["code"] for i in local))
    push(
        session,
        project,
        actor,
        [
            entry({"code": mine.values["code"], **fields}, fields, mine.version)
            for mine, fields in plan.updates
        ],
    )
    for mine in plan.deletes:
        delete_item(session, project, actor, mine.values["code"])
