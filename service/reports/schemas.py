from __future__ import annotations

import enum
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from service.items.models import Responsibility, Status
from service.national import Business
from service.organisations.schemas import OrganisationRef


class ProjectRef(BaseModel):
    id: int
    name: str
    consortium: str | None


class BlockedItem(BaseModel):
    code: str
    title: str
    responsibility: Responsibility
    other_side: bool = Field(
        description="Owned by a side the late item's side waits on, or that waits on it: "
        "where vendor and municipality wait on each other."
    )


class OverdueRow(BaseModel):
    project: ProjectRef
    municipality: OrganisationRef
    vendor: OrganisationRef
    code: str
    title: str
    responsibility: Responsibility
    assignee: str | None
    planned_end: date
    days_overdue: int = Field(description="Days past the planned end; 0 or less: due soon.")
    state: str = Field(description="`overdue`, or `due_soon` (with `due_within`).")
    status: Status
    progress: int
    blocks: list[BlockedItem] = Field(description="Successors not yet started.")


class OverdueReport(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "as_of": "2026-11-26",
                    "total": 1,
                    "truncated": False,
                    "next_cursor": None,
                    "rows": [
                        {
                            "project": {
                                "id": 1,
                                "name": "住民記録システム標準化移行",
                                "consortium": None,
                            },
                            "municipality": {"id": 2, "code": "sakura-town", "name": "さくら町"},
                            "vendor": {"id": 4, "code": "mirai-sys", "name": "みらい情報システム"},
                            "code": "3-2",
                            "title": "現行ベンダへのデータ抽出依頼",
                            "responsibility": "municipality",
                            "assignee": "情報政策課",
                            "planned_end": "2026-11-11",
                            "days_overdue": 15,
                            "state": "overdue",
                            "status": "in_progress",
                            "progress": 60,
                            "blocks": [
                                {
                                    "code": "3-3",
                                    "title": "現行データ抽出",
                                    "responsibility": "vendor",
                                    "other_side": True,
                                }
                            ],
                        }
                    ],
                }
            ]
        }
    )

    as_of: date
    total: int = Field(description="Rows of the whole report, over all its pages.")
    truncated: bool = Field(
        deprecated=True,
        description="Kept for clients written before the report had pages: true exactly when "
        "`next_cursor` is not null (more rows follow). Follow `next_cursor` instead.",
    )
    next_cursor: str | None = Field(
        description='Pass it as `cursor` for the next page (also sent as a `Link: rel="next"` '
        "header); null on the last page.",
    )
    rows: list[OverdueRow]


class SideCounts(BaseModel):
    vendor: int
    municipality: int
    joint: int


class StatusCounts(BaseModel):
    not_started: int = 0
    in_progress: int = 0
    delayed: int = 0
    on_hold: int = 0
    done: int = 0
    not_applicable: int = 0


class Progress(BaseModel):
    items: int = Field(description="Work items counted: leaves (items without children).")
    complete: int = Field(description="Leaves done or not applicable.")
    percent_complete: float = Field(
        description="Mean progress of the leaves, each weighing the same; done and N/A count 100."
    )
    overdue: SideCounts
    by_status: dict[Responsibility, StatusCounts] = Field(
        description="Leaves by responsibility × status."
    )


class Milestone(BaseModel):
    project_id: int
    code: str
    title: str
    responsibility: Responsibility
    planned_end: date
    status: Status


class ProjectProgress(Progress):
    project: ProjectRef
    municipality: OrganisationRef
    vendor: OrganisationRef


class RollUp(Progress):
    key: str = Field(description="Organisation code, or consortium label.")
    name: str
    projects: int


class ProgressReport(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "as_of": "2026-11-26",
                    "overall": {
                        "items": 35,
                        "complete": 20,
                        "percent_complete": 61.4,
                        "overdue": {"vendor": 1, "municipality": 2, "joint": 0},
                        "by_status": {"vendor": {"done": 12, "in_progress": 2}},
                    },
                    "projects": [],
                    "next_cursor": None,
                    "municipalities": [],
                    "vendors": [],
                    "consortia": [],
                    "next_milestones": [],
                }
            ]
        }
    )

    as_of: date
    overall: Progress
    projects: list[ProjectProgress] = Field(
        description="One page of the projects, in id order; the totals and roll-ups are of "
        "every project of the report, on every page."
    )
    next_cursor: str | None = Field(
        description="Pass it as `cursor` for the next page of projects (also sent as a "
        '`Link: rel="next"` header); null on the last page.'
    )
    municipalities: list[RollUp]
    vendors: list[RollUp]
    consortia: list[RollUp]
    next_milestones: list[Milestone] = Field(
        description="The next open one-day items (start = end: meetings, decisions, cut-overs)."
    )


class StepState(enum.StrEnum):
    """A step's state in the national layout (完了済み / 作業中 / 未着手 / 対象外)."""

    complete = "complete"
    in_progress = "in_progress"
    not_started = "not_started"
    not_applicable = "not_applicable"


class NationalStepColumn(BaseModel):
    number: int | None = Field(
        description="1–40, as the national survey numbers the steps; null for a sub-step an "
        "item carries beyond the survey's 40."
    )
    code: str = Field(description="As items carry it, e.g. `3-2`.")
    circled: str = Field(description="As the procedure writes it, e.g. `③-2`.")
    major_name: str
    name: str


class StepStateCounts(BaseModel):
    complete: int
    in_progress: int
    not_started: int
    not_applicable: int


class NationalProgressRow(BaseModel):
    prefecture: str | None = Field(
        description="From the first two digits of the municipality's local government code; "
        "null when it has none."
    )
    municipality: OrganisationRef
    local_government_code: str | None
    business: Business
    steps: dict[str, StepState] = Field(
        description="Each of the 40 steps, by its code, in the procedure's order."
    )
    counts: StepStateCounts
    completion_rate: float = Field(
        description="(complete + not applicable) / 40, as a percentage with one decimal."
    )


class NationalProgressReport(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "steps": [
                        {
                            "number": 1,
                            "code": "1-1",
                            "circled": "①-1",
                            "major_name": "推進体制の立上げ",
                            "name": "推進体制の検討",
                        }
                    ],
                    "rows": [
                        {
                            "prefecture": "茨城県",
                            "municipality": {"id": 2, "code": "goka-town", "name": "五霞町"},
                            "local_government_code": "085464",
                            "business": "住民記録",
                            "steps": {"1-1": "complete", "1-2": "in_progress"},
                            "counts": {
                                "complete": 1,
                                "in_progress": 1,
                                "not_started": 38,
                                "not_applicable": 0,
                            },
                            "completion_rate": 2.5,
                        }
                    ],
                }
            ]
        }
    )

    steps: list[NationalStepColumn] = Field(description="The columns: the 40 steps in order.")
    rows: list[NationalProgressRow] = Field(
        description="One per municipality × business, by local government code, then business."
    )
