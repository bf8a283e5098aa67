"""Tables for people: CSV that Excel in Japan opens, and XLSX, neither ever running a formula.

Shared by the reports and the Excel export, and spoken in Japanese by default.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Generator, Iterable, Sequence
from datetime import date
from enum import Enum
from typing import IO, Any, Literal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

Language = Literal["ja", "en"]
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Text starting with these runs as a formula in a spreadsheet (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

WORDS: dict[str, dict[Language, str]] = {
    "vendor": {"ja": "ベンダー", "en": "Vendor"},
    "municipality": {"ja": "自治体", "en": "Municipality"},
    "joint": {"ja": "共同", "en": "Joint"},
    "not_started": {"ja": "未着手", "en": "Not started"},
    "in_progress": {"ja": "作業中", "en": "In progress"},
    "delayed": {"ja": "遅延", "en": "Delayed"},
    "on_hold": {"ja": "保留", "en": "On hold"},
    "done": {"ja": "完了", "en": "Done"},
    "not_applicable": {"ja": "対象外", "en": "N/A"},
    "overdue": {"ja": "期限超過", "en": "Overdue"},
    "due_soon": {"ja": "期限間近", "en": "Due soon"},
}


def word(value: object, language: Language) -> object:
    """Enum values as the words a person reads (and the importer reads back)."""
    raw = value.value if isinstance(value, Enum) else value
    if isinstance(raw, str) and raw in WORDS:
        return WORDS[raw][language]
    return raw


def neutralise(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def to_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """UTF-8 with a BOM, so Excel in Japan opens it without garbling."""
    return b"".join(csv_chunks(header, [rows]))


def csv_chunks(
    header: Sequence[str], pages: Iterable[Iterable[Sequence[object]]]
) -> Generator[bytes]:
    """`to_csv`'s bytes a page of rows at a time, for a download that never holds them all."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(header)
    for rows in pages:
        for row in rows:
            writer.writerow(["" if v is None else neutralise(_plain(v)) for v in row])
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, date) else value


def storable(value: Any) -> Any:
    """Text as a workbook can hold it: characters it cannot store become U+FFFD."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    return value


def text_cell(sheet: WriteOnlyWorksheet, value: Any) -> Cell:
    """A cell that shows exactly its value: text starting with `=` stays text, never a formula."""
    cell = WriteOnlyCell(sheet, value=storable(value))
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        cell.data_type = "s"
    if isinstance(value, date):
        cell.number_format = "yyyy-mm-dd"
    return cell


Sheets = Iterable[tuple[str, Sequence[str], Iterable[Sequence[object]]]]


def to_xlsx(sheets: Sheets) -> bytes:
    buffer = io.BytesIO()
    write_xlsx(sheets, buffer)
    return buffer.getvalue()


def write_xlsx(sheets: Sheets, file: IO[bytes]) -> None:
    """The workbook into a file, its rows taken one at a time (write-only: openpyxl keeps each
    sheet's rows in a temporary file, not in memory), so a sheet of any length costs the same
    memory."""
    workbook = Workbook(write_only=True)
    for title, header, rows in sheets:
        sheet = workbook.create_sheet(title[:31])
        sheet.freeze_panes = "A2"
        sheet.append([text_cell(sheet, h) for h in header])
        for row in rows:
            sheet.append([text_cell(sheet, v) for v in row])
    workbook.save(file)


Format = Literal["json", "csv", "xlsx"]


def choose_format(explicit: str | None, accept: str | None) -> Format:
    """`format=` wins; otherwise the Accept header; JSON by default."""
    if explicit in ("json", "csv", "xlsx"):
        return explicit  # type: ignore[return-value]
    accepted = (accept or "").lower()
    if "text/csv" in accepted:
        return "csv"
    if XLSX_MEDIA_TYPE in accepted:
        return "xlsx"
    return "json"
