"""A template's items read from a workbook, through the importer's reading of a sheet (every
layout it knows), with the sheet's days turned into offsets from an anchor day."""

from __future__ import annotations

from datetime import date
from typing import IO, Any

from pydantic import ValidationError

from importers.results import Diagnostic, ImportRow
from importers.sources import Limits
from service.errors import Conflict
from service.imports.options import ImportOptions
from service.imports.reading import read_sheet
from service.imports.service import sheet_refused
from service.templates.merge import MERGED
from service.templates.schemas import TemplateItemData
from service.templates.service import check_items

# What a template takes of a row: the plan, without its days (offsets) or its parent (below).
_TAKEN = tuple(name for name in MERGED if name not in ("planned_start", "planned_end"))


def items_of_workbook(
    upload: IO[bytes], options: ImportOptions, limits: Limits, anchor: date | None
) -> list[TemplateItemData]:
    """The sheet's rows as template items; every problem answered as an import's are (422 with
    the sheet, row, column and value).

    The days become offsets from `anchor`, by default the sheet's earliest day; the text a day
    was read from (10月下旬) is not kept, as a template's days are exact.
    """
    sheet = read_sheet(upload, options, limits)
    try:
        if sheet.errors:
            raise sheet_refused(sheet.errors, len(sheet.rows), sheet.layout)
        rows = [row for part in sheet.spool.slices(sheet.groups) for row in part]
    finally:
        sheet.spool.close()
    layout = sheet.layout
    days = [
        row.values[name]
        for row in rows
        for name in ("planned_start", "planned_end")
        if isinstance(row.values.get(name), date)
    ]
    start = anchor or (min(days) if days else None)
    items: list[TemplateItemData] = []
    problems: list[Diagnostic] = []
    for row, read in zip(rows, sheet.rows, strict=True):
        try:
            items.append(_item(row, read.parent_code, start))
        except ValidationError as error:
            for found in error.errors():
                name = str(found["loc"][0]) if found["loc"] else None
                columns = layout.mapping.get(name or "") or []
                problems.append(
                    Diagnostic(
                        layout.sheet,
                        row.row,
                        row.columns.get(name or "") or (columns[0] if columns else None),
                        None,
                        f"{name}: {found['msg']}" if name else found["msg"],
                    )
                )
    if problems:
        raise sheet_refused(problems, len(rows), layout)
    try:
        return check_items(items)
    except Conflict as error:
        raise sheet_refused(
            [
                Diagnostic(layout.sheet, rows[int(e.loc[2])].row, None, None, e.message)
                for e in error.errors or []
            ],
            len(rows),
            layout,
        ) from None


def _item(row: ImportRow, parent_code: str | None, anchor: date | None) -> TemplateItemData:
    values: dict[str, Any] = {name: row.values.get(name) for name in _TAKEN}
    values["predecessors"] = values["predecessors"] or []
    for side, name in (("start", "planned_start"), ("end", "planned_end")):
        day = row.values.get(name)
        if isinstance(day, date) and anchor is not None:
            values[f"{side}_offset"] = (day - anchor).days
    return TemplateItemData.model_validate({**values, "code": row.code, "parent_code": parent_code})
