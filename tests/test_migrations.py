"""The schema exists only through migrations, and they agree with the models."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text

from service import migrations
from service.models import Base
from tests.conftest import new_database

NOW = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_the_database_is_at_the_newest_revision(engine: Engine) -> None:
    with engine.connect() as connection:
        assert (
            MigrationContext.configure(connection).get_current_revision()
            == migrations.head_revision()
        )


def test_upgrade_downgrade_upgrade(tmp_path: Path) -> None:
    with new_database(tmp_path) as url:
        engine = create_engine(url)
        try:
            with engine.begin() as connection:
                migrations.upgrade(connection)
            assert "items" in inspect(engine).get_table_names()
            with engine.begin() as connection:
                migrations.downgrade(connection, "base")
            assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
            with engine.begin() as connection:
                migrations.upgrade(connection)
            assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
        finally:
            engine.dispose()


def test_field_changes_survive_the_move_into_their_events_and_back(tmp_path: Path) -> None:
    """Revision 0006 folds the per-field rows into each event's document, and unfolds them."""
    fields = (
        "SELECT event_id, field, CAST(old_value AS TEXT), CAST(new_value AS TEXT) "
        "FROM change_fields ORDER BY id"
    )
    with new_database(tmp_path) as url:
        engine = create_engine(url)
        try:
            with engine.begin() as connection:
                migrations.upgrade(connection, "0005")
                connection.execute(
                    text(
                        "INSERT INTO organisations (id, kind, code, name, created_at) VALUES "
                        "(1, 'vendor', 'v', '富士見システム', :now), "
                        "(2, 'municipality', 'm', 'さくら町', :now)"
                    ),
                    {"now": NOW},
                )
                connection.execute(
                    text(
                        "INSERT INTO projects (id, municipality_id, vendor_id, name, version, "
                        "created_at, updated_at) VALUES (1, 2, 1, '住基', 1, :now, :now)"
                    ),
                    {"now": NOW},
                )
                connection.execute(
                    text(
                        "INSERT INTO change_events (id, seq, project_id, item_id, item_code, "
                        "kind, actor_label, source, occurred_at) VALUES "
                        "(1, 1, 1, 10, '1', 'created', 'v/x', 'api', :now), "
                        "(2, 2, 1, 10, '1', 'updated', 'v/x', 'api', :now), "
                        "(3, 3, 1, 10, '1', 'deleted', 'v/x', 'api', :now)"
                    ),
                    {"now": NOW},
                )
                connection.execute(
                    text(
                        "INSERT INTO change_fields (event_id, field, old_value, new_value) "
                        "VALUES (:event, :field, :old, :new)"
                    ),
                    [
                        {"event": 1, "field": "title", "old": "null", "new": '"移行計画"'},
                        {"event": 1, "field": "predecessors", "old": "[]", "new": '["1-1"]'},
                        {"event": 2, "field": "status", "old": '"not_started"', "new": '"done"'},
                        {"event": 2, "field": "progress", "old": "0", "new": "100"},
                    ],
                )
                before = connection.execute(text(fields)).all()
                migrations.upgrade(connection)
                documents = connection.execute(
                    text("SELECT CAST(changes AS TEXT), field_names FROM change_events ORDER BY id")
                ).all()
                assert [(_json(changes), names) for changes, names in documents] == [
                    ([["title", None, "移行計画"], ["predecessors", [], ["1-1"]]], " title predecessors "),
                    ([["status", "not_started", "done"], ["progress", 0, 100]], " status progress "),
                    ([], " "),
                ]  # fmt: skip
                migrations.downgrade(connection, "0005")
                after = connection.execute(text(fields)).all()
                assert [(e, f, _json(o), _json(n)) for e, f, o, n in after] == [
                    (e, f, _json(o), _json(n)) for e, f, o, n in before
                ]
        finally:
            engine.dispose()


def _json(stored: str | None) -> object:
    return None if stored is None else json.loads(stored)


def test_history_is_linear() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrations.alembic_config())
    assert len(script.get_heads()) == 1
    assert all(len(rev._all_down_revisions) <= 1 for rev in script.walk_revisions())
