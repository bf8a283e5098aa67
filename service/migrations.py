"""Running alembic from the application and its command line."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from alembic import command

_PROJECT_ROOT = Path(__file__).resolve().parent.parent


def alembic_config(connection: Connection | None = None) -> Config:
    """alembic.ini beside the working directory, else beside the installed source tree."""
    for candidate in (Path.cwd() / "alembic.ini", _PROJECT_ROOT / "alembic.ini"):
        if candidate.is_file():
            config = Config(str(candidate))
            break
    else:
        raise FileNotFoundError(
            "alembic.ini not found: run from the project folder (or the container's /app)"
        )
    if connection is not None:
        config.attributes["connection"] = connection
        config.attributes["configure_logging"] = False
    return config


@lru_cache
def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("the migration history is empty")
    return head


def upgrade(connection: Connection | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(connection), revision)


def downgrade(connection: Connection | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(connection), revision)
