"""What a request may cost before it is known to be anyone's: its body, bounded as it arrives.

A JSON body is capped at `WBS_MAX_JSON_BODY_MB`, an upload at `WBS_IMPORT_MAX_UPLOAD_MB` (and
a little for its form fields): 413 at once when Content-Length says more, and as soon as the
stream passes the cap when it does not. A request without an `Authorization: Bearer` header
is refused before its body is read; one whose body may be large (over 64 KiB, or of unknown
length) has its token checked before a byte of the body is read, so nobody without valid
credentials can make the server read more than that.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from importers.sources import MiB
from service.api import API_PREFIX
from service.auth import bearer_secret, missing_credentials, verify_before_the_route
from service.errors import PayloadTooLarge, ServiceError, ServiceUnavailable
from service.idempotency.fingerprint import media_type
from service.problems import problem_of

# Bodies up to this size are read before the token is checked, as the handler does it anyway;
# beyond it, or of unknown length, the token is checked first.
SMALL_BODY = 64 * 1024
# An upload's form fields (sheet, mapping, header row) and multipart framing beside its file.
_FORM_ALLOWANCE = MiB


def body_cap(state: Any, content_type: str) -> tuple[int, str]:
    """The largest body this request may send, and what to call it in a refusal."""
    settings = state.settings
    if media_type(content_type) == "multipart/form-data":
        return (
            settings.import_max_upload_mb * MiB + _FORM_ALLOWANCE,
            f"an upload may be at most {settings.import_max_upload_mb} MiB "
            "(WBS_IMPORT_MAX_UPLOAD_MB)",
        )
    return (
        settings.max_json_body_mb * MiB,
        f"a request body may be at most {settings.max_json_body_mb} MiB (WBS_MAX_JSON_BODY_MB)",
    )


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE")
            or not scope["path"].startswith(API_PREFIX)
        ):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        state = scope["app"].state
        cap, rule = body_cap(state, headers.get("content-type", ""))
        declared = _declared_length(headers)
        try:
            secret = bearer_secret(headers.get("authorization"))
            if secret is None:
                raise missing_credentials()
            if declared is not None and declared > cap:
                raise PayloadTooLarge(f"the body is {declared} bytes: {rule}; nothing was read")
            if declared is None or declared > SMALL_BODY:
                await verify_before_the_route(scope, secret)
        except ServiceError as error:
            await _refuse(error, scope, send)
            return
        except SQLAlchemyError:
            await _refuse(
                ServiceUnavailable(
                    "the database did not answer; nothing was changed, retry shortly",
                    headers={"Retry-After": "2"},
                ),
                scope,
                send,
            )
            return
        await _Bounded(self.app, cap, rule)(scope, receive, send)


def _declared_length(headers: Headers) -> int | None:
    try:
        length = int(headers["content-length"])
    except (KeyError, ValueError):
        return None
    return length if length >= 0 else None


class _Bounded:
    """Counts the body as the app reads it; past the cap, the app's answer becomes 413."""

    def __init__(self, app: ASGIApp, cap: int, rule: str) -> None:
        self.app = app
        self.cap = cap
        self.rule = rule
        self.read = 0
        self.exceeded = False
        self.answered = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def bounded_receive() -> Message:
            if self.exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                self.read += len(message.get("body", b""))
                if self.read > self.cap:
                    # Nothing more is read: the app sees the client leave, and its answer,
                    # whatever it makes of that, is replaced by ours.
                    self.exceeded = True
                    return {"type": "http.disconnect"}
            return message

        async def bounded_send(message: Message) -> None:
            if not self.exceeded:
                await send(message)
                return
            if message["type"] == "http.response.start" and not self.answered:
                self.answered = True
                await _refuse(self.too_large(), scope, send)

        try:
            await self.app(scope, bounded_receive, bounded_send)
        except Exception:
            if not self.exceeded:
                raise
        if self.exceeded and not self.answered:
            self.answered = True
            await _refuse(self.too_large(), scope, send)

    def too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"the body passed {self.cap} bytes: {self.rule}; nothing was written"
        )


async def _refuse(error: ServiceError, scope: Scope, send: Send) -> None:
    # The body is not read: the connection cannot carry another request after this one.
    response = problem_of(error, Connection="close")

    async def nothing() -> Message:
        return {"type": "http.disconnect"}

    await response(scope, nothing, send)
