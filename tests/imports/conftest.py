from __future__ import annotations

import pytest

from service.changes import sequencing
from service.imports import reading


@pytest.fixture(autouse=True, params=["one slice", "a slice per row"])
def slices(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every import test also runs with each row in a slice of its own.

    A real sheet spans many slices: parents, predecessors and renumbered codes cross their
    boundaries, and events are written before the transaction numbers them. Slices of one
    row make every small test sheet do the same.
    """
    if request.param == "a slice per row":
        monkeypatch.setattr(reading, "ROWS_PER_SLICE", 1)
        monkeypatch.setattr(sequencing, "SLICE", 1)
    return str(request.param)
