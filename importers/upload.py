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
TEXT_SUFFIXES = {".csv", ".txt", ".tsv", ""}
# Enough of a file to tell what it is: an old Office file names its streams near the start.
_HEAD = 64 * 1024
_SAVE_AS = "open it in Excel and save it as .xlsx (Excel ブック)"
# What an old Office file holds, by the name of its main stream (UTF-16 in its directory).
_OLE2_KINDS = (
    ("EncryptedPackage", "a password-protected Excel workbook: remove the password in Excel "
     "(ファイル → 情報 → ブックの保護), then save it as .xlsx"),
    ("WordDocument", "a Word document (.doc), not a workbook: save the WBS from Excel as .xlsx"),
    ("PowerPoint Document", "a PowerPoint presentation (.ppt), not a workbook"),
    ("Workbook", f"a legacy Excel 97-2003 workbook (.xls): {_SAVE_AS}"),
    ("Book", f"a legacy Excel 5.0/95 workbook (.xls): {_SAVE_AS}"),
)  # fmt: skip
# Other files people upload by mistake, by their first bytes.
_SIGNATURES = (
    (b"%PDF", "a PDF document: upload the workbook the PDF was printed from"),
    (b"\x89PNG", "a PNG image, not a workbook"),
    (b"\xff\xd8\xff", "a JPEG image, not a workbook"),
    (b"GIF8", "a GIF image, not a workbook"),
    (b"{\\rtf", "an RTF document, not a workbook"),
    (b"7z\xbc\xaf", "a 7-Zip archive: unpack it and upload the workbook inside"),
    (b"Rar!", "a RAR archive: unpack it and upload the workbook inside"),
)  # fmt: skip


def size_of(file: IO[bytes]) -> int:
    """The upload's length in bytes, measured without reading it."""
    file.seek(0, io.SEEK_END)
    size = file.tell()
    file.seek(0)
    return size


def what_it_is(head: bytes) -> str | None:
    """What a file that is neither a workbook nor text really is, in plain words."""
    if head.startswith(_OLE2):
        for stream, kind in _OLE2_KINDS:
            if stream.encode("utf-16-le") in head:
                return kind
        return f"an Office 97-2003 file (a legacy .xls, or a protected workbook): {_SAVE_AS}"
    for signature, kind in _SIGNATURES:
        if head.startswith(signature):
            return kind
    start = head[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith((b"<!doctype html", b"<html")) or b"<html" in start[:512]:
        return f'a web page (HTML), as Excel saves a "Web page" or a mail attaches one: {_SAVE_AS}'
    if start.startswith(b"mime-version"):
        return f"a single-file web page (.mht): {_SAVE_AS}"
    if start.startswith(b"<?xml") and b"urn:schemas-microsoft-com:office:spreadsheet" in head:
        return f"an Excel 2003 XML spreadsheet: {_SAVE_AS}"
    return None


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
    head = file.read(_HEAD)
    file.seek(0)
    suffix = PurePath(name).suffix.lower()
    if head.startswith(_ZIP):
        if suffix not in WORKBOOK_SUFFIXES:
            raise UnsupportedFile(
                f"{name!r} is named {suffix or 'without an extension'} but holds a zip archive "
                "(a workbook, or another Office file): upload the workbook as .xlsx or .xlsm"
            )
        return open_workbook(file, name, limits)
    kind = what_it_is(head)
    if kind is not None:
        raise UnsupportedFile(f"{name!r} is {kind}")
    if suffix in WORKBOOK_SUFFIXES:
        raise UnsupportedFile(
            f"{name!r} is named {suffix} but is not a workbook: save it from Excel as .xlsx"
        )
    if suffix not in TEXT_SUFFIXES:
        raise UnsupportedFile(
            f"{name!r}: {suffix} files are not supported; upload .xlsx, .xlsm or .csv"
        )
    return open_text(file, name, limits)
