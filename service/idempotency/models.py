from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, utcnow


class IdempotencyKey(Base):
    """A write a client may retry: claimed before it runs, its answer kept for replays."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("scope", "key"),
        Index("ix_idempotency_keys_expires_at", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 of the caller's credentials: keys of different callers never meet.
    scope: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    # Each attempt that runs the request takes the next number; only the attempt holding the
    # current one may apply it, so a retry that takes over can never apply it twice.
    attempt: Mapped[int] = mapped_column(default=1)
    # Set in the attempt's own transaction: the request's writes and this commit together.
    applied: Mapped[bool] = mapped_column(default=False)
    # The attempt's process says it is alive every few seconds; a claim that stops hearing
    # from it belongs to an attempt that died, and a retry may take it over at once.
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed: Mapped[bool] = mapped_column(default=False)
    # The answer held a secret shown once (a new token): kept without its body.
    withheld: Mapped[bool] = mapped_column(default=False)
    status_code: Mapped[int | None]
    headers: Mapped[Any] = mapped_column(JSON, nullable=True)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
