"""Structured logs: one JSON object per line, each carrying the request id; an access line per
request with the route template, status and duration. Never a token, a query or a body."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service import metrics
from service.problems import documented_path

REQUEST_ID_HEADER = "X-Request-ID"
request_id: ContextVar[str] = ContextVar("request_id", default="-")
access = logging.getLogger("wbs_sync.access")
_ACCESS_FIELDS = ("method", "route", "status", "duration_ms", "client")
# A request id from a proxy is echoed only if it is a plain token; anything else is replaced.
_VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id.get(),
        }
        entry.update(
            {name: getattr(record, name) for name in _ACCESS_FIELDS if hasattr(record, name)}
        )
        # Other named values a line carries: `extra={"fields": {...}}`.
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class QuietStartup(logging.Filter):
    """alembic says at INFO which plugins it set up, each time a process reads the migrations:
    noise at every start. Those lines are debug lines here."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("alembic.runtime.plugins") and record.levelno == logging.INFO:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger().isEnabledFor(logging.DEBUG)
        return True


LOGGING_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": JsonFormatter}},
    "filters": {"quiet_startup": {"()": QuietStartup}},
    "handlers": {
        # A StreamHandler flushes after every record, so each line reaches the pipe (where a
        # container's output goes) as it is written, PYTHONUNBUFFERED or not.
        "stdout": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["quiet_startup"],
            "stream": "ext://sys.stdout",
        }
    },
    "root": {"handlers": ["stdout"], "level": "INFO"},
    "loggers": {
        "uvicorn": {"handlers": [], "propagate": True, "level": "INFO"},
        "uvicorn.error": {"handlers": [], "propagate": True, "level": "INFO"},
        "uvicorn.access": {"handlers": [], "propagate": False, "level": "WARNING"},
        # Its request lines name the full URL, whose path or query a webhook target may keep
        # a credential in; the worker writes its own line per attempt without it.
        "httpx2": {"level": "WARNING"},
        "httpcore2": {"level": "WARNING"},
    },
}


class RequestLogMiddleware:
    """Names each request (X-Request-ID, echoed) and writes its access line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
        current = given if _VALID_ID.fullmatch(given) else uuid.uuid4().hex
        token = request_id.set(current)
        started = time.perf_counter()
        status = 500
        logged = False

        def log_access() -> None:
            nonlocal logged
            if logged:
                return
            logged = True
            seconds = time.perf_counter() - started
            # Included routers know only their own part of the path: ask the spec for the whole.
            found = documented_path(scope["app"], scope["path"]) if "route" in scope else None
            route = (
                found[0] if found else ("/metrics" if scope["path"] == "/metrics" else "unmatched")
            )
            client = scope.get("client")
            access.info(
                "request",
                extra={
                    "method": scope["method"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                    "client": client[0] if client else None,
                },
            )
            metrics.observe_request(
                scope["method"], route, status, seconds, scope["app"].state.engine
            )

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = current
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                # Written before the answer's end leaves: whoever got an answer finds its line,
                # even if the process dies the moment after.
                log_access()
            await send(message)

        metrics.IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            metrics.IN_FLIGHT.dec()
            log_access()
            request_id.reset(token)
