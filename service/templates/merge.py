"""The three-way merge of a replan: the version a project follows, the replan's version, and
the project as it is now. Pure: values in, the changes to make and the conflicts out.

A field the replan changes is changed in the project only where the project still holds the
old version's value; where someone changed it locally, it is a conflict, reported and left
alone. A field the replan does not change is never touched, whatever the project holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import Enum
from typing import Any

from service.errors import Unprocessable
from service.items.codes import code_key, natural_key
from service.items.rules import derived_parent_code
from service.templates.schemas import TemplateItemData

# The item fields a template carries, in the order changes list them: the plan's fields
# (service/items/fields.py, Owner.plan) but for the texts kept beside a sheet's days. A replan
# writes nothing else: progress, assignees and notes stay the project's.
MERGED = (
    "parent_code",
    "title",
    "description",
    "responsibility",
    "planned_start",
    "planned_end",
    "deliverable",
    "step",
    "business",
    "predecessors",
)
# An item that records any of these has been worked on: a replan does not delete it.
_STARTED = ("actual_start", "actual_end")


def resolved(item: TemplateItemData, anchor: date) -> dict[str, Any]:
    """A template item's values in a project anchored on `anchor`, as an item holds them."""
    return {
        "code": item.code,
        "parent_code": item.parent_code or derived_parent_code(item.code),
        "title": item.title,
        "description": item.description,
        "responsibility": item.responsibility.value,
        "planned_start": _day(anchor, item.start_offset, item.start_on),
        "planned_end": _day(anchor, item.end_offset, item.end_on),
        "deliverable": item.deliverable,
        "step": item.step,
        "business": item.business.value if item.business else None,
        "predecessors": list(item.predecessors),
    }


def _day(anchor: date, offset: int | None, fixed: date | None) -> date | None:
    if offset is None:
        return fixed
    try:
        return anchor + timedelta(days=offset)
    except OverflowError:
        raise Unprocessable.for_field(
            "anchor", f"{offset} days from {anchor} is past the calendar's end"
        ) from None


def _compared(name: str, value: Any) -> Any:
    """A value as the merge compares it: codes by what they are (１－２ is 1-2)."""
    if name == "parent_code":
        return code_key(value) if value else None
    if name == "predecessors":
        return tuple(sorted(code_key(code) for code in value or ()))
    if isinstance(value, Enum):
        return value.value
    return value


def json_value(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple):
        return list(value)
    return value


@dataclass(frozen=True)
class LocalItem:
    """A project item as the merge needs it."""

    id: int
    version: int
    values: dict[str, Any]  # code and MERGED, as `resolved` gives them
    status: str
    progress: int
    started: bool  # an actual day is set


@dataclass
class ProjectPlan:
    """What a replan does to one project."""

    creates: list[dict[str, Any]] = field(default_factory=list)  # resolved values
    updates: list[tuple[LocalItem, dict[str, Any]]] = field(default_factory=list)
    deletes: list[LocalItem] = field(default_factory=list)  # in an order that can delete them
    conflicts: list[dict[str, Any]] = field(default_factory=list)

    def changes(self) -> list[dict[str, Any]]:
        """As `ItemChange`s: creates, updates, then deletes, each in code order."""
        found = [
            {
                "code": values["code"],
                "action": "create",
                "fields": [
                    {"field": name, "old": None, "new": json_value(values[name])}
                    for name in MERGED
                    if values[name] not in (None, [])
                ],
            }
            for values in self.creates
        ]
        found += [
            {
                "code": local.values["code"],
                "action": "update",
                "fields": [
                    {
                        "field": name,
                        "old": json_value(local.values[name]),
                        "new": json_value(value),
                    }
                    for name, value in fields.items()
                ],
            }
            for local, fields in self.updates
        ]
        found += [
            {
                "code": local.values["code"],
                "action": "delete",
                "fields": [
                    {"field": name, "old": json_value(local.values[name]), "new": None}
                    for name in MERGED
                    if local.values[name] not in (None, [])
                ],
            }
            for local in self.deletes
        ]
        return found

    @property
    def size(self) -> int:
        return len(self.creates) + len(self.updates) + len(self.deletes)


def _conflict(
    code: str, name: str | None, old: Any, new: Any, local: Any, reason: str
) -> dict[str, Any]:
    return {
        "code": code,
        "field": name,
        "template_old": json_value(old),
        "template_new": json_value(new),
        "local": json_value(local),
        "reason": reason,
    }


