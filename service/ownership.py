"""Who owns which field of a WBS item: the one rule the API and the importer both apply.

The vendor owns the plan. Progress belongs to the side responsible for the item (both sides
for joint items). Notes are anyone's with access. The PMO may change anything.
"""

from __future__ import annotations

from collections.abc import Iterable

from service.items.models import Responsibility
from service.organisations.models import OrgKind

PLAN_FIELDS = frozenset(
    {
        "code",
        "parent_code",
        "title",
        "description",
        "responsibility",
        "planned_start",
        "planned_end",
        "planned_start_text",
        "planned_end_text",
        "predecessors",
        "deliverable",
    }
)
# The assignee (担当課) names who does the work, so it follows the work's owner.
PROGRESS_FIELDS = frozenset(
    {
        "status",
        "progress",
        "actual_start",
        "actual_end",
        "actual_start_text",
        "actual_end_text",
        "assignee",
    }
)
SHARED_FIELDS = frozenset({"notes"})

_RESPONSIBLE_KINDS = {
    Responsibility.vendor: frozenset({OrgKind.vendor}),
    Responsibility.municipality: frozenset({OrgKind.municipality}),
    Responsibility.joint: frozenset({OrgKind.vendor, OrgKind.municipality}),
}


def may_change(kind: OrgKind, responsibility: Responsibility, field: str) -> bool:
    if kind is OrgKind.pmo or field in SHARED_FIELDS:
        return True
    if field in PLAN_FIELDS:
        return kind is OrgKind.vendor
    if field in PROGRESS_FIELDS:
        return kind in _RESPONSIBLE_KINDS[responsibility]
    return False


def refused_fields(
    kind: OrgKind, responsibility: Responsibility, fields: Iterable[str]
) -> list[str]:
    """The fields among `fields` that `kind` may not change on an item of `responsibility`."""
    return sorted(field for field in set(fields) if not may_change(kind, responsibility, field))


def involves(kind: OrgKind, responsibility: Responsibility) -> bool:
    """Whether an organisation of this kind is a responsible party of such an item (both
    sides are, of a joint one; the PMO of none)."""
    return kind in _RESPONSIBLE_KINDS[responsibility]
