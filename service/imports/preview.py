"""How a preview shows a sheet's reading: each row's cells as written and as read, and which
header reading was chosen over which, so a person can see a wrong reading and map it right."""

from __future__ import annotations

from datetime import date
from typing import Any

from importers.fields import CODE, DONE_MARK, PERIOD_DAYS, RESPONSIBILITY
from importers.layout import MARK_PREFIX, column_index
from importers.results import ImportRow
from importers.sheet import ReadingSummary, SheetLayout
from service.imports.schemas import (
    HeaderDetection,
    HeaderReading,
    PreviewCell,
    PreviewRow,
    PreviewStep,
)


def _json(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_json(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _read_as(row: ImportRow, name: str | None) -> Any:
    """What a column's field became from this row."""
    if name is None:
        return None
    if name == CODE:
        return row.code
    if name.startswith(MARK_PREFIX):
        return row.values.get(RESPONSIBILITY)
    if name in PERIOD_DAYS:
        return [row.values.get(day) for day in PERIOD_DAYS[name]]
    if name == DONE_MARK:
        return row.values.get("status")
    if name == "parent_code":
        return row.parent_code
    return row.values.get(name)


def preview_row(layout: SheetLayout, row: ImportRow) -> PreviewRow:
    field_of = {letter: name for name, letters in layout.mapping.items() for letter in letters}
    ignored = {item.column: item.header for item in layout.ignored_columns}
    cells = None
    if row.cells is not None:
        letters = sorted(set(row.cells) | set(field_of), key=column_index)
        cells = [
            PreviewCell(
                column=letter,
                header=layout.headers.get(letter) or ignored.get(letter),
                value=_json(row.cells.get(letter)),
                field=field_of.get(letter),
                read=_json(_read_as(row, field_of.get(letter))),
            )
            for letter in letters
        ]
    step = row.step
    return PreviewRow(
        row=row.row,
        code=row.code,
        parent_code=row.parent_code,
        values={k: _json(v) for k, v in row.values.items()},
        cells=cells,
        step=PreviewStep(number=step.number, name=step.name, code=step.code) if step else None,
    )


def _rows(reading: ReadingSummary) -> str:
    first, last = reading.header_rows[0], reading.header_rows[-1]
    return f"row {first}" if first == last else f"rows {first}–{last}"


def _reading(reading: ReadingSummary) -> HeaderReading:
    return HeaderReading(
        header_rows=reading.header_rows,
        mapping=reading.mapping,
        fields_explained=reading.fields_explained,
        values_read=reading.values_read,
        values_seen=reading.values_seen,
    )


def detection_of(layout: SheetLayout) -> HeaderDetection | None:
    if not layout.readings:
        return None
    chosen, *others = layout.readings
    summary = (
        f"{_rows(chosen)} read as the header: {chosen.fields_explained} fields whose values "
        f"read ({chosen.values_read} of {chosen.values_seen} values)"
    )
    alternative = others[0] if others else None
    if alternative is not None:
        summary += (
            f"; {_rows(alternative)} would read {alternative.fields_explained} "
            f"({alternative.values_read} of {alternative.values_seen})"
        )
    return HeaderDetection(
        chosen=_reading(chosen),
        alternative=_reading(alternative) if alternative else None,
        summary=summary,
    )
