"""Replans as the API shows them: each project with its name and municipality, and counts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.organisations.schemas import OrganisationRef
from service.projects.models import Project
from service.templates.models import Outcome, Replan
from service.templates.schemas import (
    ReplanCounts,
    ReplanEdits,
    ReplanEditsRead,
    ReplanProjectRead,
    ReplanRead,
    ReplanSummary,
)


def _counts(replan: Replan) -> ReplanCounts:
    outcomes = [part.outcome for part in replan.projects]
    return ReplanCounts(
        projects=len(outcomes),
        changes=sum(len(part.changes) for part in replan.projects),
        conflicts=sum(len(part.conflicts) for part in replan.projects),
        applied=outcomes.count(Outcome.applied),
        failed=outcomes.count(Outcome.failed),
        excluded=outcomes.count(Outcome.excluded),
        up_to_date=outcomes.count(Outcome.up_to_date),
    )


def _edits(stored: dict[str, Any] | None) -> ReplanEditsRead | None:
    if stored is None:
        return None
    edits = ReplanEdits.model_validate(stored)
    return ReplanEditsRead.model_validate(edits.model_dump())


def replan_summary(replan: Replan) -> ReplanSummary:
    return ReplanSummary(
        id=replan.id,
        template_id=replan.template_id,
        version=replan.version.number,
        state=replan.state,
        note=replan.note,
        edits=_edits(replan.edits),
        actor=replan.actor_label,
        created_at=replan.created_at,
        applied_at=replan.applied_at,
        counts=_counts(replan),
    )


def replan_read(session: Session, replan: Replan) -> ReplanRead:
    ids = [part.project_id for part in replan.projects]
    projects = {
        project.id: project
        for project in session.scalars(select(Project).where(Project.id.in_(ids)))
    }
    return ReplanRead.model_validate(
        {
            **replan_summary(replan).model_dump(),
            "projects": [
                ReplanProjectRead.model_validate(
                    {
                        "project_id": part.project_id,
                        "project_name": projects[part.project_id].name,
                        "municipality": OrganisationRef.model_validate(
                            projects[part.project_id].municipality
                        ),
                        "from_version": part.from_version,
                        "outcome": part.outcome,
                        "changes": part.changes,
                        "conflicts": part.conflicts,
                        "reason": part.reason,
                        "applied_at": part.applied_at,
                    }
                )
                for part in replan.projects
            ],
        }
    )
