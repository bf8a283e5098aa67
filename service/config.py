"""Settings, read only from the environment (prefix ``WBS_``) and an optional env file."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    db_pool_size: int = Field(5, ge=1, le=200, description="Connections per process (PostgreSQL).")
    db_max_overflow: int = Field(5, ge=0, le=200, description="Extra connections under bursts.")
    auth_failure_limit: int = Field(
        10, ge=1, description="Failed authentications per client per window before 429."
    )
    auth_failure_window_seconds: int = Field(
        60, ge=1, description="Window over which failed authentications are counted."
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


@lru_cache
def get_settings() -> Settings:
    return Settings()
