"""Opening an upload safely: what kind of file it really is, within the caps, sheet by sheet."""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath
from typing import Any, Protocol

import openpyxl

from importers.dates import EXCEL_EPOCH_1900, EXCEL_EPOCH_1904

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_upload_bytes: int = 20 * MiB
    max_uncompressed_bytes: int = 200 * MiB
    max_rows: int = 200_000
    max_columns: int = 200
    max_cell_chars: int = 10_000


class ImportFileError(Exception):
    """A file that cannot be imported as a whole; `status` is the HTTP answer for it."""

    status = 422

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class UnsupportedFile(ImportFileError):
    status = 415


class FileTooLarge(ImportFileError):
    status = 413


class Cell(Protocol):
    @property
    def value(self) -> Any: ...


@dataclass(frozen=True, slots=True)
class TextCell:
    """A CSV field: text only, no format and no indentation."""

    value: str | None


def number_format(cell: object) -> str | None:
    return getattr(cell, "number_format", None)


def indent(cell: object) -> int:
    alignment = getattr(cell, "alignment", None)
    return int(getattr(alignment, "indent", 0) or 0) if alignment is not None else 0


@dataclass
class SheetSource:
    name: str
    visible: bool
    _rows: Any
    limits: Limits

    def rows(self) -> Iterator[tuple[int, Sequence[Cell]]]:
        """(sheet row number, cells), checked against the caps as they stream by."""
        for number, row in enumerate(self._rows(), start=1):
            if number > self.limits.max_rows:
                raise FileTooLarge(
                    f"sheet {self.name!r} has more than {self.limits.max_rows} rows; "
                    "split it or ask the operator to raise WBS_IMPORT_MAX_ROWS",
                    sheet=self.name,
                )
            cells = list(row)
            while cells and (cells[-1].value is None or cells[-1].value == ""):
                cells.pop()
            if len(cells) > self.limits.max_columns:
                raise FileTooLarge(
                    f"sheet {self.name!r} row {number} has {len(cells)} columns, more than "
                    f"{self.limits.max_columns}",
                    sheet=self.name,
                    row=number,
                )
            for cell in cells:
                if isinstance(cell.value, str) and len(cell.value) > self.limits.max_cell_chars:
                    raise FileTooLarge(
                        f"sheet {self.name!r} row {number} has a cell of {len(cell.value)} "
                        f"characters, more than {self.limits.max_cell_chars}",
                        sheet=self.name,
                        row=number,
                    )
            yield number, cells


@dataclass
class Source:
    kind: str  # "xlsx" or "csv"
    sheets: list[SheetSource]
    epoch: datetime

    def close(self) -> None:
        closer = getattr(self, "_workbook", None)
        if closer is not None:
            closer.close()


_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = b"PK\x03\x04"
WORKBOOK_SUFFIXES = {".xlsx", ".xlsm"}
TEXT_SUFFIXES = {".csv", ".txt", ""}


def _open_workbook(data: bytes, name: str, limits: Limits) -> Source:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
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
    try:
        # data_only: formula cells read as the values Excel last computed. Macros never run.
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for damaged files
        raise UnsupportedFile(f"{name!r} cannot be read as a workbook: {error}") from None
    sheets = [
        SheetSource(
            name=sheet.title,
            visible=getattr(sheet, "sheet_state", "visible") == "visible",
            _rows=sheet.iter_rows,
            limits=limits,
        )
        for sheet in workbook.worksheets
    ]
    source = Source(
        "xlsx", sheets, EXCEL_EPOCH_1904 if workbook.epoch.year == 1904 else EXCEL_EPOCH_1900
    )
    source._workbook = workbook  # type: ignore[attr-defined]
    return source


def _decode(data: bytes, name: str) -> str:
    if b"\x00" in data[:4096]:
        raise UnsupportedFile(f"{name!r} is a binary file, not CSV text")
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="strict")
    for encoding in ("utf-8", "cp932"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnsupportedFile(
        f"{name!r} is neither UTF-8 nor Shift_JIS text: save it from Excel as CSV UTF-8"
    )


def _open_csv(data: bytes, name: str, limits: Limits) -> Source:
    # A carriage return alone is a line break typed inside a cell, not the end of a record.
    text = re.sub(r"\r(?!\n)", " ", _decode(data, name))
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text[:8192], delimiters=",\t;"
        )
    except csv.Error:
        dialect = csv.excel

    def rows() -> Iterator[list[TextCell]]:
        reader = csv.reader(io.StringIO(text, newline=""), dialect)
        try:
            for record in reader:
                yield [TextCell(field if field != "" else None) for field in record]
        except csv.Error as error:
            raise ImportFileError(
                f"{name!r} is not readable CSV at line {reader.line_num}: {error}"
            ) from None

    return Source(
        "csv", [SheetSource(PurePath(name).stem or "csv", True, rows, limits)], EXCEL_EPOCH_1900
    )


def open_source(data: bytes, name: str, limits: Limits) -> Source:
    """The upload as sheets of cells; 415 for what is not a workbook or CSV, 413 over a cap."""
    if len(data) > limits.max_upload_bytes:
        raise FileTooLarge(
            f"{name!r} is {len(data) // MiB} MiB, "
            f"more than {limits.max_upload_bytes // MiB} MiB allowed"
        )
    if not data:
        raise UnsupportedFile(f"{name!r} is empty")
    suffix = PurePath(name).suffix.lower()
    if data.startswith(_OLE2):
        raise UnsupportedFile(
            f"{name!r} is a legacy Excel 97-2003 (.xls) file or a password-protected workbook: "
            "open it in Excel, remove any password and save it as .xlsx"
        )
    if data.startswith(_ZIP):
        if suffix not in WORKBOOK_SUFFIXES:
            raise UnsupportedFile(
                f"{name!r} is named {suffix or 'without an extension'} but holds a zip archive: "
                "upload the workbook as .xlsx or .xlsm"
            )
        return _open_workbook(data, name, limits)
    if suffix in WORKBOOK_SUFFIXES:
        raise UnsupportedFile(
            f"{name!r} is named {suffix} but is not a workbook: save it from Excel as .xlsx"
        )
    if suffix not in TEXT_SUFFIXES:
        raise UnsupportedFile(
            f"{name!r}: {suffix} files are not supported; upload .xlsx, .xlsm or .csv"
        )
    return _open_csv(data, name, limits)
