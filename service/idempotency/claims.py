"""Claims on Idempotency-Keys, kept in the database so every process agrees on them.

A request with a key first claims it (its own short transaction). The attempt that holds the
claim marks it applied inside the request's own transaction, so the request's writes and the
mark commit together or not at all (`mark_applied`, called by service/routing.py); its answer
is stored before it is sent, so a retry right after a success replays it.

An attempt's process renews a heartbeat on each claim it runs. A claim that is neither applied
nor heard from belongs to an attempt that died (its process killed, or its transaction lost
with the database): the next retry takes it over at once, with the next attempt number. The
number is what makes taking over safe: an attempt whose number is no longer the claim's cannot
mark it applied, so its writes roll back, and a request is never applied twice.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from service.db import utcnow
from service.errors import Conflict
from service.idempotency.models import IdempotencyKey

# How often a process renews the claims it runs, and how long a silent claim is trusted.
HEARTBEAT = timedelta(seconds=2)
SILENT_AFTER = timedelta(seconds=10)
# Now and then a claim also sweeps away expired keys, so the table stays small.
_SWEEP_CHANCE = 0.01


@dataclass(frozen=True)
class Held:
    """The claim an attempt holds: which row, and its number among the attempts."""

    record_id: int
    attempt: int


# The claim the request being handled holds, if it came with a key: read by mark_applied in
# the handler's worker thread, which runs in a copy of the request's context.
current_claim: ContextVar[Held | None] = ContextVar("current_claim", default=None)


@dataclass(frozen=True)
class Claim:
    outcome: str  # new | replay | withheld | mismatch | running | applied
    held: Held | None = None
    status: int | None = None
    headers: list[list[str]] | None = None
    body: bytes | None = None


def claim(
    factory: sessionmaker[Session], scope: str, key: str, fingerprint: str, hours: int
) -> Claim:
    """Claim the key for a new attempt, or say what earlier attempts left."""
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
                heartbeat_at=now,
                expires_at=now + timedelta(hours=hours),
            )
            session.add(record)
            try:
                session.commit()
                return Claim("new", Held(record.id, record.attempt))
            except IntegrityError:
                # Another process claimed the same key a moment ago.
                session.rollback()
                existing = session.scalar(query)
                if existing is None:
                    return Claim("running")
        session.commit()
        return _settled(session, existing, fingerprint, now, hours)


def _settled(
    session: Session, existing: IdempotencyKey, fingerprint: str, now: datetime, hours: int
) -> Claim:
    if existing.fingerprint != fingerprint:
        return Claim("mismatch")
    if existing.completed:
        if existing.withheld:
            return Claim("withheld", status=existing.status_code, headers=existing.headers)
        return Claim("replay", None, existing.status_code, existing.headers, existing.body)
    if existing.applied:
        return Claim("applied")
    if existing.heartbeat_at > now - SILENT_AFTER:
        return Claim("running")
    # Only the first of several retries arriving together takes a silent claim over: the
    # others find it renewed a moment ago.
    record_id, silent_attempt = existing.id, existing.attempt
    taken: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(IdempotencyKey)
        .where(
            IdempotencyKey.id == record_id,
            IdempotencyKey.attempt == silent_attempt,
            IdempotencyKey.applied.is_(False),
            IdempotencyKey.completed.is_(False),
        )
        .values(
            attempt=silent_attempt + 1,
            heartbeat_at=now,
            expires_at=now + timedelta(hours=hours),
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    if taken.rowcount != 1:
        return Claim("running")
    return Claim("new", Held(record_id, silent_attempt + 1))


def mark_applied(session: Session) -> None:
    """In the request's own transaction: the claim it holds is applied with its writes.

    Refuses (and so rolls the writes back) when a retry has taken the claim over meanwhile.
    """
    held = current_claim.get()
    if held is None:
        return
    marked = session.execute(
        update(IdempotencyKey)
        .where(
            IdempotencyKey.id == held.record_id,
            IdempotencyKey.attempt == held.attempt,
            IdempotencyKey.applied.is_(False),
        )
        .values(applied=True)
    )
    if marked.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(
            "a retry of this request took it over while it ran; nothing of this attempt was "
            "applied: retry with the same Idempotency-Key for the answer",
            headers={"Retry-After": "1"},
        )


def complete(
    factory: sessionmaker[Session],
    held: Held,
    status: int,
    headers: list[list[str]],
    body: bytes | None,
) -> None:
    """Keep a successful attempt's answer for replays; `body` None withholds it (a secret)."""
    with factory() as session:
        session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.id == held.record_id, IdempotencyKey.attempt == held.attempt)
            .values(
                applied=True,
                completed=True,
                withheld=body is None,
                status_code=status,
                headers=headers,
                body=body,
            )
        )
        session.commit()


def release(factory: sessionmaker[Session], held: Held) -> None:
    """Let the key go after an attempt that applied nothing, so the client may retry it."""
    with factory() as session:
        session.execute(
            delete(IdempotencyKey).where(
                IdempotencyKey.id == held.record_id,
                IdempotencyKey.attempt == held.attempt,
                IdempotencyKey.applied.is_(False),
            )
        )
        session.commit()


def renew(factory: sessionmaker[Session], running: Iterable[Held]) -> None:
    """The heartbeat of a process's running claims."""
    now = utcnow()
    with factory() as session:
        for held in running:
            session.execute(
                update(IdempotencyKey)
                .where(
                    IdempotencyKey.id == held.record_id,
                    IdempotencyKey.attempt == held.attempt,
                )
                .values(heartbeat_at=now)
            )
        session.commit()
