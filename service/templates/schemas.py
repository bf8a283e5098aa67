from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StringConstraints, model_validator

from service.fields import MAX_ID, ONE_LINE, PRINTABLE, WHOLE, Day
from service.items.models import Responsibility
from service.items.schemas import Code, LongText, Predecessors, Title
from service.national import Business, NationalStep
from service.organisations.schemas import OrganisationRef
from service.projects.schemas import Consortium, OrganisationId, ProjectName, ProjectRead
from service.templates.models import Outcome, ReplanState, VersionState

# Printable, and not blank: the pattern says so rather than a strip that would turn a name of
# spaces the schema accepts into an empty one it refuses.
_NOT_PRINTABLE = PRINTABLE.removeprefix("^[^").removesuffix("]*$")
TemplateName = Annotated[
    str,
    StringConstraints(
        min_length=1,
        max_length=200,
        pattern=rf"^[^{_NOT_PRINTABLE}]*[^\s{_NOT_PRINTABLE}][^{_NOT_PRINTABLE}]*$",
    ),
]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500, pattern=PRINTABLE)]
# A plan spans years, not centuries: a hundred years either way of the anchor.
Offset = Annotated[
    int,
    Field(ge=-36_500, le=36_500, strict=True, description="Calendar days after the anchor day."),
    WHOLE,
]
VersionNumber = Annotated[int, Field(ge=1, le=MAX_ID, strict=True), WHOLE]
ProjectId = Annotated[int, Field(ge=1, le=MAX_ID, strict=True), WHOLE]
MAX_ITEMS = 5000

_TEMPLATE_ITEMS: list[JsonValue] = [
    {"code": "1", "title": "推進体制の立上げ", "responsibility": "joint", "end_offset": 30},
    {
        "code": "1-1",
        "title": "体制図の作成",
        "responsibility": "municipality",
        "start_offset": 0,
        "end_offset": 14,
        "deliverable": "体制図",
    },
    {
        "code": "1-2",
        "title": "移行計画書の作成",
        "responsibility": "vendor",
        "start_offset": 15,
        "end_offset": 30,
        "predecessors": ["1-1"],
    },
    {"code": "2", "title": "本番移行", "responsibility": "joint", "end_on": "2026-03-31"},
]


def _not_both(first: str, second: str) -> dict[str, Any]:
    return {"not": {"required": [first, second]}}


def _one_of(first: str, second: str) -> dict[str, Any]:
    return {"oneOf": [{"required": [first]}, {"required": [second]}]}


def _given(data: Any, first: str, second: str, *, one_needed: bool) -> Any:
    """A body naming both of two fields (even as null) is refused, as its schema says."""
    if isinstance(data, dict):
        given = [name for name in (first, second) if name in data]
        if len(given) == 2:
            raise ValueError(f"give {first} or {second}, not both")
        if one_needed and not given:
            raise ValueError(f"give {first} or {second}")
    return data


class TemplateItemData(BaseModel):
    """An item of a template: the plan's fields, and its days relative to the anchor day.

    Each day is either an offset in calendar days from the anchor day a project is made with
    (`start_offset`, `end_offset`), or a fixed day where the plan has one (`start_on`,
    `end_on`), never both.
    """

    model_config = ConfigDict(
        extra="forbid",
        from_attributes=True,
        json_schema_extra={
            "examples": [_TEMPLATE_ITEMS[2]],
            "allOf": [_not_both("start_offset", "start_on"), _not_both("end_offset", "end_on")],
        },
    )

    code: Code
    parent_code: Code | None = Field(
        None, description="Defaults to the parent the code implies (`1-2-3` → `1-2`)."
    )
    title: Title
    description: LongText | None = None
    responsibility: Responsibility
    deliverable: LongText | None = None
    step: NationalStep | None = None
    business: Business | None = None
    predecessors: Predecessors = Field(default_factory=list)
    start_offset: Offset | None = None
    end_offset: Offset | None = None
    start_on: Day | None = Field(None, description="A fixed planned start, whatever the anchor.")
    end_on: Day | None = Field(None, description="A fixed planned end, whatever the anchor.")

    @model_validator(mode="before")
    @classmethod
    def _one_kind_of_day(cls, data: Any) -> Any:
        _given(data, "start_offset", "start_on", one_needed=False)
        return _given(data, "end_offset", "end_on", one_needed=False)


class TemplateItemRead(BaseModel):
    """A template item as the API shows it: each day an offset or a fixed day (or neither)."""

    code: str
    parent_code: str | None
    title: str
    description: str | None
    responsibility: Responsibility
    deliverable: str | None
    step: str | None = Field(description="The national step, `major-sub` (③-2 is `3-2`).")
    business: Business | None
    predecessors: list[str]
    start_offset: int | None = Field(description="Calendar days after the anchor day.")
    end_offset: int | None = Field(description="Calendar days after the anchor day.")
    start_on: Day | None
    end_on: Day | None


