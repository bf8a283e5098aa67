"""The calendar grid of an Excel Gantt sheet (方眼紙 WBS): found in the header, then ignored.

Its columns are headed by days (date cells, day numbers 1–31, 4/1), often under a month row
(2025年4月) and over a weekday row (月 火 水); the bars are drawn in its cells with colour or
■/━. None of it is data the WBS keeps: the task list on its left has the dates.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime

from importers.values import clean_text

# A week's worth of day columns, or a quarter's worth of month columns, makes a grid.
_MIN_DAYS = 7
_MIN_MONTHS = 3
_WEEKDAY = re.compile(r"^[(（]?[月火水木金土日][)）]?(?:曜日?)?$|^(?:mon|tue|wed|thu|fri|sat|sun)$")
_DAY_NUMBER = re.compile(r"^(?:[1-9]|[12]\d|3[01])日?$")
_MONTH_DAY = re.compile(r"^\d{1,2}/\d{1,2}$")
_MONTH = re.compile(r"^(?:(?:令和|平成|R|H)?\d{1,4}年)?\d{1,2}月$|^\d{4}/\d{1,2}$")
_WEEK = re.compile(r"^(?:第?\d{1,2}週|w\d{1,2})$")


def _calendar_kind(value: object) -> str | None:
    """What a header cell says about its column: a day, a weekday, a month, or nothing."""
    if isinstance(value, date):
        return "day"
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return "day" if float(value).is_integer() and 1 <= value <= 31 else None
    text = clean_text(value)
    if text is None:
        return None
    folded = unicodedata.normalize("NFKC", text).casefold().replace(" ", "")
    if _DAY_NUMBER.match(folded) or _MONTH_DAY.match(folded) or _WEEK.match(folded):
        return "day"
    if _WEEKDAY.match(folded):
        return "weekday"
    if _MONTH.match(folded):
        return "month"
    return None


def _runs(flags: Sequence[bool]) -> list[range]:
    found, start = [], None
    for index, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = index
        elif not flag and start is not None:
            found.append(range(start, index))
            start = None
    return found


def find_grid(rows: Sequence[Sequence[object]]) -> range:
    """The columns of the calendar grid among these header rows; an empty range if none.

    A grid is the widest run of adjacent columns headed by days or weekdays in one row (a week
    at least), or by months (three at least); a month row merged above a day row counts the
    day row's columns.
    """
    best = range(0)
    for row in rows:
        kinds = [_calendar_kind(value) for value in row]
        for wanted, least in ((("day", "weekday"), _MIN_DAYS), (("month",), _MIN_MONTHS)):
            for run in _runs([kind in wanted for kind in kinds]):
                if len(run) >= least and len(run) > len(best):
                    best = run
    return best


def describe_grid(rows: Sequence[Sequence[object]], grid: range) -> str:
    """The grid as a person would name it: its first and last day, and how wide it is."""
    days = [
        value.date() if isinstance(value, datetime) else value
        for row in rows
        for value in row[grid.start : grid.stop]
        if isinstance(value, date)
    ]
    span = f" {min(days):%Y-%m-%d} – {max(days):%Y-%m-%d}," if days else ""
    return f"the Gantt chart's calendar,{span} {len(grid)} columns"