def merge(
    old: Iterable[dict[str, Any]],
    new: Iterable[dict[str, Any]],
    local: Iterable[LocalItem],
    from_version: int,
) -> ProjectPlan:
    """The plan that takes a project from the old version's values to the new one's."""
    before = {code_key(values["code"]): values for values in old}
    after = {code_key(values["code"]): values for values in new}
    here = {code_key(item.values["code"]): item for item in local}
    plan = ProjectPlan()
    since = f"changed in the project since version {from_version}"
    for key, wanted in sorted(after.items(), key=lambda pair: natural_key(pair[1]["code"])):
        base, mine = before.get(key), here.get(key)
        if base is None:
            if mine is None:
                plan.creates.append(wanted)
            elif any(
                _compared(name, mine.values[name]) != _compared(name, wanted[name])
                for name in MERGED
            ):
                plan.conflicts.append(
                    _conflict(
                        wanted["code"],
                        None,
                        None,
                        "added",
                        "present",
                        f"the project has an item {mine.values['code']!r} that version "
                        f"{from_version} did not: it is kept as it is",
                    )
                )
            continue
        if mine is None:
            if any(_compared(n, base[n]) != _compared(n, wanted[n]) for n in MERGED):
                plan.conflicts.append(
                    _conflict(
                        wanted["code"],
                        None,
                        "present",
                        "changed",
                        None,
                        "deleted in the project: it is not made again",
                    )
                )
            continue
        fields: dict[str, Any] = {}
        for name in MERGED:
            was, becomes = _compared(name, base[name]), _compared(name, wanted[name])
            if was == becomes:
                continue
            now = _compared(name, mine.values[name])
            if now == was:
                fields[name] = wanted[name]
            elif now != becomes:
                plan.conflicts.append(
                    _conflict(
                        wanted["code"], name, base[name], wanted[name], mine.values[name], since
                    )
                )
        if fields:
            plan.updates.append((mine, fields))
    _retire(plan, before, after, here, since)
    return plan


def _retire(
    plan: ProjectPlan,
    before: Mapping[str, dict[str, Any]],
    after: Mapping[str, dict[str, Any]],
    here: Mapping[str, LocalItem],
    since: str,
) -> None:
    """Delete what the new version retires, unless the project changed it, started it, or
    keeps items under it or waiting on it."""
    retired: dict[str, LocalItem] = {}
    for key, base in before.items():
        mine = here.get(key)
        if key in after or mine is None:
            continue
        code = mine.values["code"]
        if any(_compared(n, mine.values[n]) != _compared(n, base[n]) for n in MERGED):
            plan.conflicts.append(_conflict(code, None, "present", "retired", "changed", since))
        elif mine.started or mine.status != "not_started" or mine.progress:
            plan.conflicts.append(
                _conflict(
                    code,
                    None,
                    "present",
                    "retired",
                    mine.status,
                    "work is recorded on it in the project: it is kept",
                )
            )
        else:
            retired[key] = mine
    updated = {id(local): fields for local, fields in plan.updates}
    # Links as they will be once the updates are made.
    waits_on: dict[str, set[str]] = {}
    for key, mine in here.items():
        links = updated.get(id(mine), {}).get("predecessors", mine.values["predecessors"])
        for predecessor in links:
            waits_on.setdefault(code_key(predecessor), set()).add(key)
    children: dict[str, set[str]] = {}
    for key, mine in here.items():
        parent = updated.get(id(mine), {}).get("parent_code", mine.values["parent_code"])
        if parent:
            children.setdefault(code_key(parent), set()).add(key)
    # What stays must not lose its parent or a predecessor: drop from the deletions, until
    # none is left that something staying depends on.
    changed = True
    while changed:
        changed = False
        for key in list(retired):
            kept = (children.get(key, set()) | waits_on.get(key, set())) - set(retired)
            if kept:
                local = retired.pop(key)
                plan.conflicts.append(
                    _conflict(
                        local.values["code"],
                        None,
                        "present",
                        "retired",
                        "present",
                        "items the project keeps depend on it ("
                        + ", ".join(sorted(here[k].values["code"] for k in kept))
                        + "): it is kept",
                    )
                )
                changed = True
    # Children and successors first, so that each delete finds nothing depending on it.
    order: list[LocalItem] = []
    left = dict(retired)
    while left:
        free = [
            key
            for key in left
            if not (children.get(key, set()) | waits_on.get(key, set())) & set(left)
        ]
        if not free:  # a parent waiting on its own child: neither can go first
            for local in left.values():
                plan.conflicts.append(
                    _conflict(
                        local.values["code"],
                        None,
                        "present",
                        "retired",
                        "present",
                        "its children and successors depend on each other: it is kept",
                    )
                )
            break
        for key in sorted(free, key=lambda k: natural_key(left[k].values["code"]), reverse=True):
            order.append(left.pop(key))
    plan.deletes = order
