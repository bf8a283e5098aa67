"""CSV and tab-separated text as Excel and vendor tools save it, read a chunk at a time."""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from itertools import chain
from pathlib import PurePath
from typing import IO

from importers.dates import EXCEL_EPOCH_1900
from importers.errors import UnreadableFile, UnsupportedFile
from importers.sources import Limits, SheetSource, Source, TextCell

_CHUNK = 1 << 16
_SNIFF_CHARS = 8192
# A carriage return alone is a line break typed inside a cell, not the end of a record.
_LONE_CR = re.compile(r"\r(?!\n)")


def _chunks(file: IO[bytes]) -> Iterator[bytes]:
    file.seek(0)
    while chunk := file.read(_CHUNK):
        yield chunk


def _decodes_as(file: IO[bytes], encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        for chunk in _chunks(file):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _encoding_of(file: IO[bytes], name: str) -> str:
    file.seek(0)
    head = file.read(4096)
    if b"\x00" in head:
        raise UnsupportedFile(f"{name!r} is a binary file, not CSV text")
    candidates = ("utf-8-sig",) if head.startswith(codecs.BOM_UTF8) else ("utf-8", "cp932")
    for encoding in candidates:
        if _decodes_as(file, encoding):
            return encoding
    raise UnsupportedFile(
        f"{name!r} is neither UTF-8 nor Shift_JIS text: save it from Excel as CSV UTF-8"
    )


def _lines(file: IO[bytes], encoding: str) -> Iterator[str]:
    """The text line by line, each lone carriage return made a space."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    pending = ""
    for chunk in chain(_chunks(file), [b""]):
        pending += decoder.decode(chunk, final=not chunk)
        # A return at the very end may be the first half of a CRLF the next chunk completes.
        held = "\r" if chunk and pending.endswith("\r") else ""
        ready = _LONE_CR.sub(" ", pending[: len(pending) - len(held)])
        *lines, last = ready.split("\n")
        yield from (line + "\n" for line in lines)
        pending = last + held
    if pending:
        yield pending


def open_text(file: IO[bytes], name: str, limits: Limits) -> Source:
    encoding = _encoding_of(file, name)
    sample = ""
    for line in _lines(file, encoding):
        sample += line
        if len(sample) >= _SNIFF_CHARS:
            break
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            sample[:_SNIFF_CHARS], delimiters=",\t;"
        )
    except csv.Error:
        dialect = csv.excel

    def rows() -> Iterator[list[TextCell]]:
        reader = csv.reader(_lines(file, encoding), dialect)
        try:
            for record in reader:
                yield [TextCell(field if field != "" else None) for field in record]
        except csv.Error as error:
            raise UnreadableFile(
                f"{name!r} is not readable CSV at line {reader.line_num}: {error}"
            ) from None

    sheet = SheetSource(PurePath(name).stem or "csv", True, rows, limits)
    return Source("csv", [sheet], EXCEL_EPOCH_1900)
