"""An .xlsx or .xlsm workbook, opened only once it looks like one Excel would write."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator, Sequence
from functools import partial
from typing import IO, Any
from xml.etree.ElementTree import ParseError

import openpyxl

from importers.dates import EXCEL_EPOCH_1900, EXCEL_EPOCH_1904
from importers.errors import FileTooLarge, UnsupportedFile
from importers.sources import Cell, Limits, MiB, SheetSource, Source


def _rows_of(sheet: Any, name: str) -> Iterator[Sequence[Cell]]:
    try:
        yield from sheet.iter_rows()
    except ParseError as error:
        raise UnsupportedFile(
            f"{name!r} is not a normal Excel workbook: sheet {sheet.title!r} is not readable "
            f"XML ({error}). Open it in Excel and save it again as .xlsx",
            sheet=sheet.title,
        ) from None


def open_workbook(file: IO[bytes], name: str, limits: Limits) -> Source:
    try:
        archive = zipfile.ZipFile(file)
    except zipfile.BadZipFile:
        raise UnsupportedFile(
            f"{name!r} is damaged: it cannot be opened as an .xlsx workbook"
        ) from None
    with archive:
        names = set(archive.namelist())
        if "xl/workbook.xml" not in names:
            raise UnsupportedFile(
                f"{name!r} is a zip archive but not an Excel workbook (.docx, .pptx or a zip?): "
                "save the WBS from Excel as .xlsx"
            )
        unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > limits.max_uncompressed_bytes:
            raise FileTooLarge(
                f"{name!r} unpacks to {unpacked // MiB} MiB, more than "
                f"{limits.max_uncompressed_bytes // MiB} MiB allowed"
            )
    file.seek(0)
    try:
        # data_only: formula cells read as the values Excel last computed. Macros never run.
        workbook = openpyxl.load_workbook(file, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for damaged files
        raise UnsupportedFile(f"{name!r} cannot be read as a workbook: {error}") from None
    sheets = [
        SheetSource(
            name=sheet.title,
            visible=getattr(sheet, "sheet_state", "visible") == "visible",
            _rows=partial(_rows_of, sheet, name),
            limits=limits,
        )
        for sheet in workbook.worksheets
    ]
    epoch = EXCEL_EPOCH_1904 if workbook.epoch.year == 1904 else EXCEL_EPOCH_1900
    return Source("xlsx", sheets, epoch, workbook.close)
