"""The national progress layout (業務別ステップ別進捗一覧): each step's state per municipality and
business, across the projects a caller may see.

How many items roll into one step's state (docs/reports.md): every item of the step done or not
applicable → complete (every one not applicable → not applicable); any started → in progress;
otherwise, and for a step no item carries, not started. An item has started when its status is
past not started (in progress, delayed, on hold, done), or it reports progress or an actual
start: not applicable alone starts nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from importers.values import named_in
from service.items.models import CLOSED_STATUSES, Item, Status
from service.national import BUSINESS_WORDS, STEP_BY_CODE, STEPS, Business, Step, extra_step
from service.organisations.models import Organisation
from service.organisations.prefectures import prefecture_of
from service.organisations.schemas import OrganisationRef
from service.reports.schemas import (
    NationalProgressReport,
    NationalProgressRow,
    NationalStepColumn,
    StepState,
    StepStateCounts,
)
from service.reports.service import ReportScope

_BUSINESS_ORDER = {business: index for index, business in enumerate(Business)}


@dataclass(frozen=True)
class ItemState:
    """What an item says of its step's state."""

    status: Status
    progress: int
    actual_start: date | None

    @property
    def started(self) -> bool:
        if self.status is Status.not_applicable:
            return False
        return self.status is not Status.not_started or self.progress > 0 or bool(self.actual_start)


def step_state(items: Iterable[ItemState]) -> StepState:
    """The state of one step from the items that carry it (the module's rule)."""
    states = list(items)
    statuses = {state.status for state in states}
    if not states:
        return StepState.not_started
    if statuses == {Status.not_applicable}:
        return StepState.not_applicable
    if statuses <= set(CLOSED_STATUSES):
        return StepState.complete
    if any(state.started for state in states):
        return StepState.in_progress
    return StepState.not_started


def completion_rate(counts: StepStateCounts, steps: int = len(STEPS)) -> float:
    """(complete + not applicable) / every step, as the national PMO counts it: a percentage."""
    return round(100 * (counts.complete + counts.not_applicable) / steps, 1)


def step_columns(carried: Iterable[str]) -> list[Step]:
    """The procedure's 40 steps, and any other sub-step the items carry, in procedure order."""
    extra = (extra_step(code) for code in set(carried) - STEP_BY_CODE.keys())
    return sorted([*STEPS, *extra], key=lambda step: tuple(map(int, step.code.split("-"))))


def project_business(name: str) -> Business | None:
    """The business a project's name names (住民記録システム標準化移行): its items' business
    when they carry none of their own."""
    found = named_in(name, BUSINESS_WORDS)
    return Business(found) if found else None


def national_progress(session: Session, scope: ReportScope) -> NationalProgressReport:
    projects = session.scalars(scope.projects()).unique().all()
    towns = {project.id: project.municipality for project in projects}
    default = {project.id: project_business(project.name) for project in projects}
    # A row for every municipality × business its projects name, started or not.
    cells: dict[tuple[int, Business], dict[str, list[ItemState]]] = {
        (towns[project_id].id, business): defaultdict(list)
        for project_id, business in default.items()
        if business is not None
    }
    rows = session.execute(
        select(
            Item.project_id,
            Item.step,
            Item.business,
            Item.status,
            Item.progress,
            Item.actual_start,
        ).where(scope.items(), or_(Item.step.is_not(None), Item.business.is_not(None)))
    )
    for project_id, step, business, status, progress, actual_start in rows:
        town = towns.get(project_id)
        business = business or default.get(project_id)
        if town is None or business is None:
            continue
        steps = cells.setdefault((town.id, business), defaultdict(list))
        if step is not None:
            steps[step].append(ItemState(status, progress, actual_start))
    by_id = {town.id: town for town in towns.values()}
    steps_shown = step_columns(code for steps in cells.values() for code in steps)
    report_rows = [
        _row(by_id[town_id], business, steps, steps_shown)
        for (town_id, business), steps in cells.items()
    ]
    report_rows.sort(
        key=lambda row: (
            row.local_government_code is None,
            row.local_government_code or "",
            row.municipality.name,
            _BUSINESS_ORDER[row.business],
        )
    )
    columns = [
        NationalStepColumn(
            number=step.number or None,
            code=step.code,
            circled=step.circled,
            major_name=step.major_name,
            name=step.name,
        )
        for step in steps_shown
    ]
    return NationalProgressReport(steps=columns, rows=report_rows)


def _row(
    town: Organisation,
    business: Business,
    steps: dict[str, list[ItemState]],
    columns: Sequence[Step],
) -> NationalProgressRow:
    states = {step.code: step_state(steps.get(step.code, ())) for step in columns}
    counts = StepStateCounts(
        **{state.value: sum(1 for s in states.values() if s is state) for state in StepState}
    )
    return NationalProgressRow(
        prefecture=prefecture_of(town.local_government_code),
        municipality=OrganisationRef(id=town.id, code=town.code, name=town.name),
        local_government_code=town.local_government_code,
        business=business,
        steps=states,
        counts=counts,
        completion_rate=completion_rate(counts, len(columns)),
    )
