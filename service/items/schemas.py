from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StringConstraints

from service.fields import PRINTABLE, WHOLE, Day
from service.items.codes import CODE_PATTERN
from service.items.models import Responsibility, Status
from service.national import STEP_PATTERN, Business, NationalStep

Code = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=CODE_PATTERN),
    Field(
        description="項番: unique within the project, e.g. `1`, `1-2`, `1.2.3`.", examples=["1-2"]
    ),
]
Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500, pattern=PRINTABLE)
]
ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=200, pattern=PRINTABLE)
]
LongText = Annotated[str, StringConstraints(max_length=10_000, pattern=PRINTABLE)]
Progress = Annotated[int, Field(ge=0, le=100, strict=True, description="進捗率, percent."), WHOLE]
Predecessors = Annotated[
    list[Code],
    Field(max_length=200, description="Codes of items in the same project that come first."),
]

StepRead = Annotated[
    str,
    Field(
        pattern=STEP_PATTERN,
        description="The national procedure's step, `major-sub` (③-2 is `3-2`).",
        examples=["3-2"],
    ),
]
BusinessField = Annotated[
    Business, Field(description="業務: the standardised business the item's work is for.")
]

_ITEM_EXAMPLE: dict[str, JsonValue] = {
    "code": "2-3",
    "title": "移行データ確認",
    "description": "移行リハーサル後のデータを住民記録担当課が確認する",
    "responsibility": "municipality",
    "assignee": "住民課",
    "planned_start": "2026-10-01",
    "planned_end": "2026-10-31",
    "status": "in_progress",
    "progress": 40,
    "deliverable": "データ確認結果報告書",
    "predecessors": ["2-2"],
    "step": "12-3",
    "business": "住民記録",
}


class ItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_ITEM_EXAMPLE]})

    code: Code
    parent_code: Code | None = Field(
        None, description="Defaults to the parent the code implies (`1-2-3` → `1-2`)."
    )
    title: Title
    description: LongText | None = None
    responsibility: Responsibility
    assignee: ShortText | None = Field(None, description="担当: department or person in charge.")
    planned_start: Day | None = None
    planned_end: Day | None = None
    actual_start: Day | None = None
    actual_end: Day | None = None
    status: Status = Status.not_started
    progress: Progress = 0
    deliverable: LongText | None = None
    notes: LongText | None = None
    predecessors: Predecessors = Field(default_factory=list)
    step: NationalStep | None = None
    business: BusinessField | None = None


class ItemUpdate(BaseModel):
    """Only the fields sent change; `null` clears an optional field."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"status": "done", "progress": 100}]}
    )

    # Fields every item must have: they may be left out, but never set to null.
    code: Code = Field(default=None)  # type: ignore[assignment]
    parent_code: Code | None = None
    title: Title = Field(default=None)  # type: ignore[assignment]
    description: LongText | None = None
    responsibility: Responsibility = Field(default=None)  # type: ignore[assignment]
    assignee: ShortText | None = None
    planned_start: Day | None = None
    planned_end: Day | None = None
    actual_start: Day | None = None
    actual_end: Day | None = None
    status: Status = Field(default=None)  # type: ignore[assignment]
    progress: Progress = Field(default=None)  # type: ignore[assignment]
    deliverable: LongText | None = None
    notes: LongText | None = None
    predecessors: Predecessors = Field(default=None)  # type: ignore[arg-type]
    step: NationalStep | None = None
    business: BusinessField | None = None


class ItemRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_ITEM_EXAMPLE,
                    "id": 17,
                    "project_id": 1,
                    "parent_code": "2",
                    "actual_start": "2026-10-02",
                    "actual_end": None,
                    "planned_start_text": None,
                    "planned_end_text": "10月下旬",
                    "actual_start_text": None,
                    "actual_end_text": None,
                    "notes": None,
                    "version": 3,
                    "overdue": False,
                    "created_at": "2026-09-01T09:00:00Z",
                    "updated_at": "2026-10-02T09:00:00Z",
                }
            ]
        }
    )

    id: int = Field(description="Stable id: survives renumbering of codes.")
    project_id: int
    code: str
    parent_code: str | None
    title: str
    description: str | None
    responsibility: Responsibility
    assignee: str | None
    planned_start: Day | None
    planned_end: Day | None
    actual_start: Day | None
    actual_end: Day | None
    planned_start_text: str | None = Field(description="The sheet's text when not an exact day.")
    planned_end_text: str | None = Field(description="The sheet's text when not an exact day.")
    actual_start_text: str | None = Field(description="The sheet's text when not an exact day.")
    actual_end_text: str | None = Field(description="The sheet's text when not an exact day.")
    status: Status
    progress: int
    deliverable: str | None
    notes: str | None
    predecessors: list[str]
    step: StepRead | None
    business: BusinessField | None
    version: int = Field(description="Changes on every change; send it back in If-Match.")
    overdue: bool = Field(description="Planned end before the as-of day and not done or N/A.")
    created_at: datetime
    updated_at: datetime


class ItemPage(BaseModel):
    items: list[ItemRead]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class BulkItem(ItemUpdate):
    """A create (when the code is new) or a partial update of the item with this code."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"code": "3-2", "version": 4, "planned_end": "2027-01-31"}]
        },
    )

    code: Code
    version: Annotated[int, Field(ge=1, strict=True), WHOLE] | None = Field(
        None, description="The version this change was based on; a stale one fails the push."
    )


class BulkPush(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {"code": "3", "title": "データ移行", "responsibility": "joint"},
                        {"code": "3-2", "version": 4, "planned_end": "2027-01-31"},
                    ]
                }
            ]
        },
    )

    items: list[BulkItem] = Field(min_length=1, max_length=1000)


class BulkItemResult(BaseModel):
    code: str
    id: int
    result: str = Field(description="`created`, `updated` or `unchanged`.")
    version: int


class BulkResult(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {"code": "3", "id": 40, "result": "created", "version": 1},
                        {"code": "3-2", "id": 12, "result": "updated", "version": 5},
                    ]
                }
            ]
        }
    )

    items: list[BulkItemResult]
