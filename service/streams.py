"""Downloads written while they are sent: rows read a page at a time, never all held at once.

The request's own transaction has ended (and its connection gone back) before a response's
body is sent, so a download reads in a session of its own, holding a connection as long work
does (an import, an export): no quick call's turn, so a long download never queues them.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Callable, Generator
from typing import IO

from anyio import CancelScope, to_thread
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request
from starlette.responses import StreamingResponse

from service.sessions import ConnectionGate

# Bytes a read of a spooled workbook sends at once.
CHUNK = 64 * 1024


def download(
    request: Request,
    produce: Callable[[Session], Generator[bytes]],
    media_type: str,
    filename: str,
) -> StreamingResponse:
    """An attachment whose bytes `produce` makes from the database while they are sent."""
    return StreamingResponse(
        _streamed(request, produce),
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def _streamed(
    request: Request, produce: Callable[[Session], Generator[bytes]]
) -> AsyncIterator[bytes]:
    gate: ConnectionGate = request.app.state.connection_gate
    factory: sessionmaker[Session] = request.app.state.session_factory
    slot = gate.slot(long_work=True)
    await slot.take()
    try:
        session = factory()
        chunks = produce(session)
        try:
            while (chunk := await to_thread.run_sync(next, chunks, None)) is not None:
                yield chunk
        finally:
            with CancelScope(shield=True):  # a client that went away still frees the connection
                await to_thread.run_sync(_close, chunks, session)
    finally:
        slot.give_back()


def _close(chunks: Generator[bytes], session: Session) -> None:
    try:
        chunks.close()
    finally:
        session.close()


def spooled(write: Callable[[IO[bytes]], None]) -> Generator[bytes]:
    """What `write` writes into a temporary file, read back a chunk at a time: for a format
    (XLSX, a zip) whose end must be written before its first bytes can be sent."""
    with tempfile.TemporaryFile() as file:
        write(file)
        file.seek(0)
        while chunk := file.read(CHUNK):
            yield chunk
