"""Recording change events: every create, update and delete, in the writer's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from service.access import Caller
from service.changes import sequencing
from service.changes.models import ChangeKind, ChangeSource
from service.db import utcnow
from service.organisations.models import OrgKind


@dataclass(frozen=True)
class Actor:
    """Who makes a change and through what; identity comes from the token, never the body."""

    organisation_id: int
    organisation_kind: OrgKind
    label: str
    source: ChangeSource
    source_id: str | None = None
    replan_id: int | None = None

    @classmethod
    def of(
        cls,
        caller: Caller,
        source: ChangeSource = ChangeSource.api,
        source_id: str | None = None,
        replan_id: int | None = None,
    ) -> Actor:
        return cls(
            caller.organisation_id,
            caller.organisation_kind,
            caller.label,
            source,
            source_id,
            replan_id,
        )


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {
        field: (before.get(field), after.get(field))
        for field in dict.fromkeys([*before, *after])
        if before.get(field) != after.get(field)
    }


def record_change(
    session: Session,
    actor: Actor,
    *,
    project_id: int,
    item_id: int,
    item_code: str,
    kind: ChangeKind,
    changes: Mapping[str, tuple[Any, Any]],
) -> None:
    """Queue the event; it is written, with its feed position, as the transaction commits."""
    sequencing.remember(
        session,
        sequencing.PendingEvent(
            event={
                "project_id": project_id,
                "item_id": item_id,
                "item_code": item_code,
                "kind": kind,
                "actor_organisation_id": actor.organisation_id,
                "actor_label": actor.label,
                "source": actor.source,
                "source_id": actor.source_id,
                "replan_id": actor.replan_id,
                "occurred_at": utcnow(),
            },
            fields=[(name, old, new) for name, (old, new) in changes.items()],
        ),
    )
