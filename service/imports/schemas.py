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
    column: str = Field(description="Column letter, or a span such as `M:NM` for a Gantt grid.")
    header: str
    reason: str | None = Field(
        default=None,
        description="Why the column is not read.",
        examples=["no field has this header; map it if it holds one"],
    )


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
                    "ignored_columns": [
                        {
                            "column": "L",
                            "header": "工数",
                            "reason": "no field has this header; map it if it holds one",
                        },
                        {
                            "column": "M:NN",
                            "header": "the Gantt chart's calendar, 2025-04-01 – 2026-03-31, "
                            "365 columns",
                            "reason": "the bars of a Gantt chart are drawn, not data: the dates "
                            "come from the task list",
                        },
                    ],
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


class PreviewCell(BaseModel):
    """One cell of a previewed row: what the sheet holds, and what the import made of it."""

    column: str = Field(description="Column letter.")
    header: str | None = Field(description="The column's header as read; null if it has none.")
    value: JsonValue = Field(description="The cell as written (dates as ISO text).")
    field: str | None = Field(description="The field the column is read as; null if ignored.")
    read: JsonValue = Field(description="What the field became from this row.")


class PreviewStep(BaseModel):
    """What the row says of the national procedure's step, as written."""

    number: str | None = Field(description="The step's circled number, e.g. `①`.")
    name: str | None = Field(description="The step's name, from its group cell.")
    code: str | None = Field(description="The row's code as written, e.g. `①-1`.")


class PreviewRow(BaseModel):
    row: int
    code: str
    parent_code: str | None
    values: dict[str, JsonValue]
    cells: list[PreviewCell] | None = Field(
        default=None, description="The row's cells as written and as read, left to right."
    )
    step: PreviewStep | None = Field(
        default=None, description="The national step the row's group and code name, if any."
    )


class HeaderReading(BaseModel):
    """One way of reading the sheet's header, with how well the values under it read."""

    header_rows: list[int]
    mapping: dict[str, list[str]]
    fields_explained: int = Field(description="Fields whose columns' values read as them.")
    values_read: int = Field(description="Values under the header that read as their field.")
    values_seen: int = Field(description="Values under the header that were tried.")


class HeaderDetection(BaseModel):
    """Which header reading was chosen, and the best other one."""

    chosen: HeaderReading
    alternative: HeaderReading | None = Field(
        description="The best reading of another header (one row more or less)."
    )
    summary: str = Field(description="The choice in words.")


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
                        {
                            "row": 5,
                            "code": "1-1",
                            "parent_code": None,
                            "values": {"title": "推進体制の検討", "responsibility": "joint"},
                            "cells": [
                                {
                                    "column": "A",
                                    "header": "大項目",
                                    "value": "① 推進体制の立上げ",
                                    "field": "level1",
                                    "read": None,
                                },
                                {
                                    "column": "B",
                                    "header": "項番",
                                    "value": "①-1",
                                    "field": "code",
                                    "read": "1-1",
                                },
                                {
                                    "column": "C",
                                    "header": "作業項目",
                                    "value": "推進体制の検討",
                                    "field": "title",
                                    "read": "推進体制の検討",
                                },
                                {
                                    "column": "D",
                                    "header": "役割分担 団体",
                                    "value": "◎",
                                    "field": "marks:municipality",
                                    "read": "joint",
                                },
                            ],
                            "step": {"number": "①", "name": "推進体制の立上げ", "code": "①-1"},
                        }
                    ],
                    "errors": [],
                    "skipped": [],
                    "detection": {
                        "chosen": {
                            "header_rows": [4, 5],
                            "mapping": {"code": ["B"], "marks:municipality": ["D"]},
                            "fields_explained": 6,
                            "values_read": 118,
                            "values_seen": 120,
                        },
                        "alternative": {
                            "header_rows": [4],
                            "mapping": {"code": ["B"], "responsibility": ["D"]},
                            "fields_explained": 4,
                            "values_read": 61,
                            "values_seen": 120,
                        },
                        "summary": "rows 4–5 read as the header: 6 fields whose values read "
                        "(118 of 120 values); row 4 alone would read 4 (61 of 120)",
                    },
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
    detection: HeaderDetection | None = Field(
        default=None,
        description="How the header was chosen; null when the request gave the mapping.",
    )


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
