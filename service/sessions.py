"""Sessions and their engine, turns at the database, and the one commit of a request.

A request's transaction is committed in one place, `commit`, right after its handler
succeeded and before its answer is sent (service/routing.py calls it in the handler's own
worker thread; service/deps.py for a handler that left its transaction open). Right before
the commit, the change events of the transaction take their feed positions
(service/changes/sequencing.py, installed on every session factory here).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from anyio import to_thread
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, ExceptionContext, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from service.changes import sequencing
from service.config import Settings
from service.db import SQLITE_BUSY_TIMEOUT_MS

T = TypeVar("T")


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
        path = url.database if url.database and url.database != ":memory:" else None
        event.listen(engine, "connect", partial(_configure_sqlite, path))
        if path is not None:
            event.listen(engine, "checkout", partial(_refuse_stale_read_only, path))
            event.listen(engine, "handle_error", _read_only_is_a_lost_connection)
        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )


def _configure_sqlite(path: str | None, dbapi_connection: Any, record: Any) -> None:
    # WAL lets readers proceed while one writer commits; foreign keys are off by default.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()
    # SQLite opens a file it may not write read-only, and such a connection stays read-only
    # however the file changes after: remembered, so it is not used once it could write.
    record.info[_OPENED_READ_ONLY] = path is not None and not os.access(path, os.W_OK)


_OPENED_READ_ONLY = "wbs_opened_read_only"


def _refuse_stale_read_only(path: str, _dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """A connection opened while the file was unwritable is replaced once it is writable.

    A volume remounted read-only for a moment, or a file whose permissions were wrong while
    the pool grew, left connections that failed every write until the process restarted.
    """
    if record.info.get(_OPENED_READ_ONLY) and os.access(path, os.W_OK):
        raise DisconnectionError("opened while the database file was read-only")


def _read_only_is_a_lost_connection(context: ExceptionContext) -> None:
    """A write refused as read-only (or on a full disk) discards the pool's connections, so the
    next request opens fresh ones instead of failing on the same ones until a restart."""
    message = str(context.original_exception).lower()
    if "readonly database" in message or "disk is full" in message or "disk i/o error" in message:
        context.is_disconnect = True


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    factory = sessionmaker(engine, expire_on_commit=False)
    sequencing.install(factory)
    event.listen(factory, "after_commit", _analyze_after_commit)
    event.listen(factory, "after_rollback", _forget_load)
    return factory


# A load is large when it changed at least this many rows and this share of its project's
# items: then the statistics PostgreSQL plans with describe tables that are no longer there
# (successive 1,000-item pushes into new projects slowed from 3.4 s to 15.8 s on a server with
# autovacuum off, until ANALYZE), while the everyday push or re-import of a few hundred
# changes is left to autovacuum. docs/deploy.md.
LARGE_LOAD_ROWS = 1000
LARGE_LOAD_SHARE = 0.2
# What imports and pushes write in bulk.
LOADED_TABLES = ("items", "change_events")
# Where a session keeps the note until its transaction ends.
LARGE_LOAD_NOTE = "wbs_large_load"

log = logging.getLogger(__name__)


def note_load(session: Session, project_id: int, changed: int) -> None:
    """Say that the session's transaction changed this many items of a project: a large load
    has PostgreSQL's statistics of the loaded tables refreshed once it commits."""
    if changed < LARGE_LOAD_ROWS or session.get_bind().dialect.name != "postgresql":
        return
    items = session.execute(
        text("SELECT count(*) FROM items WHERE project_id = :project"), {"project": project_id}
    ).scalar_one()
    if changed >= LARGE_LOAD_SHARE * items:
        session.info[LARGE_LOAD_NOTE] = True


def _analyze_after_commit(session: Session) -> None:
    """ANALYZE the loaded tables once the load is committed, outside its transaction (on a
    connection of its own, in autocommit), so the request's own writes never wait on it. A
    failure is logged, never the request's: its data is saved, only estimates are stale."""
    if not session.info.pop(LARGE_LOAD_NOTE, False):
        return
    try:
        with session.get_bind().engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            for table in LOADED_TABLES:
                connection.exec_driver_sql(f"ANALYZE {table}")
    except Exception:
        log.warning(
            "ANALYZE after a large load failed; autovacuum will refresh the statistics later",
            exc_info=True,
        )


def _forget_load(session: Session) -> None:
    session.info.pop(LARGE_LOAD_NOTE, None)


@contextmanager
def command_session(settings: Settings) -> Iterator[Session]:
    """A session of a command-line task: an engine of its own, one transaction, committed at the
    end unless the task raised."""
    engine = create_db_engine(settings)
    try:
        with create_session_factory(engine)() as session, session.begin():
            yield session
    finally:
        engine.dispose()


def commit(session: Session) -> None:
    """Commit a request's transaction: the one place that does, once its handler succeeded.

    A commit that fails raises, so the request answers with an error, never a 200 for data
    that was not saved.
    """
    session.commit()


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
        return await to_thread.run_sync(function, *args)
    finally:
        slot.give_back()
