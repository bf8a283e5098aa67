"""An .xlsx or .xlsm workbook, opened only once it looks like one Excel would write.

Excel never writes a DTD: a part that declares one (entities, external references) was made
to attack XML parsers, so it is refused before any parser sees it.
"""

from __future__ import annotations

import codecs
import re
import zipfile
from collections.abc import Iterator, Sequence
from functools import partial
from typing import IO, Any
from xml.etree.ElementTree import ParseError

import openpyxl

from importers.dates import EXCEL_EPOCH_1900, EXCEL_EPOCH_1904
from importers.errors import FileTooLarge, UnsupportedFile
from importers.sources import Cell, Limits, MiB, SheetSource, Source

# Excel's own prologs are one XML declaration of about 60 bytes: a part whose root element
# does not begin within this many characters is not one Excel wrote.
_PROLOG_CHARS = 16 * 1024
_PROLOG = re.compile(r"\s*(?:<\?.*?\?>\s*|<!--.*?-->\s*)*", re.DOTALL)
_XML_PARTS = (".xml", ".rels", ".vml")


def _not_normal(name: str, part: str, why: str) -> UnsupportedFile:
    return UnsupportedFile(
        f"{name!r} is not a normal Excel workbook: its part {part} {why}, which Excel never "
        "writes. Open it in Excel and save it again as .xlsx, or ask whoever sent it"
    )


def _prolog_of(member: IO[bytes]) -> tuple[str, bool]:
    """The part's first characters, and whether they are all of it."""
    wanted = _PROLOG_CHARS * 2  # bytes enough for that many characters in UTF-16 too
    raw = member.read(wanted)
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif raw.startswith(b"<\x00"):
        encoding = "utf-16-le"
    elif raw.startswith(b"\x00<"):
        encoding = "utf-16-be"
    else:
        encoding = "utf-8-sig"
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(raw)
    return text[:_PROLOG_CHARS], len(raw) < wanted and len(text) <= _PROLOG_CHARS


def _refuse_declarations(archive: zipfile.ZipFile, name: str) -> None:
    """Refuse a part whose prolog holds a DTD (<!DOCTYPE …>, <!ENTITY …>) or never ends."""
    for info in archive.infolist():
        if info.is_dir() or not info.filename.lower().endswith(_XML_PARTS):
            continue
        with archive.open(info) as member:
            text, whole = _prolog_of(member)
        prolog = _PROLOG.match(text)
        rest = text[prolog.end() :] if prolog else text
        if rest[:9].upper().startswith(("<!DOCTYPE", "<!ENTITY")):
            raise _not_normal(name, info.filename, "declares XML entities (a DTD)")
        if rest.startswith("<!") or (not rest and not whole):
            raise _not_normal(name, info.filename, "has no root element where one belongs")


_ODF = {
    "application/vnd.oasis.opendocument.spreadsheet": "an OpenDocument spreadsheet (.ods, as "
    "LibreOffice saves it): save it as .xlsx (Excel 2007-365)",
    "application/vnd.oasis.opendocument.text": "an OpenDocument text document (.odt), not a "
    "workbook",
}


def _zip_kind(archive: zipfile.ZipFile, names: set[str]) -> str:
    """What a zip archive that is not a workbook holds, in plain words."""
    if "word/document.xml" in names:
        return "a Word document (.docx), not a workbook: save the WBS from Excel as .xlsx"
    if "ppt/presentation.xml" in names:
        return "a PowerPoint presentation (.pptx), not a workbook"
    if "mimetype" in names:
        with archive.open("mimetype") as member:
            kind = member.read(100).decode("ascii", errors="replace").strip()
        if kind in _ODF:
            return _ODF[kind]
    shown = ", ".join(sorted(names)[:3])
    return (
        f"a zip archive of other files ({shown}…), not an Excel workbook: unpack it and upload "
        "the workbook inside"
    )


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
            raise UnsupportedFile(f"{name!r} is {_zip_kind(archive, names)}")
        unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > limits.max_uncompressed_bytes:
            raise FileTooLarge(
                f"{name!r} expands to {unpacked // MiB:,} MiB when unpacked, more than the "
                f"{limits.max_uncompressed_bytes // MiB:,} MiB allowed, which a real WBS never "
                "does: a workbook that large is made to exhaust the server's memory, or holds "
                "images and attachments the WBS does not need (remove them and save it again)"
            )
        _refuse_declarations(archive, name)
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
