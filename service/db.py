"""The declarative base, column types, and the bulk writes every feature shares.

Sessions, the engine and the one commit are service/sessions.py's.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    DateTime,
    Dialect,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
    Update,
    insert,
    select,
    text,
    tuple_,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session

T = TypeVar("T")
# Rows per statement when a request writes or reads many: bounds the memory a statement's
# parameters take, and stays under SQLite's 32,766 parameters per statement.
SLICE = 1000

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Ids of tables that grow without bound (events, deliveries): 64 bits on PostgreSQL; SQLite only
# auto-increments a column declared exactly INTEGER PRIMARY KEY, whose integers are 64-bit anyway.
BigId = BigInteger().with_variant(Integer(), "sqlite")

# Byte order, not the locale's: natural-order sort keys rely on plain code-point comparison,
# and PostgreSQL's default collations ignore the spaces that separate their segments.
BinaryOrderString = String(255).with_variant(String(255, collation="C"), "postgresql")


# How long a SQLite writer waits for another's lock before giving up.
SQLITE_BUSY_TIMEOUT_MS = 30_000


def utcnow() -> datetime:
    return datetime.now(UTC)


def write_unless_locked(session: Session, statement: Update) -> bool:
    """Run a write that may be skipped rather than wait: whether it was done.

    For bookkeeping no caller waits for (a token's last use): behind a long import's lock it
    would hold a quick read for minutes. PostgreSQL skips rows another transaction has
    locked; SQLite, which locks the whole database, is asked not to wait for it.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        table, chosen = statement.table, statement.whereclause
        assert isinstance(table, Table)
        assert chosen is not None, "a write of chosen rows"
        key = table.primary_key.columns
        unlocked = select(*key).where(chosen).with_for_update(skip_locked=True)
        found = connection.execute(statement.where(tuple_(*key).in_(unlocked)))
        return found.rowcount > 0
    raw = connection.connection.dbapi_connection
    if raw is None or raw.in_transaction:
        # The transaction has written already: a failed write could not be undone alone.
        return connection.execute(statement).rowcount > 0
    connection.exec_driver_sql("PRAGMA busy_timeout=0")
    try:
        return connection.execute(statement).rowcount > 0
    except OperationalError as error:
        if "locked" not in str(error.orig):
            raise
        # The failed write left a read snapshot open; once another writer commits, the
        # transaction's own writes would fail at once ("database is locked", no wait). It
        # has written nothing (checked above): end it, and the next statement starts afresh.
        raw.rollback()
        return False
    finally:
        connection.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")


def in_slices(values: Sequence[T], size: int = SLICE) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def insert_rows(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    returning_ids: bool = False,
) -> list[int]:
    """Many rows into one table in the session's transaction; their new ids, in order, if asked.

    On PostgreSQL the rows go in by COPY, with ids drawn from the table's sequence first: an
    INSERT of many rows is parsed again, placeholder by placeholder, by the driver for every
    batch, which made the inserts of an import's items and change events most of its time
    (COPY took 8× less for the same rows). On SQLite, one executemany of the driver's own.
    Either way the values are converted as the columns' types say, once, and handed to the
    driver: SQLAlchemy's per-row parameter processing of an executemany cost more than
    SQLite's inserts.
    """
    if not rows:
        return []
    names = list(rows[0])
    if any(len(row) != len(names) or any(name not in row for name in names) for row in rows):
        raise ValueError(f"rows for {table.name} name different columns")
    # COPY skips the Python-side defaults an INSERT fills in: so that both databases store the
    # same rows, every such column is given, on either.
    defaulted = [c.name for c in table.columns if c.default is not None and c.name not in names]
    if defaulted:
        raise ValueError(f"rows for {table.name} leave out {', '.join(defaulted)}")
    connection = session.connection()
    dialect = connection.dialect
    columns = (["id"] if returning_ids else []) + names
    quote = dialect.identifier_preparer.quote
    listed = f"{quote(table.name)} ({', '.join(quote(name) for name in columns)})"
    if dialect.name != "postgresql":
        # SQLite answers a many-row INSERT … RETURNING in no promised order (SQLAlchemy sent
        # one INSERT per row to keep it). The first row's insert takes the database's one
        # write lock, so no other writer can take the ids after it: the rest go in with those.
        ids: list[int] = []
        if returning_ids:
            first = session.scalar(insert(table).returning(table.c.id), rows[0])
            assert isinstance(first, int)
            ids = list(range(first, first + len(rows)))
        statement = f"INSERT INTO {listed} VALUES ({', '.join('?' for _ in columns)})"
        skip = 1 if returning_ids else 0
        values = _driver_values(table, dialect, columns, rows[skip:], ids[skip:])
        if values:
            connection.exec_driver_sql(statement, values)
        return ids
    ids = []
    if returning_ids:
        ids = list(
            connection.scalars(
                text(
                    "SELECT nextval(pg_get_serial_sequence(:table, 'id')) AS id "
                    "FROM generate_series(1, :count) ORDER BY id"
                ),
                {"table": table.name, "count": len(rows)},
            )
        )
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(f"COPY {listed} FROM STDIN") as copy:
        for row in _driver_values(table, dialect, columns, rows, ids):
            copy.write_row(row)
    return ids


def _driver_values(
    table: Table,
    dialect: Dialect,
    columns: list[str],
    rows: Sequence[Mapping[str, Any]],
    ids: list[int],
) -> list[tuple[Any, ...]]:
    """Each row's values as the driver takes them, in the order of `columns` (the id first,
    from `ids`, when they are given)."""
    processors = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns
    ]
    # Only the columns whose type converts: most values go to the driver as they are.
    converting = [(place, process) for place, process in enumerate(processors) if process]
    names = columns[1:] if ids else columns
    converted = []
    for index, row in enumerate(rows):
        values = [ids[index], *(row[name] for name in names)] if ids else [row[n] for n in names]
        for place, process in converting:
            values[place] = process(values[place])
        converted.append(tuple(values))
    return converted


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on both databases (SQLite hands back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware one is required")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
