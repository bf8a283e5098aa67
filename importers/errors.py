"""What makes a whole file unreadable, by kind: the service decides what each kind answers."""

from __future__ import annotations

from typing import Any


class ImportFileError(Exception):
    """A file that cannot be imported as a whole; the message says why, in the user's words."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        # Where it was found (sheet, row) and what the user may choose from (candidates).
        self.details = details


class UnsupportedFile(ImportFileError):
    """Not a workbook or text this importer reads, or not what its name says it is."""


class FileTooLarge(ImportFileError):
    """Over one of the caps (Limits): upload, unpacked size, rows, columns, a cell's length."""


class UnreadableFile(ImportFileError):
    """The right kind of file, but damaged past reading (a CSV whose quotes never close)."""


class SheetChoiceRequired(ImportFileError):
    """Several sheets could be the WBS, or the one named does not exist."""


class LayoutNotFound(ImportFileError):
    """No header row the importer understands, or a mapping it cannot apply."""
