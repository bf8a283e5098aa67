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
_DELIMITERS = ("\t", ",", ";")
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
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode テキスト": UTF-16 with its byte-order mark, tab-separated.
        candidates: tuple[str, ...] = ("utf-16",)
    elif b"\x00" in head:
        raise UnsupportedFile(f"{name!r} is a binary file, not CSV text")
    elif head.startswith(codecs.BOM_UTF8):
        candidates = ("utf-8-sig",)
    else:
        candidates = ("utf-8", "cp932")
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


def _delimiter(sample: str) -> str:
    """The separator the first lines use most evenly, counted outside quoted fields."""
    counts: dict[str, list[int]] = {delimiter: [] for delimiter in _DELIMITERS}
    for line in _unquoted(sample).splitlines()[:20]:
        if line.strip():
            for delimiter in _DELIMITERS:
                counts[delimiter].append(line.count(delimiter))

    # Most columns on the first line, and as many on the lines after: a tab in a comma file's
    # note, or a comma in a tab file's title, is not the separator.
    def score(delimiter: str) -> tuple[int, int]:
        found = counts[delimiter]
        return (
            (sum(1 for count in found if count and count >= found[0] // 2), found[0])
            if found
            else (0, 0)
        )

    return max(_DELIMITERS, key=score)


def _unquoted(text: str) -> str:
    return re.sub(r'"(?:[^"]|"")*"', "", text)


def open_text(file: IO[bytes], name: str, limits: Limits) -> Source:
    encoding = _encoding_of(file, name)
    sample = ""
    for line in _lines(file, encoding):
        sample += line
        if len(sample) >= _SNIFF_CHARS:
            break
    # Excel's own quoting, whatever the separator: a quote inside a quoted field is doubled.
    # (The standard library's sniffer guesses quoting too, and guessed it wrong on such files.)
    delimiter = _delimiter(sample)

    def rows() -> Iterator[list[TextCell]]:
        reader = csv.reader(_lines(file, encoding), csv.excel, delimiter=delimiter)
        try:
            for record in reader:
                yield [TextCell(field if field != "" else None) for field in record]
        except csv.Error as error:
            raise UnreadableFile(
                f"{name!r} is not readable CSV at line {reader.line_num}: {error}"
            ) from None

    sheet = SheetSource(PurePath(name).stem or "csv", True, rows, limits)
    return Source("csv", [sheet], EXCEL_EPOCH_1900)
