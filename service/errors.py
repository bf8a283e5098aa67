"""The service's few error kinds and how the contract documents them (RFC 9457 problem details).

Rendering them as HTTP answers is service/problems.py's: the domain raises these without
knowing about HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field

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
    mapping: dict[str, str] | None = Field(
        default=None,
        description="For a problem said of a whole column: the `mapping` that reads the sheet "
        "as it is written, to pass with the upload.",
        examples=[{"marks:municipality": "D", "marks:vendor": "E"}],
    )


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

    @classmethod
    def for_field(cls, field: str, message: str, kind: str = "value_error") -> Self:
        """The error, naming the body field it is about."""
        return cls(
            f"{field}: {message}",
            errors=[FieldError(loc=["body", field], field=field, message=message, type=kind)],
        )


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
    description = (
        "No such resource, or none the caller may see: in the path, or named in the body (an "
        "organisation, a parent item, a token); `errors` then names the field."
    )


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
    description = (
        "The change conflicts with the current state: a code already used, a parent or "
        "predecessor that would make a cycle, an Idempotency-Key already naming another request, "
        "a request still running."
    )


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


ERRORS_BY_STATUS: dict[int, type[ServiceError]] = {
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
    # Any operation may meet an unexpected error, or a database that does not answer.
    for status in sorted({*statuses, 500, 503}):
        error = ERRORS_BY_STATUS.get(status)
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
