"""The service's few error kinds, rendered as RFC 9457 problem details."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from fastapi import FastAPI
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://wbs-sync.dev/problems/"


class FieldError(BaseModel):
    """One rejected input, named by where it sits in the request."""

    loc: list[str | int] = Field(description="Path to the value: location, then field names.")
    field: str = Field(description="Dotted name of the offending field.")
    message: str
    type: str = Field(description="Machine-readable error kind.")


class SheetDiagnostic(BaseModel):
    """A problem in an uploaded sheet, where a person finds it in Excel."""

    sheet: str
    row: int = Field(description="Sheet row number (1-based); 0 for the sheet as a whole.")
    column: str | None = Field(description="Column letter, e.g. `E`.")
    value: str | None = Field(description="The cell's text as read.")
    message: str


class StaleEntry(BaseModel):
    code: str
    version: int = Field(description="The version the push was based on.")
    current_version: int | None = Field(description="The version now; null if it is gone.")


class Problem(BaseModel):
    """RFC 9457 problem details."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": PROBLEM_TYPE_BASE + "not-found",
                    "title": "Not found",
                    "status": 404,
                    "detail": "item '1-2' not found in project 3",
                }
            ]
        }
    )

    type: str = Field(description="URI naming the kind of problem.")
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = Field(
        default=None, description="For 422: every rejected field, not only the first."
    )
    current_version: int | None = Field(
        default=None, description="For 412: the version the resource has now."
    )
    sheet_errors: list[SheetDiagnostic] | None = Field(
        default=None, description="For an import: every problem found in the sheet."
    )
    candidates: list[str] | None = Field(
        default=None, description="For an import: the sheets that could be the WBS."
    )
    fields: list[str] | None = Field(
        default=None, description="For 403 on an update: the fields the caller does not own."
    )
    stale: list[StaleEntry] | None = Field(
        default=None, description="For 412 on a bulk push: every entry whose version is stale."
    )


class ServiceError(Exception):
    status: ClassVar[int] = 400
    slug: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"
    description: ClassVar[str] = "The request cannot be processed."

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[FieldError] | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors) if errors else None
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


class Unauthorized(ServiceError):
    status = 401
    slug = "unauthorized"
    title = "Unauthorized"
    description = "No valid bearer token: missing, malformed, expired or revoked."


class Forbidden(ServiceError):
    status = 403
    slug = "forbidden"
    title = "Forbidden"
    description = "The caller may see this resource but not make this change."


class NotFound(ServiceError):
    status = 404
    slug = "not-found"
    title = "Not found"
    description = "No such resource, or none the caller may see."


class PayloadTooLarge(ServiceError):
    status = 413
    slug = "too-large"
    title = "Too large"
    description = (
        "The upload exceeds a size, row, column or cell-length limit; nothing was written."
    )


class UnsupportedMediaType(ServiceError):
    status = 415
    slug = "unsupported-file"
    title = "Unsupported file"
    description = "Not an .xlsx, .xlsm or CSV file, or its contents do not match its name."


class Conflict(ServiceError):
    status = 409
    slug = "conflict"
    title = "Conflict"
    description = "The change conflicts with the current state."


class PreconditionFailed(ServiceError):
    status = 412
    slug = "precondition-failed"
    title = "Precondition failed"
    description = "If-Match names a version that is no longer current."


class Unprocessable(ServiceError):
    status = 422
    slug = "validation-error"
    title = "Validation error"
    description = "The input is invalid; `errors` names every offending field."

    @classmethod
    def for_field(cls, field: str, message: str, kind: str = "value_error") -> Unprocessable:
        return cls(
            f"{field}: {message}",
            errors=[FieldError(loc=["body", field], field=field, message=message, type=kind)],
        )


class TooManyRequests(ServiceError):
    status = 429
    slug = "too-many-requests"
    title = "Too many requests"
    description = "Too many failed authentications from this client; retry after a pause."


class ServiceUnavailable(ServiceError):
    status = 503
    slug = "unavailable"
    title = "Service unavailable"
    description = "The database cannot be reached right now; retry after a pause."


_ERRORS_BY_STATUS: dict[int, type[ServiceError]] = {
    cls.status: cls
    for cls in (
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        PreconditionFailed,
        PayloadTooLarge,
        UnsupportedMediaType,
        Unprocessable,
        TooManyRequests,
        ServiceUnavailable,
    )
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entry documenting each error an operation can answer."""
    documented: dict[int | str, dict[str, Any]] = {}
    for status in sorted({*statuses, 500}):
        error = _ERRORS_BY_STATUS.get(status)
        description = error.description if error else "Unexpected server error."
        slug = error.slug if error else "internal"
        title = error.title if error else "Internal server error"
        documented[status] = {
            "model": Problem,
            "description": description,
            "content": {
                PROBLEM_MEDIA_TYPE: {
                    "example": {
                        "type": PROBLEM_TYPE_BASE + slug,
                        "title": title,
                        "status": status,
                        "detail": description,
                    }
                }
            },
        }
    return documented


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


def _service_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    return problem_response(
        exc.status,
        exc.slug,
        exc.title,
        exc.detail,
        errors=exc.errors,
        headers=exc.headers,
        extra=exc.extra,
    )


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
    error = _ERRORS_BY_STATUS.get(exc.status_code)
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
