"""Retried writes are safe: the same Idempotency-Key and request replay the first answer.

The caller's token is checked first (a revoked or expired one replays nothing), then the body is
spooled to a temporary file while it arrives, never held whole in memory, and the request's
fingerprint (service/idempotency/fingerprint.py) read from it. The key is claimed in the
database (service/idempotency/claims.py), so every process behind a load balancer agrees: a
retry while the first attempt runs is 409, and so is the same key with a different request;
after success the stored answer is replayed with `Idempotent-Replayed: true`. A success's
answer is stored before it is sent, so a retry arriving right after it replays it too.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import IO, Any
from weakref import WeakKeyDictionary

from anyio import to_thread
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api import API_PREFIX
from service.auth import bearer_secret, missing_credentials, verify_before_the_route
from service.errors import (
    PROBLEM_MEDIA_TYPE,
    Conflict,
    FieldError,
    ServiceError,
    ServiceUnavailable,
    Unprocessable,
    problem_responses,
)
from service.idempotency import claims
from service.idempotency.fingerprint import CHUNK, fingerprint
from service.problems import documented_paths, problem_of
from service.sessions import ConnectionGate, run_gated

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
# Visible ASCII: what a header can carry unchanged through every proxy, and what a UUID is.
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
_KEY = re.compile(KEY_PATTERN)
_KEPT_HEADERS = ("content-type", "etag", "location", "link", "content-disposition")
# Bodies and answers stay in memory up to this size, then go to a temporary file.
_IN_MEMORY = 1024 * 1024
# An answer larger than this is not kept for replays (an import of 100,000 rows answers with
# 50 MB): a replay says the request was applied and where to read its result.
STORED_ANSWER_LIMIT = 4 * 1024 * 1024


def _applies(scope: Scope) -> bool:
    return (
        scope["type"] == "http"
        and scope["method"] in ("POST", "PATCH")
        and scope["path"].startswith(API_PREFIX)
        and any(
            scope["method"].lower() in documented.operations
            and documented.pattern.fullmatch(scope["path"])
            for documented in documented_paths(scope["app"])
        )
    )


def _key_error() -> Unprocessable:
    return Unprocessable(
        f"{HEADER} must be 1 to 255 visible ASCII characters (a UUID, say)",
        errors=[
            FieldError(
                loc=["header", HEADER],
                field=HEADER,
                message="1 to 255 visible ASCII characters",
                type="value_error",
            )
        ],
    )


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _applies(scope):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        key = headers.get(HEADER)
        if key is None:
            await self.app(scope, receive, send)
            return
        if not _KEY.fullmatch(key):
            await _problem(_key_error(), scope, receive, send)
            return
        state = scope["app"].state
        secret = bearer_secret(headers.get("authorization"))
        try:
            if secret is None:
                raise missing_credentials()
            # Before the body is read and before any replay: a revoked token replays nothing.
            await verify_before_the_route(scope, secret)
        except ServiceError as error:
            await _problem(error, scope, receive, send)
            return
        except SQLAlchemyError:
            await _problem(_unavailable(), scope, receive, send)
            return
        with tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY) as body:
            if not await _spool(receive, body):
                return  # the client went away
            await self._handle(scope, receive, send, state, secret, key, body)

    async def _handle(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        state: Any,
        secret: str,
        key: str,
        body: IO[bytes],
    ) -> None:
        headers = Headers(scope=scope)
        request_print = await to_thread.run_sync(
            fingerprint,
            scope["method"],
            scope["path"],
            scope.get("query_string", b""),
            headers.get("content-type", ""),
            body,
        )
        try:
            found = await run_gated(
                state.connection_gate,
                claims.claim,
                state.session_factory,
                _scope_of(secret),
                key,
                request_print,
                state.settings.idempotency_hours,
            )
        except SQLAlchemyError:
            await _problem(_unavailable(), scope, receive, send)
            return
        if found.outcome == "new":
            assert found.held is not None
            await self._run(scope, receive, send, state, body, found.held)
            return
        await _answer_settled(found, key, scope, receive, send)

    async def _run(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        state: Any,
        body: IO[bytes],
        held: claims.Held,
    ) -> None:
        with tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY) as kept:
            answer = _Answer(kept)
            token = claims.current_claim.set(held)
            try:
                async with _heartbeat(state, held):
                    await self.app(scope, _replay(body, receive), answer.capture)
            finally:
                claims.current_claim.reset(token)
                await _settle(state, held, answer)
            await answer.send(send)


def _scope_of(secret: str) -> str:
    """Keys of different callers never meet: each caller's keys are its own."""
    return hashlib.sha256(secret.encode()).hexdigest()


