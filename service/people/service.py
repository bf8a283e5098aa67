"""People at the pages: one-time sign-in links, browser sessions, where each person last was.

A session acts as one token, so history names the person who signed in, and a token that is
revoked or expires ends its sessions and its unused links at once. No HTTP here.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from service.changes.models import FeedCounter
from service.db import utcnow, write_unless_locked
from service.errors import Conflict
from service.organisations.models import Organisation, OrgKind
from service.people.models import BrowserSession, PendingUpload, SignInLink, Visit
from service.tokens.models import ApiToken
from service.tokens.service import hash_secret, is_usable

LINK_PATH = "/sign-in/link/"
MAX_LINK_HOURS = 24 * 14
# Writing "last seen" on every page view would turn every read into a write.
SEEN_RESOLUTION = timedelta(minutes=1)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def csrf_token(key: str) -> str:
    """The form token of a browser, derived from its cookie: a page shows it, and nobody who
    reads it can work back to the cookie."""
    return hmac.new(key.encode(), b"csrf", hashlib.sha256).hexdigest()


def csrf_matches(key: str, sent: str | None) -> bool:
    return sent is not None and hmac.compare_digest(csrf_token(key), sent)


def link_url(base: str, secret: str) -> str:
    return base.rstrip("/") + LINK_PATH + secret


def may_issue_link(kind: OrgKind, organisation_id: int, token: ApiToken) -> bool:
    """The PMO issues links for anyone; an organisation for its own people's tokens."""
    return kind is OrgKind.pmo or token.organisation_id == organisation_id


def issue_link(
    session: Session, token: ApiToken, issued_by: str, hours: int
) -> tuple[SignInLink, str]:
    """A link for the token's person; its secret is returned once and stored only as a hash."""
    if not 1 <= hours <= MAX_LINK_HOURS:
        raise ValueError(f"a sign-in link works from 1 to {MAX_LINK_HOURS} hours, not {hours}")
    now = utcnow()
    if not is_usable(token.revoked_at, token.expires_at, now):
        raise Conflict.for_field("token_id", "the token is revoked or expired")
    expires_at = now + timedelta(hours=hours)
    if token.expires_at is not None:
        expires_at = min(expires_at, token.expires_at)
    secret = new_secret()
    link = SignInLink(
        secret_hash=hash_secret(secret),
        token_id=token.id,
        issued_by=issued_by,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(link)
    session.flush()
    return link, secret


def use_link(session: Session, secret: str) -> int | None:
    """The token a link signs in as, marking it used; None for a link unknown, used or expired.

    One conditional update: of two processes exchanging the same link at once, one wins.
    """
    now = utcnow()
    token_id = session.scalar(
        update(SignInLink)
        .where(
            SignInLink.secret_hash == hash_secret(secret),
            SignInLink.used_at.is_(None),
            SignInLink.expires_at > now,
        )
        .values(used_at=now)
        .returning(SignInLink.token_id)
    )
    token = session.get(ApiToken, token_id) if token_id is not None else None
    if token is None or not is_usable(token.revoked_at, token.expires_at, now):
        return None
    return token.id


@dataclass(frozen=True)
class SignedIn:
    """A browser session that may be used now, with the person and organisation it acts as."""

    session_id: int
    token_id: int
    token_name: str
    read_only: bool
    organisation_id: int
    organisation_kind: OrgKind
    organisation_code: str
    organisation_name: str
    changes_since: int | None
    previous_visit_at: datetime | None


def _feed_position(session: Session) -> int:
    return session.scalar(select(FeedCounter.last_seq).where(FeedCounter.id == 1)) or 0


def open_session(session: Session, token_id: int, hours: int) -> str:
    """A new session for the token; its secret (the cookie) is returned once.

    Sessions, links and uploads past their time are swept here: signing in is rare enough to
    carry it, and frequent enough that nothing expired piles up.
    """
    now = utcnow()
    for table, column in (
        (BrowserSession, BrowserSession.expires_at),
        (SignInLink, SignInLink.expires_at),
        (PendingUpload, PendingUpload.expires_at),
    ):
        session.execute(delete(table).where(column <= now))
    visit = session.get(Visit, token_id)
    secret = new_secret()
    session.add(
        BrowserSession(
            secret_hash=hash_secret(secret),
            token_id=token_id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=hours),
            changes_since=visit.seen_position if visit else None,
            previous_visit_at=visit.seen_at if visit else None,
        )
    )
    _note_visit(session, token_id, now)
    session.flush()
    return secret


def _note_visit(session: Session, token_id: int, now: datetime) -> None:
    """Remember the feed's position now as where this person was, for their next session."""
    values = {"token_id": token_id, "seen_position": _feed_position(session), "seen_at": now}
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(Visit).values(values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[Visit.token_id],
            set_={"seen_position": statement.excluded.seen_position, "seen_at": now},
        )
    )


_SESSION_BY_HASH = (
    select(
        BrowserSession.id,
        BrowserSession.expires_at,
        BrowserSession.last_seen_at,
        BrowserSession.changes_since,
        BrowserSession.previous_visit_at,
        ApiToken.id.label("token_id"),
        ApiToken.name,
        ApiToken.read_only,
        ApiToken.revoked_at,
        ApiToken.expires_at.label("token_expires_at"),
        Organisation.id.label("organisation_id"),
        Organisation.kind,
        Organisation.code,
        Organisation.name.label("organisation_name"),
    )
    .join(ApiToken, ApiToken.id == BrowserSession.token_id)
    .join(Organisation, Organisation.id == ApiToken.organisation_id)
)


def find_session(session: Session, secret: str, idle: timedelta) -> SignedIn | None:
    now = utcnow()
    row = session.execute(
        _SESSION_BY_HASH.where(BrowserSession.secret_hash == hash_secret(secret))
    ).one_or_none()
    if (
        row is None
        or row.expires_at <= now
        or row.last_seen_at <= now - idle
        or not is_usable(row.revoked_at, row.token_expires_at, now)
    ):
        return None
    if now - row.last_seen_at >= SEEN_RESOLUTION:
        # Bookkeeping nobody waits for: skipped behind a long import's lock, a later page
        # records it.
        seen = update(BrowserSession).where(BrowserSession.id == row.id).values(last_seen_at=now)
        if write_unless_locked(session, seen):
            position = select(FeedCounter.last_seq).where(FeedCounter.id == 1).scalar_subquery()
            visit = (
                update(Visit)
                .where(Visit.token_id == row.token_id)
                .values(seen_position=func.coalesce(position, 0), seen_at=now)
            )
            write_unless_locked(session, visit)
    return SignedIn(
        session_id=row.id,
        token_id=row.token_id,
        token_name=row.name,
        read_only=row.read_only,
        organisation_id=row.organisation_id,
        organisation_kind=row.kind,
        organisation_code=row.code,
        organisation_name=row.organisation_name,
        changes_since=row.changes_since,
        previous_visit_at=row.previous_visit_at,
    )


def close_session(session: Session, session_id: int) -> None:
    session.execute(delete(BrowserSession).where(BrowserSession.id == session_id))