Items = Annotated[list[TemplateItemData], Field(max_length=MAX_ITEMS)]


class FromProject(BaseModel):
    """Take the items of a project the caller plans: its days become offsets from `anchor`."""

    model_config = ConfigDict(extra="forbid")

    project_id: ProjectId
    anchor: Day | None = Field(
        None, description="The day offsets count from; defaults to the project's earliest day."
    )


class TemplateCreate(BaseModel):
    """A new template, with its first version as a draft: `items`, or `from_project`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "標準化移行 標準WBS",
                    "description": "住民記録システムの標準準拠システムへの移行",
                    "items": _TEMPLATE_ITEMS,
                }
            ],
            **_one_of("items", "from_project"),
        },
    )

    name: TemplateName
    description: LongText | None = None
    note: Note | None = Field(None, description="What the first version is.")
    items: Items = Field(default=None)  # type: ignore[arg-type]
    from_project: FromProject = Field(default=None)  # type: ignore[assignment]

    @model_validator(mode="before")
    @classmethod
    def _one_source(cls, data: Any) -> Any:
        return _given(data, "items", "from_project", one_needed=True)


class VersionCreate(BaseModel):
    """A new draft version: `items`, `from_project`, or neither for a copy of the latest."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"note": "第2版: 移行日の見直し"}],
            **_not_both("items", "from_project"),
        },
    )

    note: Note | None = None
    items: Items = Field(default=None)  # type: ignore[arg-type]
    from_project: FromProject = Field(default=None)  # type: ignore[assignment]

    @model_validator(mode="before")
    @classmethod
    def _one_source(cls, data: Any) -> Any:
        return _given(data, "items", "from_project", one_needed=False)


class VersionUpdate(BaseModel):
    """A draft's items, replaced whole."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"note": "第2版", "items": _TEMPLATE_ITEMS}]},
    )

    note: Note | None = None
    items: Items


class VersionSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    state: VersionState = Field(
        description="`draft` while it is written; `published` never changes."
    )
    note: str | None
    created_at: datetime
    published_at: datetime | None


class VersionRead(VersionSummary):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "number": 1,
                    "state": "published",
                    "note": "初版",
                    "created_at": "2026-04-01T00:00:00Z",
                    "published_at": "2026-04-02T00:00:00Z",
                    "items": _TEMPLATE_ITEMS,
                }
            ]
        }
    )

    items: list[TemplateItemRead]


class VersionPage(BaseModel):
    items: list[VersionSummary]


class TemplateRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 3,
                    "name": "標準化移行 標準WBS",
                    "description": None,
                    "owner": {"id": 4, "code": "mirai-sys", "name": "みらい情報システム株式会社"},
                    "versions": [
                        {
                            "number": 1,
                            "state": "published",
                            "note": "初版",
                            "created_at": "2026-04-01T00:00:00Z",
                            "published_at": "2026-04-02T00:00:00Z",
                        }
                    ],
                    "created_at": "2026-04-01T00:00:00Z",
                    "updated_at": "2026-04-02T00:00:00Z",
                }
            ]
        },
    )

    id: int
    name: str
    description: str | None
    owner: OrganisationRef
    versions: list[VersionSummary]
    created_at: datetime
    updated_at: datetime


class TemplatePage(BaseModel):
    items: list[TemplateRead]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class NewFollower(BaseModel):
    model_config = ConfigDict(extra="forbid")

    municipality_id: OrganisationId
    vendor_id: OrganisationId | None = Field(
        None,
        description="Defaults to the template's vendor; required for a template of the PMO's.",
    )
    name: ProjectName
    consortium: Consortium = None
    anchor: Day = Field(description="The day the template's offsets count from.")


class ProjectsFromTemplate(BaseModel):
    """Projects made from a published version, each with its own anchor day; all or none."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "version": 1,
                    "projects": [
                        {
                            "municipality_id": 2,
                            "name": "住民記録システム標準化移行 2026",
                            "consortium": "みどり地域自治体クラウド",
                            "anchor": "2026-04-01",
                        }
                    ],
                }
            ]
        },
    )

    version: VersionNumber
    projects: list[NewFollower] = Field(min_length=1, max_length=500)


class FollowerRead(BaseModel):
    project: ProjectRead
    template_id: int
    version: int = Field(description="The template version the project follows.")
    anchor: Day


class FollowerPage(BaseModel):
    items: list[FollowerRead]


class Shift(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prefix: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=ONE_LINE)] = (
        Field(description="Items whose code begins with this text (`⑬` moves ⑬-1, ⑬-2 …).")
    )
    days: Annotated[int, Field(ge=-3650, le=3650, strict=True), WHOLE] = Field(
        description="Calendar days later (negative: earlier), offsets and fixed days alike."
    )


class PredecessorChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Code
    predecessors: Predecessors


class ReplanEdits(BaseModel):
    """A new version written as edits of the latest published one."""

    model_config = ConfigDict(extra="forbid")

    shift: list[Shift] = Field(default_factory=list, max_length=100)
    add: Items = Field(default_factory=list)
    retire: list[Code] = Field(default_factory=list, max_length=MAX_ITEMS)
    predecessors: list[PredecessorChange] = Field(default_factory=list, max_length=MAX_ITEMS)


class ReplanCreate(BaseModel):
    """A replan to preview: to a version (`to_version`), or as `edits` making a new one."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "note": "ベンダー作業の遅れにより手順⑬以降を6週間後ろ倒し",
                    "edits": {"shift": [{"prefix": "2", "days": 42}]},
                    "exclude": [],
                }
            ],
            **_one_of("to_version", "edits"),
        },
    )

    note: Note | None = None
    to_version: VersionNumber = Field(default=None)  # type: ignore[assignment]
    edits: ReplanEdits = Field(default=None)  # type: ignore[assignment]
    exclude: list[ProjectId] = Field(
        default_factory=list, max_length=10_000, description="Projects the replan leaves alone."
    )

    @model_validator(mode="before")
    @classmethod
    def _one_target(cls, data: Any) -> Any:
        return _given(data, "to_version", "edits", one_needed=True)


class ReplanEditsRead(BaseModel):
    shift: list[Shift]
    add: list[TemplateItemRead]
    retire: list[str]
    predecessors: list[PredecessorChange]


class FieldChange(BaseModel):
    field: str
    old: JsonValue
    new: JsonValue


class ItemChange(BaseModel):
    code: str
    action: Literal["create", "update", "delete"]
    fields: list[FieldChange]


class MergeConflict(BaseModel):
    """A value the project changed locally where the template changed too: left as it is."""

    code: str
    field: str | None = Field(description="null: the item as a whole (added or retired).")
    template_old: JsonValue = Field(description="The value of the version the project follows.")
    template_new: JsonValue = Field(description="The value of the replan's version.")
    local: JsonValue = Field(description="The project's value now.")
    reason: str


class ReplanProjectRead(BaseModel):
    project_id: int
    project_name: str
    municipality: OrganisationRef
    from_version: int
    outcome: Outcome = Field(
        description="`pending` until applied; `applied`, `failed` (nothing written: see "
        "`reason`), `excluded`, or `up_to_date`."
    )
    changes: list[ItemChange]
    conflicts: list[MergeConflict]
    reason: str | None
    applied_at: datetime | None


class ReplanCounts(BaseModel):
    projects: int
    changes: int = Field(description="Item changes, across projects.")
    conflicts: int
    applied: int
    failed: int
    excluded: int
    up_to_date: int


class ReplanSummary(BaseModel):
    id: int
    template_id: int
    version: int = Field(description="The version the replan moves its projects to.")
    state: ReplanState
    note: str | None
    edits: ReplanEditsRead | None
    actor: str
    created_at: datetime
    applied_at: datetime | None
    counts: ReplanCounts


class ReplanRead(ReplanSummary):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 7,
                    "template_id": 3,
                    "version": 2,
                    "state": "previewed",
                    "note": "手順⑬以降を6週間後ろ倒し",
                    "edits": {"shift": [{"prefix": "⑬", "days": 42}]},
                    "actor": "mirai-sys/planner",
                    "created_at": "2026-06-01T00:00:00Z",
                    "applied_at": None,
                    "counts": {
                        "projects": 1,
                        "changes": 1,
                        "conflicts": 1,
                        "applied": 0,
                        "failed": 0,
                        "excluded": 0,
                        "up_to_date": 0,
                    },
                    "projects": [
                        {
                            "project_id": 12,
                            "project_name": "住民記録システム標準化移行",
                            "municipality": {"id": 2, "code": "sakura-town", "name": "さくら町"},
                            "from_version": 1,
                            "outcome": "pending",
                            "changes": [
                                {
                                    "code": "⑬-1",
                                    "action": "update",
                                    "fields": [
                                        {
                                            "field": "planned_end",
                                            "old": "2026-09-30",
                                            "new": "2026-11-11",
                                        }
                                    ],
                                }
                            ],
                            "conflicts": [
                                {
                                    "code": "⑬-2",
                                    "field": "planned_end",
                                    "template_old": "2026-10-15",
                                    "template_new": "2026-11-26",
                                    "local": "2026-10-31",
                                    "reason": "changed in the project since version 1",
                                }
                            ],
                            "reason": None,
                            "applied_at": None,
                        }
                    ],
                }
            ]
        }
    )

    projects: list[ReplanProjectRead]


class ReplanPage(BaseModel):
    items: list[ReplanSummary]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )
