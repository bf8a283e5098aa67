"""A project's WBS as a clean workbook that the importer reads back with zero changes."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from importers.values import circled_step
from service.items.fields import EXPORT_COLUMNS
from service.items.models import Item
from service.projects.models import Project
from service.tabular import FORMULA_PREFIXES, Language, storable, word

# One column per item field, headed as the importer reads it back.
COLUMNS = EXPORT_COLUMNS
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_MAX_OUTLINE = 7  # Excel's deepest outline level


def _depths(items: Sequence[Item]) -> dict[int, int]:
    parents = {item.id: item.parent_id for item in items}
    depths: dict[int, int] = {}
    for item in items:
        depth, current, seen = 0, item.parent_id, set()
        while current is not None and current not in seen:
            seen.add(current)
            depth += 1
            current = parents.get(current)
        depths[item.id] = depth
    return depths


CellValue = str | int | float | date | None


def _value(item: Item, field: str, language: Language) -> CellValue:
    if field == "parent_code":
        return item.parent.code if item.parent is not None else None
    if field == "predecessors":
        return ", ".join(p.code for p in item.predecessors) or None
    raw = getattr(item, field)
    if field == "step" and raw is not None:
        return circled_step(raw)  # as the procedure's sheets write it
    if field == "business" and raw is not None:
        return str(raw.value)
    shown = word(raw, language) if field in ("responsibility", "status") else raw
    assert shown is None or isinstance(shown, str | int | float | date)
    return shown


def export_workbook(session: Session, project: Project, language: Language) -> bytes:
    items = list(
        session.scalars(
            select(Item)
            .where(Item.project_id == project.id)
            .order_by(Item.sort_key, Item.id)
            .options(selectinload(Item.parent), selectinload(Item.predecessors))
        )
    )
    depths = _depths(items)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "WBS"
    for index, column in enumerate(COLUMNS, start=1):
        header = column.export_ja if language == "ja" else column.export_en
        cell = sheet.cell(row=1, column=index, value=header)
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        sheet.column_dimensions[get_column_letter(index)].width = column.export_width
    title_column = next(i for i, c in enumerate(COLUMNS, start=1) if c.name == "title")
    for row_number, item in enumerate(items, start=2):
        for index, column in enumerate(COLUMNS, start=1):
            value = _value(item, column.name, language)
            cell = sheet.cell(row=row_number, column=index, value=storable(value))
            if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
                cell.data_type = "s"  # shown as written, never run as a formula
            elif isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
        depth = depths[item.id]
        sheet.cell(row=row_number, column=title_column).alignment = Alignment(indent=depth)
        if depth:
            sheet.row_dimensions[row_number].outline_level = min(depth, _MAX_OUTLINE)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{max(1, len(items) + 1)}"
    if sheet.sheet_properties.outlinePr is not None:
        # Group headings sit above their children, as in a WBS.
        sheet.sheet_properties.outlinePr.summaryBelow = False
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
