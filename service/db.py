"""The declarative base, the engine, and the request's session: the one place that commits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from anyio import CancelScope
from sqlalchemy import (
    DateTime,
    Dialect,
    MetaData,
    String,
    Table,
    TypeDecorator,
    Update,
    create_engine,
    event,
    insert,
    select,
    text,
    tuple_,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from service.config import Settings

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


# Byte order, not the locale's: natural-order sort keys rely on plain code-point comparison,
# and PostgreSQL's default collations ignore the spaces that separate their segments.
BinaryOrderString = String(255).with_variant(String(255, collation="C"), "postgresql")


# How long a SQLite writer waits for another's lock before giving up.
SQLITE_BUSY_TIMEOUT_MS = 30_000


def utcnow() -> datetime:
    return datetime.now(UTC)


def create_db_engine(settings: Settings) -> Engine:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
        )
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers proceed while one writer commits; foreign keys are off by default.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


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


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    # Imported here: the change models import Base from this module.
    from service.changes import sequencing

    factory = sessionmaker(engine, expire_on_commit=False)
    sequencing.install(factory)
    return factory


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
    (COPY took 8× less for the same rows). Elsewhere, one executemany.
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
    if dialect.name != "postgresql":
        if returning_ids:
            statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
            return list(session.scalars(statement, rows))
        session.execute(insert(table), rows)
        return []
    ids: list[int] = []
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
    columns = (["id"] if returning_ids else []) + names
    processors = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns
    ]
    quote = dialect.identifier_preparer.quote
    command = f"COPY {quote(table.name)} ({', '.join(quote(name) for name in columns)}) FROM STDIN"
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(command) as copy:
        for index, row in enumerate(rows):
            values = ([ids[index]] if returning_ids else []) + [row[name] for name in names]
            copy.write_row(
                [
                    process(value) if process is not None else value
                    for process, value in zip(processors, values, strict=True)
                ]
            )
    return ids


class ConnectionGate:
    """Lets no more requests hold a database session than the pool has connections, and only a
    few quick ones work at once.

    A request that waits for a pooled connection inside a worker thread holds that thread.
    Once every thread waits so, the requests that do hold connections get no thread to finish
    in and never give them back: the process stops answering (it did, at 100 clients on the
    default pool). Waiting here, on the event loop, holds no thread.

    Quick requests also wait for one of `busy` turns. Their Python work shares one interpreter
    lock, so beyond a few at once (enough to overlap the database's round trips) more threads
    only add switching: with ten, 32 clients cost each GET 40 % more CPU than with two
    (bench/README.md). Long work (imports, exports) takes a connection but no turn, so an hour
    of uploads never queues the quick calls behind it.
    """

    def __init__(self, capacity: int, busy: int | None = None) -> None:
        self.capacity = capacity
        self.busy = min(busy or capacity, capacity)
        # asyncio primitives belong to one event loop; a test may run the app on several.
        self._by_loop: WeakKeyDictionary[
            asyncio.AbstractEventLoop, tuple[asyncio.Semaphore, asyncio.Semaphore]
        ] = WeakKeyDictionary()

    def slot(self, *, long_work: bool = False) -> Slot:
        loop = asyncio.get_running_loop()
        semaphores = self._by_loop.get(loop)
        if semaphores is None:
            semaphores = self._by_loop[loop] = (
                asyncio.Semaphore(self.busy),
                asyncio.Semaphore(self.capacity),
            )
        turns, connections = semaphores
        # A turn before a connection: a quick call waiting for its turn holds no connection,
        # so the calls queued for turns never keep connections from imports and exports.
        return Slot(connections) if long_work else Slot(turns, connections)


class Slot:
    """One request's right to hold a connection (and a turn); lent back while it only waits."""

    def __init__(self, *semaphores: asyncio.Semaphore) -> None:
        self._semaphores = semaphores
        self._held = 0

    async def take(self) -> None:
        try:
            for semaphore in self._semaphores:
                await semaphore.acquire()
                self._held += 1
        except BaseException:
            self.give_back()
            raise

    def give_back(self) -> None:
        while self._held:
            self._held -= 1
            self._semaphores[self._held].release()

    @asynccontextmanager
    async def lent(self) -> AsyncIterator[None]:
        """Give the slot back for the body: for a request that sleeps between queries."""
        self.give_back()
        try:
            yield
        finally:
            await self.take()


async def run_gated(gate: ConnectionGate, function: Callable[..., T], *args: Any) -> T:
    """Blocking database work of its own session, in the thread pool once a connection is free."""
    slot = gate.slot()
    await slot.take()
    try:
        return await run_in_threadpool(function, *args)
    finally:
        slot.give_back()


async def request_session(request: Request) -> AsyncIterator[Session]:
    """One session and transaction per request, committed only when the handler succeeded.

    Used with ``Depends(..., scope="function")`` so the commit runs before the response is
    sent: a commit that fails becomes an error response, never a 200 for unsaved data.
    An async dependency, so that waiting for a slot of the connection gate holds no thread and
    opening the session costs no round trip through the thread pool.
    """
    factory: sessionmaker[Session] = request.app.state.session_factory
    gate: ConnectionGate = request.app.state.connection_gate
    route = request.scope.get("route")
    slot = request.state.db_slot = gate.slot(long_work=getattr(route, "long_work", False))
    await slot.take()
    try:
        session = factory()
        try:
            yield session
        except BaseException:
            with CancelScope(shield=True):  # a cancelled request still gives its connection back
                await run_in_threadpool(_finish, session, commit=False)
            raise
        if session.in_transaction():
            await run_in_threadpool(_finish, session, commit=True)
        else:
            # The handler committed in its own thread (service.routing): closing a session
            # with no transaction touches no connection, so it needs no trip to a thread.
            session.close()
    finally:
        slot.give_back()


def _finish(session: Session, *, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


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
