"""Issuing, finding and revoking bearer tokens."""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import bindparam, case, delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from service.db import utcnow, write_unless_locked
from service.errors import NotFound
from service.organisations.models import Organisation, OrgKind
from service.tokens.models import ApiToken, AuthFailure

TOKEN_PREFIX = "wbs_"
# Updating last use on every request would turn every read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(
    session: Session,
    organisation: Organisation,
    name: str,
    *,
    read_only: bool = False,
    expires_in_days: int | None = None,
) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is never stored or shown again."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    token = ApiToken(
        organisation=organisation,
        name=name,
        token_hash=hash_secret(secret),
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        read_only=read_only,
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    return token, secret


class UsableToken(NamedTuple):
    """A token that may be used now, with what a request needs to know of its organisation."""

    id: int
    name: str
    read_only: bool
    organisation_id: int
    organisation_kind: OrgKind
    organisation_code: str


# Every API request runs this: one plain-row query, built once, no ORM instance to track.
_TOKEN_BY_HASH = (
    select(
        ApiToken.id,
        ApiToken.name,
        ApiToken.read_only,
        ApiToken.organisation_id,
        Organisation.kind,
        Organisation.code,
        ApiToken.token_hash,
        ApiToken.expires_at,
        ApiToken.revoked_at,
        ApiToken.last_used_at,
    )
    .join(Organisation, Organisation.id == ApiToken.organisation_id)
    .where(ApiToken.token_hash == bindparam("digest"))
)


def is_usable(revoked_at: datetime | None, expires_at: datetime | None, now: datetime) -> bool:
    """A token works until it is revoked or expires; so does every session signed in with it."""
    return revoked_at is None and (expires_at is None or expires_at > now)


def find_usable_token(session: Session, secret: str, now: datetime) -> UsableToken | None:
    digest = hash_secret(secret)
    row = session.execute(_TOKEN_BY_HASH, {"digest": digest}).one_or_none()
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    if not is_usable(row.revoked_at, row.expires_at, now):
        return None
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        touch = update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now)
        write_unless_locked(session, touch)  # a later call records it
    return UsableToken(*row[:6])


def list_tokens(
    session: Session,
    *,
    organisation_id: int | None = None,
    after_id: int = 0,
    limit: int | None = None,
) -> list[ApiToken]:
    query = select(ApiToken).where(ApiToken.id > after_id).order_by(ApiToken.id).limit(limit)
    if organisation_id is not None:
        query = query.where(ApiToken.organisation_id == organisation_id)
    return list(session.scalars(query))


def revoke_token(session: Session, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"token {token_id} not found")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    session.flush()
    return token


# Now and then a failure also sweeps away the windows that have ended, so the table stays small.
_SWEEP_CHANCE = 0.01


def count_failure(
    session: Session, client: str, now: datetime, window: timedelta
) -> tuple[int, datetime]:
    """Add a failed authentication to the client's window: the failures so far, and when the
    window started. A window that has ended starts again with this failure.

    One statement, so processes counting the same client at once never lose a count.
    """
    if random.random() < _SWEEP_CHANCE:
        session.execute(delete(AuthFailure).where(AuthFailure.window_started_at <= now - window))
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(AuthFailure).values(client=client, window_started_at=now, failures=1)
    ended = AuthFailure.window_started_at <= now - window
    counted = statement.on_conflict_do_update(
        index_elements=[AuthFailure.client],
        set_={
            "failures": case((ended, 1), else_=AuthFailure.failures + 1),
            "window_started_at": case((ended, now), else_=AuthFailure.window_started_at),
        },
    ).returning(AuthFailure.failures, AuthFailure.window_started_at)
    failures, started = session.execute(counted).one()
    return int(failures), started
