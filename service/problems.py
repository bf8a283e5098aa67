"""Error kinds rendered as RFC 9457 problem details, and the handlers that do it."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from service.errors import (
    ERRORS_BY_STATUS,
    PROBLEM_MEDIA_TYPE,
    PROBLEM_TYPE_BASE,
    FieldError,
    ServiceError,
    ServiceUnavailable,
    Unprocessable,
)

log = logging.getLogger(__name__)


def problem_response(
    status: int,
    slug: str,
    title: str,
    detail: str,
    *,
    errors: Sequence[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = [e.model_dump() for e in errors]
    body.update(extra or {})
    return JSONResponse(
        jsonable_encoder(body),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=dict(headers or {}),
    )


def problem_of(error: ServiceError, **headers: str) -> JSONResponse:
    """The error's answer, for a handler or a middleware that refuses before any route."""
    return problem_response(
        error.status,
        error.slug,
        error.title,
        error.detail,
        errors=error.errors,
        headers={**error.headers, **headers},
        extra=error.extra,
    )


def _service_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    return problem_of(exc)


def _field_errors(raw: Sequence[Any]) -> list[FieldError]:
    errors = []
    for error in raw:
        loc = [part if isinstance(part, int) else str(part) for part in error.get("loc", ())]
        field = ".".join(str(part) for part in loc[1:]) or ".".join(str(p) for p in loc)
        if error.get("type") == "json_invalid":
            field = "body"
        errors.append(
            FieldError(
                loc=loc, field=field, message=str(error.get("msg")), type=str(error.get("type"))
            )
        )
    return errors


def _validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = _field_errors(exc.errors())
    names = ", ".join(dict.fromkeys(e.field for e in errors))
    return problem_response(
        422, Unprocessable.slug, Unprocessable.title, f"invalid input: {names}", errors=errors
    )


def path_template_pattern(template: str) -> re.Pattern[str]:
    """`/projects/{project_id}/items` → a pattern matching its concrete paths."""
    return re.compile(re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template)))


@dataclass(frozen=True)
class DocumentedPath:
    template: str
    pattern: re.Pattern[str]
    operations: dict[str, Any]


def documented_paths(app: Any) -> list[DocumentedPath]:
    """Every path template the API documents, the most literal first.

    Built once per application: every request's access line and idempotency check looks here.
    """
    found: list[DocumentedPath] | None = getattr(app.state, "documented_paths", None)
    if found is None:
        found = sorted(
            (
                DocumentedPath(template, path_template_pattern(template), operations)
                for template, operations in app.openapi().get("paths", {}).items()
            ),
            key=lambda documented: documented.template.count("{"),
        )
        app.state.documented_paths = found
    return found


def documented_path(app: Any, path: str) -> tuple[str, dict[str, Any]] | None:
    """The documented path template a concrete path belongs to, and its operations.

    /items/bulk is its own resource, not the item coded "bulk": the most literal template wins.
    """
    for documented in documented_paths(app):
        if documented.pattern.fullmatch(path):
            return documented.template, documented.operations
    return None


def allowed_methods(request: Request) -> list[str]:
    """Every method the API documents for the request's path.

    Starlette's own Allow header names only the first route that matched the path.
    """
    found = documented_path(request.app, request.url.path)
    return sorted(method.upper() for method in found[1]) if found else []


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    error = ERRORS_BY_STATUS.get(exc.status_code)
    slug = error.slug if error else f"http-{exc.status_code}"
    title = error.title if error else str(exc.detail)
    detail = str(exc.detail)
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        detail = "no such resource"
    if exc.status_code == 400:
        # A body that is not even JSON (or form data) is invalid input like any other.
        return problem_response(
            422,
            Unprocessable.slug,
            Unprocessable.title,
            f"the request body cannot be read: {detail}",
            errors=[FieldError(loc=["body"], field="body", message=detail, type="body_unreadable")],
        )
    if exc.status_code == 405:
        allowed = allowed_methods(request)
        headers["Allow"] = ", ".join(allowed)
        detail = f"{request.method} is not supported here; use {', '.join(allowed)}"
    return problem_response(exc.status_code, slug, title, detail, headers=headers)


def _database_unavailable(_request: Request, exc: Exception) -> Response:
    log.warning("database unavailable: %s", type(exc).__name__)
    return problem_response(
        503,
        ServiceUnavailable.slug,
        ServiceUnavailable.title,
        "the database did not answer; nothing was changed, retry shortly",
        headers={"Retry-After": "2"},
    )


def _unexpected(_request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", exc_info=exc)
    return problem_response(
        500, "internal", "Internal server error", "an unexpected error occurred; nothing was saved"
    )


def _database_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DBAPIError)
    if exc.connection_invalidated or isinstance(exc, OperationalError):
        return _database_unavailable(request, exc)
    return _unexpected(request, exc)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(Exception, _unexpected)
