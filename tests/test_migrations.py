"""The schema exists only through migrations, and they agree with the models."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect

from service import migrations
from service.models import Base
from tests.conftest import new_database


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


def test_history_is_linear() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrations.alembic_config())
    assert len(script.get_heads()) == 1
    assert all(len(rev._all_down_revisions) <= 1 for rev in script.walk_revisions())
