"""An import's answer, written as the rows are applied and read back once, as JSON.

A first import of 100,000 rows answers with 1.5 million field changes. Held as objects until
the end, the answer alone was a quarter of a gigabyte; written to a temporary file row by row,
it costs the import nothing it has to keep.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from typing import Any

from service.imports.schemas import ImportCounts, ImportResult

# What the command line shows of each list.
SAMPLE = 20
_CHUNK = 1 << 16


def dumps(value: Any) -> bytes:
    """JSON as the API writes it: UTF-8, no spaces."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


class AnswerList:
    """A JSON array on disk, appended to one entry at a time."""

    def __init__(self) -> None:
        self._file = tempfile.SpooledTemporaryFile(max_size=_CHUNK)
        self.count = 0
        self.sample: list[Any] = []

    def __len__(self) -> int:
        return self.count

    def append(self, entry: Any) -> None:
        self._file.write(b"," if self.count else b"[")
        self._file.write(dumps(entry))
        if self.count < SAMPLE:
            self.sample.append(entry)
        self.count += 1

    def chunks(self) -> Iterator[bytes]:
        if not self.count:
            yield b"[]"
            return
        self._file.seek(0)
        while chunk := self._file.read(_CHUNK):
            yield chunk
        yield b"]"

    def close(self) -> None:
        self._file.close()


class ImportAnswer:
    """The per-row lists of an import's answer, each on disk as it grows."""

    def __init__(self) -> None:
        self.created = AnswerList()
        self.updated = AnswerList()
        self.unchanged = AnswerList()
        self.conflicts = AnswerList()

    def lists(self) -> dict[str, AnswerList]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "conflicts": self.conflicts,
        }

    def close(self) -> None:
        for answer in self.lists().values():
            answer.close()


class ImportOutcome:
    """An import's answer: the summary in memory, the per-row lists streamed from disk."""

    def __init__(self, summary: ImportResult, answer: ImportAnswer) -> None:
        self.summary = summary  # its per-row lists are empty: `chunks` fills them in
        self.answer = answer

    @property
    def counts(self) -> ImportCounts:
        return self.summary.counts

    def sample(self, name: str) -> list[Any]:
        """The first entries of a per-row list, for a person reading a terminal."""
        return self.answer.lists()[name].sample

    def chunks(self) -> Iterator[bytes]:
        """The answer as JSON, in ImportResult's field order; closes the lists when done."""
        spooled = self.answer.lists()
        try:
            summary = self.summary.model_dump(mode="json")
            yield b"{"
            for position, name in enumerate(ImportResult.model_fields):
                yield (b"," if position else b"") + dumps(name) + b":"
                if name in spooled:
                    yield from spooled[name].chunks()
                else:
                    yield dumps(summary[name])
            yield b"}"
        finally:
            self.answer.close()

    def close(self) -> None:
        self.answer.close()
