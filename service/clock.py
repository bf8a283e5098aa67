"""The calendar day overdue is computed for."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo


def today(zone: ZoneInfo) -> date:
    return datetime.now(zone).date()
