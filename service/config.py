"""Settings, read only from the environment (prefix ``WBS_``) and an optional env file."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from importers.sources import Limits, MiB

DEFAULT_DATABASE_URL = "sqlite:///./var/wbs-sync.sqlite3"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WBS_", env_file=".env", extra="ignore")

    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL; SQLite file by default, postgresql+psycopg://… in production.",
    )
    timezone: str = Field(
        "Asia/Tokyo", description="Zone whose calendar day is 'today' for overdue computations."
    )
    db_pool_size: int = Field(
        5,
        ge=1,
        le=200,
        description="Connections per process. Requests beyond pool plus overflow wait their turn.",
    )
    db_max_overflow: int = Field(5, ge=0, le=200, description="Extra connections under bursts.")
    db_busy_requests: int | None = Field(
        None,
        ge=1,
        le=200,
        description="Quick API calls doing database work at once per process; the rest wait "
        "their turn. Default: 2 on SQLite, 4 on PostgreSQL. Imports and exports do not count.",
    )
    auth_failure_limit: int = Field(
        10, ge=1, description="Failed authentications per client per window before 429."
    )
    auth_failure_window_seconds: int = Field(
        60, ge=1, description="Window over which failed authentications are counted."
    )

    max_json_body_mb: int = Field(
        8,
        ge=1,
        le=1024,
        description="Largest JSON request body (a push of 1,000 items is well under 1 MiB).",
    )
    trusted_proxies: str = Field(
        "",
        max_length=2000,
        description="Comma-separated addresses of the proxies or load balancers in front of the "
        "service, whose X-Forwarded-For names the client. Empty: trust none.",
    )

    import_max_upload_mb: int = Field(20, ge=1, le=1024, description="Largest upload accepted.")
    import_max_uncompressed_mb: int = Field(
        200, ge=1, le=8192, description="Largest unpacked size of a workbook (zip bombs)."
    )
    import_max_rows: int = Field(200_000, ge=10, description="Most rows read from one sheet.")
    import_max_columns: int = Field(200, ge=5, description="Most columns read from one sheet.")
    import_max_cell_chars: int = Field(10_000, ge=100, description="Longest text in one cell.")

    changes_max_wait_seconds: float = Field(
        30, ge=0, le=30, description="Longest a change-feed request is held (long poll)."
    )
    idempotency_hours: int = Field(
        24, ge=1, le=24 * 30, description="How long an Idempotency-Key's answer is kept."
    )

    # The pages (service/web): sessions of signed-in browsers, sign-in links, pending uploads.
    web_session_hours: int = Field(
        12, ge=1, le=24 * 30, description="Longest a browser stays signed in."
    )
    web_session_idle_minutes: int = Field(
        120, ge=5, le=24 * 60, description="A browser unused this long is signed out."
    )
    web_sign_in_link_hours: int = Field(
        24, ge=1, le=24 * 14, description="How long a one-time sign-in link works by default."
    )
    web_upload_minutes: int = Field(
        60, ge=5, le=24 * 60, description="How long an uploaded sheet waits for its confirmation."
    )
    web_dates: Literal["western", "era"] = Field(
        "western", description="Dates on pages: 2026年3月31日 (western) or 令和8年3月31日 (era)."
    )
    web_secure_cookies: bool | None = Field(
        None, description="Cookies marked Secure: default when the request came over https."
    )
    web_public_url: str | None = Field(
        None,
        pattern=r"^https?://[^\s/]+(/[^\s]*)?$",
        description="Base URL people open the pages at, for sign-in links; default: the URL "
        "the issuing request came to (http://127.0.0.1:8000 on the command line).",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name such as Asia/Tokyo)"
            ) from exc
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def import_limits(self) -> Limits:
        return Limits(
            max_upload_bytes=self.import_max_upload_mb * MiB,
            max_uncompressed_bytes=self.import_max_uncompressed_mb * MiB,
            max_rows=self.import_max_rows,
            max_columns=self.import_max_columns,
            max_cell_chars=self.import_max_cell_chars,
        )


@lru_cache
def get_settings() -> Settings:
    return Settings()
