"""Bearer tokens: the scheme, finding the caller, and the failed-authentication limiter.

What a caller may see and change is service/access.py's.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request
from starlette.types import Scope

from service.access import Caller
from service.db import utcnow
from service.errors import Forbidden, TooManyRequests, Unauthorized
from service.sessions import commit, run_gated
from service.tokens.service import count_failure, find_usable_token

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearerAuth",
    description="An API token issued by `wbs-sync token create` or `POST /api/v1/tokens`.",
)


class FailedAuthLimiter:
    """Slows down guessing without locking anyone else out.

    Only a token that was looked up and not found counts as a failure; missing credentials do
    not. A valid token is never refused, whoever else failed from the same address (a town's
    office, a prefecture's gateway). Failures are counted per client in the database
    (service/tokens/service.count_failure), so the limit holds across every process and host;
    until it, the answers are 401, then 429 with Retry-After until the client's window ends.
    """

    def __init__(self, limit: int, window_seconds: int) -> None:
        self.limit = limit
        self.window = timedelta(seconds=window_seconds)
        # Clients known to be over the limit, until when: their further guesses need no write.
        self._blocked: dict[str, datetime] = {}

    def failed(self, session: Session, client: str) -> int | None:
        """Count a failure in the session's transaction: seconds to wait if over the limit."""
        now = utcnow()
        until = self._blocked.get(client)
        if until is not None and until > now:
            return _seconds(until - now)
        failures, started = count_failure(session, client, now, self.window)
        if failures <= self.limit:
            return None
        if len(self._blocked) > 100_000:
            # A flood from many addresses must not grow memory without bound.
            self._blocked.clear()
        self._blocked[client] = started + self.window
        return _seconds(started + self.window - now)


def _seconds(left: timedelta) -> int:
    return max(1, math.ceil(left.total_seconds()))


def client_key(request: Request) -> str:
    return client_key_of_scope(request.scope)


def client_key_of_scope(scope: Scope) -> str:
    """Whom failures are counted against: the address, or its /64 for IPv6.

    The address is the connection's, or the one a proxy named in X-Forwarded-For when the
    proxy is among those the deployment trusts (`WBS_TRUSTED_PROXIES`, docs/deploy.md).
    """
    client = scope.get("client")
    host = client[0] if client else "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:64]
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


CHALLENGE = 'Bearer realm="wbs-sync"'


def check_token(
    session: Session, secret: str, client: str, limiter: FailedAuthLimiter, *, for_writing: bool
) -> Caller:
    """The caller a bearer token names, or 401 (429 past the limit) for one that names nobody.

    A failure is counted and committed at once: the request's transaction, which has done
    nothing else yet, would otherwise roll the count back with the refused request.
    """
    token = find_usable_token(session, secret, utcnow())
    if token is None:
        wait = limiter.failed(session, client)
        commit(session)
        if wait is not None:
            raise TooManyRequests(
                "too many failed authentications from this address; retry later",
                headers={"Retry-After": str(wait)},
            )
        raise Unauthorized(
            "the token is unknown, expired or revoked",
            headers={"WWW-Authenticate": f'{CHALLENGE}, error="invalid_token"'},
        )
    if for_writing and token.read_only:
        raise Forbidden("this token is read-only")
    return Caller(
        organisation_id=token.organisation_id,
        organisation_kind=token.organisation_kind,
        organisation_code=token.organisation_code,
        token_id=token.id,
        token_name=token.name,
        read_only=token.read_only,
    )


def verify_token(
    factory: sessionmaker[Session], secret: str, client: str, limiter: FailedAuthLimiter
) -> Caller:
    """`check_token` in a transaction of its own: for middleware that must know the caller
    before it reads a body or replays an answer."""
    with factory() as session:
        caller = check_token(session, secret, client, limiter, for_writing=False)
        commit(session)  # the token's last use
        return caller


async def verify_before_the_route(scope: Scope, secret: str) -> Caller:
    """The caller, for a middleware that must know it before it reads a body or replays."""
    state = scope["app"].state
    return await run_gated(
        state.connection_gate,
        verify_token,
        state.session_factory,
        secret,
        client_key_of_scope(scope),
        state.auth_limiter,
    )


def bearer_secret(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None for anything else."""
    scheme, _, secret = (authorization or "").partition(" ")
    secret = secret.strip()
    return secret if scheme.lower() == "bearer" and secret else None


def missing_credentials() -> Unauthorized:
    return Unauthorized(
        "an 'Authorization: Bearer <token>' header is required",
        headers={"WWW-Authenticate": CHALLENGE},
    )


@dataclass(frozen=True)
class TokenToCheck:
    """A bearer token of the right shape, whose caller is found later, in the handler's thread.

    Looking the token up in a dependency of its own cost every call a trip through the
    thread pool (FastAPI runs a synchronous dependency in one), as much CPU as the lookup's
    query (bench/README.md, "HTTP ceiling"). What needs no database is checked at once; the
    lookup runs in the handler's own trip (service.routing), with the handler's session.
    """

    secret: str
    client: str
    limiter: FailedAuthLimiter
    for_writing: bool = False

    def caller(self, session: Session) -> Caller:
        return check_token(
            session, self.secret, self.client, self.limiter, for_writing=self.for_writing
        )


async def bearer_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> TokenToCheck:
    # A coroutine: it reads no database, and a synchronous dependency would cost a trip
    # through the thread pool.
    if credentials is None or credentials.scheme.lower() != "bearer":
        # Not a guess: nothing is counted, and the answer is always 401.
        raise missing_credentials()
    return TokenToCheck(
        credentials.credentials, client_key(request), request.app.state.auth_limiter
    )
