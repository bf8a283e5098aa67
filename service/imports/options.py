"""What the uploader asks of an import, whether from the API's form, a page or the shell."""

from __future__ import annotations

import json
from dataclasses import dataclass

from service.errors import Unprocessable


@dataclass(frozen=True)
class ImportOptions:
    file_name: str
    sheet: str | None = None
    # Field → column letter or header text, for when detection is wrong.
    mapping: dict[str, str] | None = None
    header_row: int | None = None
    dry_run: bool = False
    prune: bool = False


def parse_mapping(text: str | None) -> dict[str, str] | None:
    """A mapping as a form sends it: a JSON object of field → column letter or header."""
    if not text:
        return None
    try:
        mapping = json.loads(text)
    except json.JSONDecodeError:
        mapping = None
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
    ):
        raise Unprocessable.for_field(
            "mapping", 'must be a JSON object of field → column, e.g. {"title": "C"}'
        )
    return mapping
