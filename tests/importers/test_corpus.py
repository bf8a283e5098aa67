"""Every layout of the corpus read field for field, as the service reads it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.importers.corpus import LAYOUTS, Layout
from tests.importers.sheets import parse


def read_as(layout: Layout) -> dict[str, dict[str, object]]:
    parsed = parse(layout.data, layout.file_name)
    assert parsed.errors == [], parsed.errors
    if layout.header_rows is not None:
        assert parsed.header_rows == layout.header_rows
    if layout.sheet is not None:
        assert parsed.sheet == layout.sheet
    ignored = {item.column for item in parsed.ignored_columns}
    assert layout.ignored <= ignored, parsed.ignored_columns
    for row, reason in layout.skipped.items():
        assert any(s.row == row and reason in s.message for s in parsed.skipped), parsed.skipped
    found = {}
    for row in parsed.rows:
        fields = {**row.values, "parent_code": row.parent_code}
        # Every field the row holds, and none it should not: blanks say nothing either way.
        found[row.code] = {name: value for name, value in fields.items() if value not in (None, [])}
    return found


@pytest.mark.parametrize("build", LAYOUTS, ids=lambda build: build.__name__)
def test_every_field_of_every_layout(build: Callable[[], Layout]) -> None:
    layout = build()
    assert read_as(layout) == layout.items