async def _spool(receive: Receive, body: IO[bytes]) -> bool:
    """The request body into `body` as it arrives; False if the client disconnected."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return False
        chunk = message.get("body", b"")
        if chunk:
            await to_thread.run_sync(body.write, chunk)
        if not message.get("more_body", False):
            return True


def _replay(body: IO[bytes], receive_more: Receive) -> Receive:
    """A receive handing the spooled body to the app again, a chunk at a time.

    Once it is all handed over, the client's own receive answers: it waits until the client
    really leaves, as an app listening for a disconnect (a streamed answer) expects.
    """
    body.seek(0)
    finished = False

    async def receive() -> Message:
        nonlocal finished
        if finished:
            return await receive_more()
        chunk = await to_thread.run_sync(body.read, CHUNK)
        more = bool(chunk) and body.tell() < _size(body)
        finished = not more
        return {"type": "http.request", "body": chunk, "more_body": more}

    return receive


def _size(file: IO[bytes]) -> int:
    here = file.tell()
    end = file.seek(0, 2)
    file.seek(here)
    return end


@dataclass
class _Answer:
    """The app's answer, held (spooled) until the claim is settled, then sent."""

    file: IO[bytes]
    start: Message | None = None
    size: int = 0

    async def capture(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
        elif message["type"] == "http.response.body":
            chunk = message.get("body", b"")
            self.size += len(chunk)
            await to_thread.run_sync(self.file.write, chunk)

    @property
    def status(self) -> int:
        return int(self.start["status"]) if self.start else 500

    def header(self, name: str) -> str | None:
        for raw_name, raw_value in (self.start or {}).get("headers", []):
            if raw_name.decode("latin-1").lower() == name:
                return str(raw_value.decode("latin-1"))
        return None

    def kept_headers(self) -> list[list[str]]:
        return [
            [raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")]
            for raw_name, raw_value in (self.start or {}).get("headers", [])
            if raw_name.decode("latin-1").lower() in _KEPT_HEADERS
        ]

    def body(self) -> bytes:
        self.file.seek(0)
        return self.file.read()

    async def send(self, send: Send) -> None:
        if self.start is None:
            return
        await send(self.start)
        self.file.seek(0)
        while True:
            chunk = await to_thread.run_sync(self.file.read, CHUNK)
            more = bool(chunk) and self.file.tell() < self.size
            await send({"type": "http.response.body", "body": chunk, "more_body": more})
            if not more:
                return


async def _settle(state: Any, held: claims.Held, answer: _Answer) -> None:
    """Keep a success's answer before it is sent; let the key go after a failure."""
    gate: ConnectionGate = state.connection_gate
    factory: sessionmaker[Session] = state.session_factory
    try:
        if 200 <= answer.status < 300:
            # An answer carrying a secret says so with Cache-Control: no-store; it is kept
            # without its body, as is one too large to keep.
            secret = "no-store" in (answer.header("cache-control") or "")
            body = None if secret or answer.size > STORED_ANSWER_LIMIT else answer.body()
            await run_gated(
                gate, claims.complete, factory, held, answer.status, answer.kept_headers(), body
            )
        else:
            await run_gated(gate, claims.release, factory, held)
    except SQLAlchemyError as error:
        # The database went away: the claim falls silent, and the next retry takes it over
        # (or, if the request was applied, hears that it was).
        log.warning("idempotency claim %s not settled: %s", held.record_id, type(error).__name__)


class _Heartbeats:
    """The claims a process's attempts run, renewed together every few seconds."""

    def __init__(self) -> None:
        self.running: dict[int, claims.Held] = {}
        self.task: asyncio.Task[None] | None = None

    async def beat(self, state: Any) -> None:
        while self.running:
            await asyncio.sleep(claims.HEARTBEAT.total_seconds())
            if not self.running:
                return
            try:
                await run_gated(
                    state.connection_gate,
                    claims.renew,
                    state.session_factory,
                    list(self.running.values()),
                )
            except SQLAlchemyError:
                continue  # the next beat tries again; claims fall silent meanwhile


_BY_LOOP: WeakKeyDictionary[asyncio.AbstractEventLoop, _Heartbeats] = WeakKeyDictionary()


@asynccontextmanager
async def _heartbeat(state: Any, held: claims.Held) -> AsyncIterator[None]:
    loop = asyncio.get_running_loop()
    beats = _BY_LOOP.setdefault(loop, _Heartbeats())
    beats.running[held.record_id] = held
    if beats.task is None or beats.task.done():
        beats.task = loop.create_task(beats.beat(state))
    try:
        yield
    finally:
        beats.running.pop(held.record_id, None)


async def _answer_settled(
    found: claims.Claim, key: str, scope: Scope, receive: Receive, send: Send
) -> None:
    if found.outcome == "replay":
        response = Response(found.body or b"", status_code=found.status or 200)
        for name, value in found.headers or []:
            response.headers[name] = value
        response.headers[REPLAYED] = "true"
        await response(scope, receive, send)
        return
    if found.outcome == "mismatch":
        # A conflict with what the server holds, not a malformed request: the key is well
        # formed, and already names another request of the caller's.
        error: ServiceError = Conflict(
            f"{HEADER} {key!r} already names a different request of yours; "
            "use a new key for a new request",
            errors=[
                FieldError(
                    loc=["header", HEADER],
                    field=HEADER,
                    message="already used with a different request",
                    type="idempotency_mismatch",
                )
            ],
        )
    elif found.outcome == "withheld":
        location = dict(found.headers or []).get("location")
        error = Conflict(
            f"the first request with {HEADER} {key!r} was applied (it answered "
            f"{found.status}); its answer is not kept, because it held a secret shown only "
            "once (such as a new token) or was too large to keep"
            + (f"; read the result at {location}" if location else ""),
            headers={"Location": location} if location else None,
            extra={"replayed_status": found.status},
        )
    elif found.outcome == "applied":
        error = Conflict(
            f"the first request with {HEADER} {key!r} was applied and its answer is being "
            "kept; retry shortly for it",
            headers={"Retry-After": "1"},
        )
    else:
        error = Conflict(
            f"a request with {HEADER} {key!r} is still being processed; retry shortly",
            headers={"Retry-After": "1"},
        )
    await _problem(error, scope, receive, send)


def _unavailable() -> ServiceUnavailable:
    return ServiceUnavailable(
        "the database did not answer; nothing was changed, retry shortly",
        headers={"Retry-After": "2"},
    )


async def _problem(error: ServiceError, scope: Scope, receive: Receive, send: Send) -> None:
    await problem_of(error)(scope, receive, send)


def document(openapi: dict[str, Any]) -> None:
    """Every POST and PATCH under /api/v1 takes the header; say so in the contract."""
    parameter = {
        "name": HEADER,
        "in": "header",
        "required": False,
        "description": "Any unique string per logical request (a UUID). A retry with the same key "
        "and request replays the first answer without applying it again.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": KEY_PATTERN},
    }
    replayed = {
        REPLAYED: {
            "description": "`true` when this is the stored answer to an earlier request.",
            "schema": {"type": "string", "enum": ["true"]},
        }
    }
    for path, item in openapi.get("paths", {}).items():
        if not path.startswith(API_PREFIX):
            continue
        for method, operation in item.items():
            if method not in ("post", "patch"):
                continue
            operation.setdefault("parameters", []).append(parameter)
            for status, response in operation.get("responses", {}).items():
                if status.startswith("2"):
                    response.setdefault("headers", {}).update(replayed)
            responses = operation.setdefault("responses", {})
            if "409" not in responses:
                described = problem_responses(409)[409]
                responses["409"] = {
                    "description": described["description"],
                    "content": {
                        PROBLEM_MEDIA_TYPE: {
                            "schema": {"$ref": "#/components/schemas/Problem"},
                            **described["content"][PROBLEM_MEDIA_TYPE],
                        }
                    },
                }
