"""The newest feed position, read once per interval for every long poll of the process.

Each held request used to run its own feed query every 250 ms: two hundred waiting scripts
made eight hundred queries a second to learn that nothing had happened, and writers waited
behind them. Now the requests share one read of the position counter per interval, a
request queries the feed again only once the counter has passed what it last saw, and the
requests woken by the same change share one query of the feed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.engine import Engine

from service import metrics
from service.changes.models import FeedCounter
from service.sessions import ConnectionGate, run_gated

T = TypeVar("T")
# Distinct (caller's view, cursor, filter) reads remembered for one position at most.
_MAX_SHARED_READS = 10_000


class FeedHead:
    def __init__(self, engine: Engine, gate: ConnectionGate, interval: float) -> None:
        self._engine = engine
        self._gate = gate
        self.interval = interval
        self._position = 0
        self._read_at = float("-inf")
        self._reading: tuple[asyncio.AbstractEventLoop, asyncio.Future[int]] | None = None
        self._reads: dict[Hashable, tuple[asyncio.AbstractEventLoop, int, asyncio.Future[Any]]] = {}
        self._newest_shared = 0
        # Requests waiting for news right now (an operator's gauge, and what tests wait for).
        self.held = 0

    @property
    def known(self) -> int:
        """The position as last read, without reading: never ahead of the truth."""
        return self._position

    async def current(self) -> int:
        """The position, read at most once per interval however many requests ask."""
        if time.monotonic() - self._read_at < self.interval:
            return self._position
        loop = asyncio.get_running_loop()
        if self._reading is None or self._reading[0] is not loop:
            self._reading = (loop, asyncio.ensure_future(self._read()))
        return await asyncio.shield(self._reading[1])

    async def _read(self) -> int:
        try:
            position = await run_gated(self._gate, self._last_seq)
            self._position = max(self._position, position)
            self._read_at = time.monotonic()
            return self._position
        finally:
            self._reading = None

    def _last_seq(self) -> int:
        with self._engine.connect() as connection:
            return connection.scalar(select(FeedCounter.last_seq).where(FeedCounter.id == 1)) or 0

    async def shared(self, key: Hashable, position: int, read: Callable[[], Awaitable[T]]) -> T:
        """`read` once for every held request woken by the position reaching `position`.

        When the position moves, every poller of a project wakes at once and asks the same
        question; answered one by one, they queued in front of the writers. A read begun after
        `position` was known sees every event up to it, which is all a woken request waited
        for. A request's first look is never shared: it must see the writes made before it.
        """
        loop = asyncio.get_running_loop()
        entry = self._reads.get(key)
        if entry is None or entry[0] is not loop or entry[1] != position:
            if position > self._newest_shared or len(self._reads) > _MAX_SHARED_READS:
                # Reads for older positions wake nobody any more.
                self._newest_shared = position
                self._reads = {k: v for k, v in self._reads.items() if v[1] >= position}
            future: asyncio.Future[Any] = asyncio.ensure_future(read())
            # A failed read is not shared with those who ask later: they try again.
            future.add_done_callback(
                lambda done: (
                    self._forget(key, done) if done.cancelled() or done.exception() else None
                )
            )
            entry = self._reads[key] = (loop, position, future)
        result: T = await asyncio.shield(entry[2])
        return result

    def _forget(self, key: Hashable, future: asyncio.Future[Any]) -> None:
        if (entry := self._reads.get(key)) is not None and entry[2] is future:
            del self._reads[key]

    async def wait_past(self, seen: int, deadline: float) -> bool:
        """Wait until the position passes `seen` (True) or the deadline comes (False)."""
        self.held += 1
        metrics.LONG_POLLS_HELD.inc()
        try:
            while (left := deadline - time.monotonic()) > 0:
                await asyncio.sleep(min(self.interval, left))
                if await self.current() > seen:
                    return True
            return False
        finally:
            self.held -= 1
            metrics.LONG_POLLS_HELD.dec()
