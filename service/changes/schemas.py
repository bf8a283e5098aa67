from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from service.changes.models import ChangeKind, ChangeSource


class Actor(BaseModel):
    organisation_id: int | None
    label: str = Field(description="Organisation code and token name, e.g. `sakura-town/script`.")


class FieldChangeRead(BaseModel):
    field: str
    old: JsonValue
    new: JsonValue


class ChangeRead(BaseModel):
    position: int = Field(description="Place in the feed: events come in commit order.")
    project_id: int
    item_id: int
    item_code: str
    kind: ChangeKind
    actor: Actor
    source: ChangeSource = Field(description="`api`, `import` or `demo`.")
    source_id: str | None = Field(description="For an import, its id.")
    replan_id: int | None = Field(
        None,
        description="For a change a template's replan made, the replan's id "
        "(`GET /api/v1/templates/{template_id}/replans/{replan_id}`).",
    )
    occurred_at: datetime
    changes: list[FieldChangeRead]


_STATUS_CHANGE: dict[str, JsonValue] = {
    "position": 1042,
    "project_id": 1,
    "item_id": 17,
    "item_code": "3-6",
    "kind": "updated",
    "actor": {"organisation_id": 2, "label": "sakura-town/script"},
    "source": "api",
    "source_id": None,
    "replan_id": None,
    "occurred_at": "2026-11-26T01:02:03Z",
    "changes": [{"field": "status", "old": "in_progress", "new": "done"}],
}
_CREATION: dict[str, JsonValue] = {
    "position": 311,
    "project_id": 1,
    "item_id": 17,
    "item_code": "3-6",
    "kind": "created",
    "actor": {"organisation_id": 4, "label": "mirai-sys/wbs-push"},
    "source": "import",
    "source_id": "12",
    "replan_id": None,
    "occurred_at": "2026-10-01T09:00:00Z",
    "changes": [
        {"field": "title", "old": None, "new": "移行データ検証"},
        {"field": "status", "old": None, "new": "not_started"},
    ],
}


class ChangePage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [_STATUS_CHANGE],
                    "next_cursor": "1042",
                    "has_more": False,
                }
            ]
        }
    )

    items: list[ChangeRead]
    next_cursor: str = Field(
        description="Keep it and pass it as `since` next time: you will see every later event "
        "exactly once. Returned even when there was nothing new."
    )
    has_more: bool = Field(description="More events are ready now; ask again at once.")


class HistoryPage(BaseModel):
    """One page of an item's history."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"items": [_STATUS_CHANGE], "next_cursor": "1042"},
                {"items": [_STATUS_CHANGE, _CREATION], "next_cursor": None},
            ]
        }
    )

    items: list[ChangeRead]
    next_cursor: str | None = Field(
        description="Pass it as `cursor` for the next page, in the same `order`; null on the "
        "last page."
    )
