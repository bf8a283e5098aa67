from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from service.errors import SheetDiagnostic


class SheetSummary(BaseModel):
    name: str
    role: str = Field(description="`wbs`, `side` (cover, legend), `hidden` or `no_header`.")
    header_rows: list[int]
    mapping: dict[str, list[str]]


class IgnoredColumn(BaseModel):
    column: str
    header: str


class FieldChangeRead(BaseModel):
    field: str
    old: JsonValue
    new: JsonValue


class RowChange(BaseModel):
    row: int
    code: str
    changes: list[FieldChangeRead]


class ImportConflict(BaseModel):
    row: int
    code: str
    field: str
    current: JsonValue = Field(description="The value the service keeps.")
    sheet: JsonValue = Field(description="The value in the sheet, not applied.")
    reason: str


class MissingItem(BaseModel):
    code: str
    title: str


class ImportCounts(BaseModel):
    rows: int
    created: int
    updated: int
    unchanged: int
    deleted: int
    missing: int
    conflicts: int
    skipped: int


_COUNTS_EXAMPLE: dict[str, JsonValue] = {
    "rows": 41,
    "created": 0,
    "updated": 1,
    "unchanged": 40,
    "deleted": 0,
    "missing": 0,
    "conflicts": 1,
    "skipped": 2,
}


class ImportResult(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 7,
                    "dry_run": False,
                    "file_name": "WBS_さくら町.xlsx",
                    "sha256": "9f2c…",
                    "sheet": "WBS",
                    "sheets": [
                        {"name": "表紙", "role": "side", "header_rows": [], "mapping": {}},
                        {
                            "name": "WBS",
                            "role": "wbs",
                            "header_rows": [4, 5],
                            "mapping": {"code": ["A"]},
                        },
                    ],
                    "header_rows": [4, 5],
                    "mapping": {"code": ["A"], "title": ["B"], "planned_end": ["F"]},
                    "ignored_columns": [{"column": "L", "header": "工数"}],
                    "counts": _COUNTS_EXAMPLE,
                    "created": [],
                    "updated": [
                        {
                            "row": 12,
                            "code": "2-3",
                            "changes": [{"field": "status", "old": "in_progress", "new": "done"}],
                        }
                    ],
                    "unchanged": ["1", "1-1"],
                    "missing": [],
                    "deleted": [],
                    "conflicts": [
                        {
                            "row": 14,
                            "code": "3-1",
                            "field": "planned_end",
                            "current": "2026-03-31",
                            "sheet": "2026-02-28",
                            "reason": "municipality does not own planned_end of this vendor item",
                        }
                    ],
                    "skipped": [
                        {
                            "sheet": "WBS",
                            "row": 50,
                            "column": None,
                            "value": "合計",
                            "message": "a total row",
                        }
                    ],
                }
            ]
        }
    )

    id: int | None = Field(description="The import record; null for a dry run.")
    dry_run: bool
    file_name: str
    sha256: str
    sheet: str
    sheets: list[SheetSummary]
    header_rows: list[int]
    mapping: dict[str, list[str]] = Field(description="Field → column letters actually used.")
    ignored_columns: list[IgnoredColumn]
    counts: ImportCounts
    created: list[RowChange]
    updated: list[RowChange]
    unchanged: list[str]
    missing: list[MissingItem] = Field(description="In the project but not in the sheet; kept.")
    deleted: list[str] = Field(description="Items removed because `prune` was set.")
    conflicts: list[ImportConflict] = Field(description="Changes refused by field ownership.")
    skipped: list[SheetDiagnostic] = Field(description="Rows that are not items, and why.")


class PreviewRow(BaseModel):
    row: int
    code: str
    parent_code: str | None
    values: dict[str, JsonValue]


class ImportPreview(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "sheet": "WBS",
                    "sheets": [{"name": "WBS", "role": "wbs", "header_rows": [4], "mapping": {}}],
                    "header_rows": [4],
                    "mapping": {"code": ["A"], "title": ["B"]},
                    "ignored_columns": [],
                    "rows": [
                        {"row": 5, "code": "1", "parent_code": None, "values": {"title": "計画"}}
                    ],
                    "errors": [],
                    "skipped": [],
                }
            ]
        }
    )

    sheet: str
    sheets: list[SheetSummary]
    header_rows: list[int]
    mapping: dict[str, list[str]]
    ignored_columns: list[IgnoredColumn]
    rows: list[PreviewRow] = Field(description="The first rows as they would be read.")
    errors: list[SheetDiagnostic]
    skipped: list[SheetDiagnostic]


class ImportRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 7,
                    "project_id": 1,
                    "file_name": "WBS_さくら町.xlsx",
                    "sha256": "9f2c…",
                    "sheet": "WBS",
                    "actor_label": "mirai-sys/upload",
                    "created_at": "2026-10-01T09:00:00Z",
                    "counts": _COUNTS_EXAMPLE,
                }
            ]
        },
    )

    id: int
    project_id: int
    file_name: str
    sha256: str
    sheet: str
    actor_label: str
    created_at: datetime
    counts: ImportCounts


class ImportPage(BaseModel):
    items: list[ImportRead]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )
