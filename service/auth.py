"""Bearer tokens: the scheme, finding the caller, and the failed-authentication limiter.

What a caller may see and change is service/access.py's.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.requests import Request

from service.access import Caller
from service.db import utcnow
from service.errors import Forbidden, TooManyRequests, Unauthorized
from service.tokens.service import find_usable_token

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearerAuth",
    description="An API token issued by `wbs-sync token create` or `POST /api/v1/tokens`.",
)


class FailedAuthLimiter:
    """Slows down guessing: too many failed authentications from one client answer 429.

    Counted per process; behind several processes the effective limit is multiplied by
    their number, which still turns guessing a 256-bit token from hopeless into more so.
    """

    def __init__(self, limit: int, window_seconds: int) -> None:
        self.limit = limit
        self.window = window_seconds
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> int | None:
        now = time.monotonic()
        with self._lock:
            failures = self._failures.get(client)
            if not failures:
                return None
            while failures and failures[0] <= now - self.window:
                failures.popleft()
            if len(failures) < self.limit:
                return None
            return max(1, int(failures[0] + self.window - now) + 1)

    def record_failure(self, client: str) -> None:
        with self._lock:
            self._failures.setdefault(client, deque()).append(time.monotonic())
            if len(self._failures) > 100_000:
                # A flood from many addresses must not grow memory without bound.
                self._failures.clear()


def _client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"


_CHALLENGE = 'Bearer realm="wbs-sync"'


@dataclass(frozen=True)
class TokenToCheck:
    """A bearer token of the right shape, whose caller is found later, in the handler's thread.

    Looking the token up in a dependency of its own cost every call a trip through the
    thread pool (FastAPI runs a synchronous dependency in one), as much CPU as the lookup's
    query (bench/README.md, "HTTP ceiling"). What needs no database is checked at once; the
    lookup runs in the handler's own trip (service.routing), before the handler.
    """

    secret: str
    client: str
    limiter: FailedAuthLimiter
    for_writing: bool = False

    def caller(self, session: Session) -> Caller:
        token = find_usable_token(session, self.secret, utcnow())
        if token is None:
            self.limiter.record_failure(self.client)
            raise Unauthorized(
                "the token is unknown, expired or revoked",
                headers={"WWW-Authenticate": f'{_CHALLENGE}, error="invalid_token"'},
            )
        if self.for_writing and token.read_only:
            raise Forbidden("this token is read-only")
        return Caller(
            organisation_id=token.organisation_id,
            organisation_kind=token.organisation_kind,
            organisation_code=token.organisation_code,
            token_id=token.id,
            token_name=token.name,
            read_only=token.read_only,
        )


async def bearer_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> TokenToCheck:
    # A coroutine: it reads no database, and a synchronous dependency would cost a trip
    # through the thread pool.
    limiter: FailedAuthLimiter = request.app.state.auth_limiter
    client = _client_key(request)
    wait = limiter.retry_after(client)
    if wait is not None:
        raise TooManyRequests(
            "too many failed authentications; retry later", headers={"Retry-After": str(wait)}
        )
    if credentials is None or credentials.scheme.lower() != "bearer":
        limiter.record_failure(client)
        raise Unauthorized(
            "an 'Authorization: Bearer <token>' header is required",
            headers={"WWW-Authenticate": _CHALLENGE},
        )
    return TokenToCheck(credentials.credentials, client, limiter)
