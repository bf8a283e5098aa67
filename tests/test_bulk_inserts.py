"""insert_rows: the one bulk insert, COPY on PostgreSQL and executemany elsewhere, same rows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

import pytest
from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from service.changes.models import ChangeEvent, ChangeKind, ChangeSource
from service.db import insert_rows
from tests.conftest import World

_EVENTS = cast(Table, ChangeEvent.__table__)


def _event(code: str, kind: ChangeKind, project_id: int) -> dict[str, object]:
    return {
        "seq": None,
        "project_id": project_id,
        "item_id": 7,
        "item_code": code,
        "kind": kind,
        "actor_organisation_id": None,
        "actor_label": "さくら町/スクリプト",
        "source": ChangeSource.import_,
        "source_id": "3",
        "occurred_at": datetime(2026, 4, 1, 9, 30, tzinfo=UTC),
        "changes": [],
        "field_names": " ",
    }


def test_rows_come_back_as_written_with_their_ids_in_order(db: Session, world: World) -> None:
    project_id = world.projects["a_x"].id
    rows = [_event(f"1-{n}", ChangeKind.created, project_id) for n in range(1, 6)]
    rows[2]["kind"] = ChangeKind.deleted
    rows[0]["changes"] = [["title", None, "移行計画"], ["predecessors", [], ["1"]]]
    rows[1]["changes"] = [["progress", 0, 100]]
    ids = insert_rows(db, _EVENTS, rows, returning_ids=True)
    assert ids == sorted(ids)
    assert len(set(ids)) == 5
    db.commit()
    stored = {event.id: event for event in db.scalars(select(ChangeEvent))}
    assert [stored[i].item_code for i in ids] == [f"1-{n}" for n in range(1, 6)]
    assert stored[ids[2]].kind is ChangeKind.deleted
    assert stored[ids[0]].source is ChangeSource.import_
    assert stored[ids[0]].actor_label == "さくら町/スクリプト"
    assert stored[ids[0]].occurred_at == datetime(2026, 4, 1, 9, 30, tzinfo=UTC)
    assert stored[ids[0]].changes == [["title", None, "移行計画"], ["predecessors", [], ["1"]]]
    assert stored[ids[1]].changes == [["progress", 0, 100]]
    assert stored[ids[2]].changes == []


def test_rows_that_name_different_columns_or_leave_out_a_default_are_refused(
    db: Session, world: World
) -> None:
    project_id = world.projects["a_x"].id
    full = _event("1", ChangeKind.created, project_id)
    short = {name: value for name, value in full.items() if name != "source_id"}
    with pytest.raises(ValueError, match="different columns"):
        insert_rows(db, _EVENTS, [full, short])
    undated = {name: value for name, value in full.items() if name != "occurred_at"}
    with pytest.raises(ValueError, match="leave out occurred_at"):
        insert_rows(db, _EVENTS, [undated])
    assert insert_rows(db, _EVENTS, []) == []
    db.rollback()
    assert db.scalars(select(ChangeEvent)).all() == []
