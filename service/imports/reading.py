"""The first pass: the upload read once, its rows put aside on disk, what the checks need kept.

The importer reads cells; the rules of an item are the service's, so the dates' order is
checked here, as each row passes. A file the importer cannot read at all is answered with the
API's error for its kind.
"""

from __future__ import annotations

import hashlib
import pickle
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

from importers.errors import (
    FileTooLarge,
    ImportFileError,
    LayoutNotFound,
    SheetChoiceRequired,
    UnreadableFile,
    UnsupportedFile,
)
from importers.fields import Vocabulary
from importers.results import Diagnostic, ImportRow
from importers.sheet import RowStream, SheetLayout, stream_workbook
from importers.sources import Limits
from service.db import SLICE
from service.errors import PayloadTooLarge, ServiceError, Unprocessable, UnsupportedMediaType
from service.imports.options import ImportOptions
from service.items.codes import CODE_PATTERN
from service.items.fields import sheet_fields
from service.items.rules import dates_out_of_order, derived_parent_code

# The item's fields as the importer reads them, with every header that names them.
VOCABULARY = Vocabulary(sheet_fields(), derived_parent_code)
# Rows diffed and written together; tests make it small to cross slice boundaries.
ROWS_PER_SLICE = SLICE
_HASH_CHUNK = 1 << 16

_FILE_PROBLEMS: dict[type[ImportFileError], type[ServiceError]] = {
    UnsupportedFile: UnsupportedMediaType,
    FileTooLarge: PayloadTooLarge,
    UnreadableFile: Unprocessable,
    SheetChoiceRequired: Unprocessable,
    LayoutNotFound: Unprocessable,
}


def file_problem(error: ImportFileError) -> ServiceError:
    """The API's answer to a file the importer refused whole."""
    kind = next(
        (_FILE_PROBLEMS[cls] for cls in type(error).__mro__ if cls in _FILE_PROBLEMS),
        Unprocessable,
    )
    return kind(error.message, extra={k: v for k, v in error.details.items() if k == "candidates"})


@contextmanager
def reading(
    upload: IO[bytes],
    options: ImportOptions,
    limits: Limits,
    progress: Callable[[int], None] | None = None,
    keep_cells: int = 0,
) -> Iterator[tuple[SheetLayout, RowStream]]:
    """The upload as the importer streams it; a file's problem (also one met mid-sheet, such as
    too many rows) raised as the API's error."""
    try:
        with stream_workbook(
            upload,
            options.file_name,
            VOCABULARY,
            sheet=options.sheet,
            mapping=options.mapping,
            header_row=options.header_row,
            limits=limits,
            progress=progress,
            keep_cells=keep_cells,
        ) as reading:
            yield reading
    except ImportFileError as error:
        raise file_problem(error) from None


def sha256_of(upload: IO[bytes]) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    while chunk := upload.read(_HASH_CHUNK):
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


_CODE = re.compile(CODE_PATTERN)


def row_problems(layout: SheetLayout, row: ImportRow) -> list[Diagnostic]:
    """What the item's rules say of a row the importer read: a code no item may have (the
    characters the API refuses in one, invisible ones among them), an end before its start."""
    sheet = layout.sheet
    found = []
    code_columns = layout.mapping.get("code")
    if not _CODE.match(row.code):
        found.append(
            Diagnostic(
                sheet,
                row.row,
                code_columns[0] if code_columns else None,
                row.code,
                f"{row.code!r} cannot be a code: a code is at most 64 characters, without "
                "spaces, / \\ ? # %, control or invisible characters, nor a leading dot",
                "code",
            )
        )
    if row.is_group:  # its span is its children's, not something the sheet wrote
        return found
    return found + [
        Diagnostic(
            sheet,
            row.row,
            row.columns.get(wrong.field),
            str(row.values.get(f"{wrong.field}_text") or wrong.end),
            wrong.message,
            "date_order",
        )
        for wrong in dates_out_of_order(row.values)
    ]


def in_row_order(*problems: list[Diagnostic]) -> list[Diagnostic]:
    """Problems found by different readers of the same rows, as a person goes down the sheet."""
    return sorted((problem for found in problems for problem in found), key=lambda d: d.row)


@dataclass(frozen=True, slots=True)
class SheetRow:
    """What the whole-sheet checks need of a row; its values wait on disk."""

    row: int
    code: str
    sheet_id: int | None
    parent_code: str | None  # as the sheet's structure or the code itself names it
    predecessors: list[str] | None  # None: the sheet has no predecessors column
    columns: dict[str, str]

    @classmethod
    def of(cls, row: ImportRow) -> SheetRow:
        sheet_id = row.values.get("id")
        return cls(
            row.row,
            row.code,
            sheet_id if isinstance(sheet_id, int) else None,
            row.parent_code or derived_parent_code(row.code),
            row.values.get("predecessors"),
            row.columns,
        )


class RowSpool:
    """The sheet's rows on disk, from the pass that reads them to the pass that applies them."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()
        self._waiting: list[ImportRow] = []

    def add(self, row: ImportRow) -> None:
        self._waiting.append(row)
        if len(self._waiting) >= ROWS_PER_SLICE:
            self._put_aside()

    def _put_aside(self) -> None:
        if self._waiting:
            pickle.dump(self._waiting, self._file, protocol=pickle.HIGHEST_PROTOCOL)
            self._waiting = []

    def slices(self, groups: Mapping[str, ImportRow]) -> Iterator[list[ImportRow]]:
        """The rows in sheet order; groups as settled at the end of the sheet."""
        self._put_aside()
        self._file.seek(0)
        while True:
            try:
                rows: list[ImportRow] = pickle.load(self._file)
            except EOFError:
                return
            yield [groups[row.code] if row.is_group else row for row in rows]

    def close(self) -> None:
        self._file.close()


@dataclass(frozen=True)
class ReadSheet:
    """The sheet after the first pass: its rows' keys in memory, their values on disk."""

    layout: SheetLayout
    sha256: str
    rows: list[SheetRow]
    spool: RowSpool  # the reader of the rows owns it: close it when done
    errors: list[Diagnostic]  # every row-level problem, in row order
    skipped: list[Diagnostic]
    groups: Mapping[str, ImportRow]


def read_sheet(
    upload: IO[bytes],
    options: ImportOptions,
    limits: Limits,
    progress: Callable[[int], None] | None = None,
) -> ReadSheet:
    sha256 = sha256_of(upload)
    spool = RowSpool()
    try:
        with reading(upload, options, limits, progress) as (layout, stream):
            rows, dated = [], []
            for row in stream:
                rows.append(SheetRow.of(row))
                spool.add(row)
                dated += row_problems(layout, row)
            end = stream.end()
    except BaseException:
        spool.close()
        raise
    return ReadSheet(
        layout, sha256, rows, spool, in_row_order(end.errors, dated), end.skipped, end.groups
    )
