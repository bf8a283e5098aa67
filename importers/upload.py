"""Opening an upload safely: what kind of file it really is, within the caps.

The upload is a seekable binary file (the web server spools it to disk): it is measured,
sniffed and read from there, never held whole in memory.
"""

from __future__ import annotations

import io
from pathlib import PurePath
from typing import IO

from importers.errors import FileTooLarge, UnsupportedFile
from importers.sources import Limits, MiB, Source
from importers.text import open_text
from importers.xlsx import open_workbook

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = b"PK\x03\x04"
WORKBOOK_SUFFIXES = {".xlsx", ".xlsm"}
TEXT_SUFFIXES = {".csv", ".txt", ""}


def size_of(file: IO[bytes]) -> int:
    """The upload's length in bytes, measured without reading it."""
    file.seek(0, io.SEEK_END)
    size = file.tell()
    file.seek(0)
    return size


def open_upload(file: IO[bytes], name: str, limits: Limits) -> Source:
    """The upload as sheets of cells: UnsupportedFile for what is not a workbook or text,
    FileTooLarge over a cap."""
    size = size_of(file)
    if size > limits.max_upload_bytes:
        raise FileTooLarge(
            f"{name!r} is {size // MiB} MiB, more than {limits.max_upload_bytes // MiB} MiB allowed"
        )
    if not size:
        raise UnsupportedFile(f"{name!r} is empty")
    head = file.read(len(_OLE2))
    file.seek(0)
    suffix = PurePath(name).suffix.lower()
    if head.startswith(_OLE2):
        raise UnsupportedFile(
            f"{name!r} is a legacy Excel 97-2003 (.xls) file or a password-protected workbook: "
            "open it in Excel, remove any password and save it as .xlsx"
        )
    if head.startswith(_ZIP):
        if suffix not in WORKBOOK_SUFFIXES:
            raise UnsupportedFile(
                f"{name!r} is named {suffix or 'without an extension'} but holds a zip archive: "
                "upload the workbook as .xlsx or .xlsm"
            )
        return open_workbook(file, name, limits)
    if suffix in WORKBOOK_SUFFIXES:
        raise UnsupportedFile(
            f"{name!r} is named {suffix} but is not a workbook: save it from Excel as .xlsx"
        )
    if suffix not in TEXT_SUFFIXES:
        raise UnsupportedFile(
            f"{name!r}: {suffix} files are not supported; upload .xlsx, .xlsm or .csv"
        )
    return open_text(file, name, limits)
