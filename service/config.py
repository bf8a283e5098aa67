"""Settings, read only from the environment (prefix ``WBS_``) and an optional env file."""

from __future__ import annotations

import base64
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from importers.sources import Limits, MiB

DEFAULT_DATABASE_URL = "sqlite:///./var/wbs-sync.sqlite3"


class Settings(BaseSettings):
    # Inputs are kept out of the error's text, where a mistyped secret key would show; the CLI
    # names the others' values itself (service.cli).
    model_config = SettingsConfigDict(
        env_prefix="WBS_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

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
    # Tokens are 256-bit secrets, which no rate of guessing finds: the limit bounds what a flood
    # of wrong tokens costs (a lookup and a count each), so it can be generous enough that a
    # misconfigured script or a fuzzer's probes behind one address are never cut off.
    auth_failure_limit: int = Field(
        1000, ge=1, description="Failed authentications per client per window before 429."
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

    # Webhooks, chat and mail deliveries, reminders (docs/webhooks.md).
    secret_key: SecretStr | None = Field(
        None,
        description="Fernet keys, comma-separated, that encrypt stored secrets; the first "
        "encrypts, all decrypt (key rotation). The same on every process. Default on SQLite: "
        "a key generated once into WBS_SECRET_KEY_FILE.",
    )
    secret_key_file: Path | None = Field(
        None,
        description="Where the generated key is kept when WBS_SECRET_KEY is not set. "
        "Default: secret.key beside the SQLite file.",
    )
    notify_language: Literal["ja", "en"] = Field(
        "ja", description="Language of mails and chat messages a subscription does not choose."
    )
    webhook_allow_http: bool = Field(
        False, description="Allow http:// targets (tests, private deployments)."
    )
    webhook_allow_private_addresses: bool = Field(
        False,
        description="Allow targets that resolve to loopback, private, link-local or metadata "
        "addresses (tests, private deployments).",
    )
    webhook_timeout_seconds: float = Field(
        15, gt=0, le=60, description="A delivery not answered 2xx within this time has failed."
    )
    webhook_retry_schedule: str = Field(
        "0,5,300,1800,7200,18000,36000,36000",
        pattern=r"^\s*\d+(\.\d+)?(\s*,\s*\d+(\.\d+)?)*\s*$",
        description="Seconds before each attempt of a delivery, comma-separated; the first is "
        "the first attempt. Each wait after the first gets up to 20 % jitter.",
    )
    webhook_disable_after_days: float = Field(
        5, gt=0, le=90, description="Days of only failures after which a subscription is disabled."
    )
    webhook_lease_seconds: float = Field(
        60,
        ge=1,
        le=3600,
        description="How long a worker holds a delivery it is sending before another may take "
        "it over; more than a delivery's timeout.",
    )
    webhook_poll_seconds: float = Field(
        0.1, gt=0, le=60, description="How often a worker looks for new events and due retries."
    )
    webhook_log_days: int = Field(
        30, ge=1, le=3650, description="Days finished deliveries are kept in the delivery log."
    )
    webhook_overdue_catch_up_days: int = Field(
        7,
        ge=1,
        le=365,
        description="An item that became overdue at most this many days ago, while no worker "
        "ran, still gets its item.overdue notice.",
    )
    smtp_host: str | None = Field(None, description="Mail server; without it, mail is not sent.")
    smtp_port: int = Field(587, ge=1, le=65535, description="Mail server port.")
    smtp_starttls: bool = Field(True, description="Upgrade the mail connection with STARTTLS.")
    smtp_user: str | None = Field(None, description="Mail server login.")
    smtp_password: SecretStr | None = Field(None, description="Mail server password.")
    smtp_sender: str = Field(
        "wbs-sync@localhost", max_length=254, description="From address of the mails sent."
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
        description="Base URL people open the pages at, for sign-in links and the links in "
        "mails and chat messages; default: the URL the issuing request came to "
        "(http://127.0.0.1:8000 on the command line and in the worker).",
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

    @model_validator(mode="after")
    def _lease_outlasts_a_delivery(self) -> Settings:
        if self.webhook_lease_seconds <= self.webhook_timeout_seconds:
            raise ValueError(
                "WBS_WEBHOOK_LEASE_SECONDS must be longer than WBS_WEBHOOK_TIMEOUT_SECONDS, "
                "or a delivery still being sent could be taken over and sent twice at once"
            )
        return self

    @field_validator("secret_key")
    @classmethod
    def _fernet_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return value
        for part in value.get_secret_value().split(","):
            try:
                if len(base64.urlsafe_b64decode(part.strip().encode())) != 32:
                    raise ValueError
            except ValueError:
                raise ValueError(
                    "each key is 32 bytes in url-safe base64 (`wbs-sync secrets new-key` makes one)"
                ) from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def public_base(self) -> str:
        """Where people open the service, for links made outside a request: mails, chat
        messages, the command line."""
        return self.web_public_url or "http://127.0.0.1:8000"

    @property
    def retry_delays(self) -> tuple[float, ...]:
        return tuple(float(part) for part in self.webhook_retry_schedule.split(","))

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
