"""Building test workbooks in code, so each test shows the layout it reads."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Sequence
from typing import Any

import openpyxl
from openpyxl.worksheet.worksheet import Worksheet

from importers.sheet import ParsedSheet, parse_workbook
from service.imports.reading import VOCABULARY


def parse(data: bytes, name: str, **options: Any) -> ParsedSheet:
    """The upload read as the service reads it: with the item fields' own vocabulary."""
    return parse_workbook(io.BytesIO(data), name, VOCABULARY, **options)


def workbook_bytes(
    *sheets: tuple[str, Sequence[Sequence[object]]], epoch_1904: bool = False
) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    if epoch_1904:
        from openpyxl.utils.datetime import CALENDAR_MAC_1904

        workbook.epoch = CALENDAR_MAC_1904
    for name, rows in sheets:
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
    return save(workbook)


def save(workbook: openpyxl.Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def build(
    rows: Sequence[Sequence[object]], title: str = "WBS"
) -> tuple[openpyxl.Workbook, Worksheet]:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(list(row))
    return workbook, sheet


def with_formula(data: bytes, cell: str, formula: str, sheet_number: int = 1) -> bytes:
    """Give a cell a formula while keeping its value as the cached result, as Excel saves it."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == f"xl/worksheets/sheet{sheet_number}.xml":
                text = content.decode()
                pattern = re.compile(rf'(<c r="{cell}"[^>]*>)(<v>)')
                assert pattern.search(text), f"{cell} has no value to cache"
                text = pattern.sub(rf"\1<f>{formula}</f>\2", text, count=1)
                content = text.encode()
            target.writestr(info, content)
    return out.getvalue()


def rewritten(data: bytes, part: str, change: Callable[[bytes], bytes]) -> bytes:
    """The workbook with one of its XML parts changed, the rest as openpyxl wrote them."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            target.writestr(info, change(content) if info.filename == part else content)
    return out.getvalue()
