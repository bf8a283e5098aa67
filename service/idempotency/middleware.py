"""Retried writes are safe: the same Idempotency-Key and body replay the first answer.

The key is claimed in the database before the request runs, so several server processes
behind one load balancer agree on it: a retry while the first attempt still runs is 409, the
same key with a different body is 422, and after success the stored answer is replayed with
`Idempotent-Replayed: true`. Failed attempts release the key, so the client may retry them.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api import API_PREFIX
from service.db import utcnow
from service.errors import (
    PROBLEM_MEDIA_TYPE,
    Conflict,
    FieldError,
    ServiceUnavailable,
    Unprocessable,
    problem_responses,
)
from service.idempotency.models import IdempotencyKey
from service.problems import documented_paths, problem_response
from service.sessions import run_gated

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
_KEPT_HEADERS = ("content-type", "etag", "location", "link", "content-disposition")
# Now and then a claim also sweeps away expired keys, so the table stays small.
_SWEEP_CHANCE = 0.01
# A claim still running after this long belongs to an attempt that died before it could store
# its answer or let the key go (its process was killed, or the database went away under it):
# a retry takes it over rather than hearing 409 until the key expires. Longer than the
# longest import the row cap allows, so no live attempt is ever run twice.
ABANDONED_AFTER = timedelta(minutes=10)


@dataclass
class _Claim:
    outcome: str  # new | replay | mismatch | running
    record_id: int | None = None
    status: int | None = None
    headers: list[list[str]] | None = None
    body: bytes | None = None


def _claim(
    factory: sessionmaker[Session], scope: str, key: str, fingerprint: str, hours: int
) -> _Claim:
    now = utcnow()
    with factory() as session:
        if random.random() < _SWEEP_CHANCE:
            session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at <= now))
        query = select(IdempotencyKey).where(
            IdempotencyKey.scope == scope, IdempotencyKey.key == key
        )
        existing = session.scalar(query)
        if existing is not None and existing.expires_at <= now:
            session.delete(existing)
            session.flush()
            existing = None
        if existing is None:
            record = IdempotencyKey(
                scope=scope,
                key=key,
                fingerprint=fingerprint,
                expires_at=now + timedelta(hours=hours),
            )
            session.add(record)
            try:
                session.commit()
                return _Claim("new", record.id)
            except IntegrityError:
                # Another process claimed the same key a moment ago.
                session.rollback()
                existing = session.scalar(query)
                if existing is None:
                    return _Claim("running")
        session.commit()
        if existing.fingerprint != fingerprint:
            return _Claim("mismatch")
        if existing.completed:
            return _Claim(
                "replay", existing.id, existing.status_code, existing.headers, existing.body
            )
        if existing.created_at > now - ABANDONED_AFTER:
            return _Claim("running")
        # Only the first of several retries arriving together takes an abandoned claim over:
        # the others find it claimed a moment ago.
        taken: CursorResult[Any] = session.execute(  # type: ignore[assignment]
            update(IdempotencyKey)
            .where(
                IdempotencyKey.id == existing.id,
                IdempotencyKey.completed.is_(False),
                IdempotencyKey.created_at <= now - ABANDONED_AFTER,
            )
            .values(created_at=now, expires_at=now + timedelta(hours=hours))
        )
        session.commit()
        return _Claim("new", existing.id) if taken.rowcount == 1 else _Claim("running")


def _finish(
    factory: sessionmaker[Session],
    record_id: int,
    status: int,
    headers: list[list[str]],
    body: bytes,
) -> None:
    with factory() as session:
        record = session.get(IdempotencyKey, record_id)
        if record is None:
            return
        if 200 <= status < 300:
            record.completed = True
            record.status_code = status
            record.headers = headers
            record.body = body
        else:
            # Nothing was done: let the client retry with the same key.
            session.delete(record)
        session.commit()


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in ("POST", "PATCH")
            or not scope["path"].startswith(API_PREFIX)
            or not any(
                scope["method"].lower() in documented.operations
                and documented.pattern.fullmatch(scope["path"])
                for documented in documented_paths(scope["app"])
            )
        ):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        key = headers.get(HEADER)
        if key is None:
            await self.app(scope, receive, send)
            return
        if not 1 <= len(key) <= 255 or not key.isprintable():
            error = Unprocessable(
                f"{HEADER} must be 1 to 255 printable characters",
                errors=[
                    FieldError(
                        loc=["header", HEADER],
                        field=HEADER,
                        message="1 to 255 printable characters",
                        type="value_error",
                    )
                ],
            )
            await _problem(error, scope, receive, send)
            return
        body = await _read_body(receive)
        fingerprint = hashlib.sha256(
            b"\n".join(
                [scope["method"].encode(), scope["path"].encode(), scope.get("query_string", b""),
                 headers.get("content-type", "").encode(), body]
            )
        ).hexdigest()  # fmt: skip
        caller = hashlib.sha256(headers.get("authorization", "").encode()).hexdigest()
        state = scope["app"].state
        try:
            claim = await run_gated(
                state.connection_gate,
                _claim,
                state.session_factory,
                caller,
                key,
                fingerprint,
                state.settings.idempotency_hours,
            )
        except OperationalError:
            await _problem(
                ServiceUnavailable(
                    "the database did not answer; retry shortly", headers={"Retry-After": "2"}
                ),
                scope,
                receive,
                send,
            )
            return
        if claim.outcome == "replay":
            replay = Response(claim.body or b"", status_code=claim.status or 200)
            for name, value in claim.headers or []:
                replay.headers[name] = value
            replay.headers[REPLAYED] = "true"
            await replay(scope, receive, send)
            return
        if claim.outcome == "mismatch":
            error = Unprocessable(
                f"{HEADER} {key!r} was used with a different request; "
                "use a new key for a new request",
                errors=[
                    FieldError(
                        loc=["header", HEADER],
                        field=HEADER,
                        message="reused with a different body",
                        type="idempotency_mismatch",
                    )
                ],
            )
            await _problem(error, scope, receive, send)
            return
        if claim.outcome == "running":
            await _problem(
                Conflict(
                    f"a request with {HEADER} {key!r} is still being processed; retry shortly",
                    headers={"Retry-After": "1"},
                ),
                scope,
                receive,
                send,
            )
            return
        assert claim.record_id is not None
        await self._run(scope, body, send, state, claim.record_id)

    async def _run(self, scope: Scope, body: bytes, send: Send, state: Any, record_id: int) -> None:
        delivered = False

        async def replay_body() -> Message:
            nonlocal delivered
            if delivered:
                return {"type": "http.disconnect"}
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        status = 500
        kept: list[list[str]] = []
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                for raw_name, raw_value in message.get("headers", []):
                    name = raw_name.decode("latin-1").lower()
                    if name in _KEPT_HEADERS:
                        kept.append([name, raw_value.decode("latin-1")])
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_body, capture)
        finally:
            await run_gated(
                state.connection_gate,
                _finish,
                state.session_factory,
                record_id,
                status,
                kept,
                b"".join(chunks),
            )


async def _problem(error: Any, scope: Scope, receive: Receive, send: Send) -> None:
    response = problem_response(
        error.status,
        error.slug,
        error.title,
        error.detail,
        errors=error.errors,
        headers=error.headers,
    )
    await response(scope, receive, send)


def document(openapi: dict[str, Any]) -> None:
    """Every POST and PATCH under /api/v1 takes the header; say so in the contract."""
    parameter = {
        "name": HEADER,
        "in": "header",
        "required": False,
        "description": "Any unique string per logical request (a UUID). A retry with the same key "
        "and body replays the first answer without applying it again.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    }
    replayed = {
        REPLAYED: {
            "description": "`true` when this is the stored answer to an earlier request.",
            "schema": {"type": "string"},
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
