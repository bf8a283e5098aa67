"""Who may see and change what: the caller, project visibility, and who owns which field.

No HTTP here: the API's dependencies (service/auth.py), the pages and the webhooks all ask these
same questions of the same rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import ColumnElement, false, true

from service.errors import Forbidden
from service.items.fields import Owner, owned_by
from service.items.models import Responsibility
from service.organisations.models import OrgKind
from service.projects.models import Project


@dataclass(frozen=True)
class Caller:
    organisation_id: int
    organisation_kind: OrgKind
    organisation_code: str
    token_id: int
    token_name: str
    read_only: bool

    @property
    def is_pmo(self) -> bool:
        return self.organisation_kind is OrgKind.pmo

    @property
    def label(self) -> str:
        """How the caller appears as the actor of a change."""
        return f"{self.organisation_code}/{self.token_name}"


class Party(Protocol):
    """Anyone who changes data: a caller through the API, or the actor of an import or demo."""

    @property
    def organisation_id(self) -> int: ...
    @property
    def organisation_kind(self) -> OrgKind: ...


def require_pmo(caller: Caller, action: str) -> None:
    if not caller.is_pmo:
        raise Forbidden(f"only the PMO may {action}")


def visible_projects(caller: Caller) -> ColumnElement[bool]:
    """The condition on `Project` that selects exactly what the caller may see."""
    if caller.is_pmo:
        return true()
    if caller.organisation_kind is OrgKind.vendor:
        return Project.vendor_id == caller.organisation_id
    if caller.organisation_kind is OrgKind.municipality:
        return Project.municipality_id == caller.organisation_id
    return false()


def view_of(caller: Caller) -> tuple[object, ...]:
    """Equal for callers whom `visible_projects` shows exactly the same projects."""
    return ("pmo",) if caller.is_pmo else (caller.organisation_kind, caller.organisation_id)


def can_see_project(caller: Caller, project: Project) -> bool:
    return caller.is_pmo or caller.organisation_id in (project.vendor_id, project.municipality_id)


def may_plan(party: Party, project: Project) -> bool:
    """The plan (items, codes, dates) is the vendor's; the PMO may change anything."""
    return party.organisation_kind is OrgKind.pmo or party.organisation_id == project.vendor_id


# The sides a responsibility involves: a joint item is both sides' work.
SIDES: dict[Responsibility, frozenset[Responsibility]] = {
    Responsibility.vendor: frozenset({Responsibility.vendor}),
    Responsibility.municipality: frozenset({Responsibility.municipality}),
    Responsibility.joint: frozenset({Responsibility.vendor, Responsibility.municipality}),
}
_SIDE_OF_KIND = {
    OrgKind.vendor: Responsibility.vendor,
    OrgKind.municipality: Responsibility.municipality,
}

# Who owns which field of a WBS item. The vendor owns the plan; progress belongs to the side
# responsible for the item (both sides for joint items); notes are anyone's with access; the
# PMO may change anything. The one rule the API, the bulk push and the importer all apply.
PLAN_FIELDS = owned_by(Owner.plan)
PROGRESS_FIELDS = owned_by(Owner.progress)
SHARED_FIELDS = owned_by(Owner.shared)


def is_responsible(kind: OrgKind, responsibility: Responsibility) -> bool:
    """Whether an organisation of this kind does the work of an item of this responsibility."""
    side = _SIDE_OF_KIND.get(kind)
    return side is not None and side in SIDES[responsibility]


def may_change(kind: OrgKind, responsibility: Responsibility, field: str) -> bool:
    if kind is OrgKind.pmo or field in SHARED_FIELDS:
        return True
    if field in PLAN_FIELDS:
        return kind is OrgKind.vendor
    if field in PROGRESS_FIELDS:
        return is_responsible(kind, responsibility)
    return False


def refused_fields(
    kind: OrgKind, responsibility: Responsibility, fields: Iterable[str]
) -> list[str]:
    """The fields among `fields` that `kind` may not change on an item of `responsibility`."""
    return sorted(field for field in set(fields) if not may_change(kind, responsibility, field))
