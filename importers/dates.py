"""Dates as vendors write them: date cells, Excel serials, Western and era forms, and the
approximate forms (上旬/中旬/下旬, 月初/月末, a month alone, 年度末) that keep their text.

A start resolves to the first day a form can mean, an end to the last.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum


class Role(Enum):
    start = "start"
    end = "end"


@dataclass(frozen=True)
class Era:
    name: str
    letter: str
    first_day: date
    last_day: date

    def to_western(self, year: int) -> int:
        return self.first_day.year + year - 1


ERAS = (
    Era("令和", "R", date(2019, 5, 1), date(9999, 12, 31)),
    Era("平成", "H", date(1989, 1, 8), date(2019, 4, 30)),
    Era("昭和", "S", date(1926, 12, 25), date(1989, 1, 7)),
)
_ERA_BY_TOKEN = {era.name: era for era in ERAS} | {era.letter: era for era in ERAS}

EXCEL_EPOCH_1900 = datetime(1899, 12, 30)
EXCEL_EPOCH_1904 = datetime(1904, 1, 1)
# Serial numbers outside these bounds are not plausible WBS dates (1954 to 2119).
_SERIAL_RANGE = (20_000, 80_000)


class DateError(ValueError):
    """The text cannot be read as a day; the message says why, in the user's terms."""


@dataclass(frozen=True)
class ParsedDate:
    day: date
    # The original text when it did not name an exact day ("10月下旬"), else None.
    text: str | None


@dataclass
class DateContext:
    """What the dates around a cell tell about one that omits its year or era."""

    era: Era | None = None
    last_day: date | None = None
    # The fiscal year the sheet's title names (令和7年度 WBS): April to December fall in it,
    # January to March in the year after. Used only until a date with a year is read.
    fiscal_year: int | None = None

    @property
    def year(self) -> int | None:
        return self.last_day.year if self.last_day else None

    def year_of(self, month: int) -> int | None:
        if self.last_day is not None:
            return self.last_day.year
        if self.fiscal_year is not None:
            return self.fiscal_year if month >= 4 else self.fiscal_year + 1
        return None

    def remember(self, day: date, era: Era | None) -> None:
        self.last_day = day
        if era is not None:
            self.era = era


_ERA_TOKEN = r"(?P<era>令和|平成|昭和|[RHSrhs])\.?\s*"
_YEAR = r"(?P<year>\d{1,4}|元)"
_SEP = r"\s*[/.\-]\s*"
_PATTERNS = [
    # 2015-10-05, 2015/10/5, 2015.10.5, R7.3.31, H27/10/5
    re.compile(rf"^(?:{_ERA_TOKEN})?{_YEAR}{_SEP}(?P<month>\d{{1,2}}){_SEP}(?P<day>\d{{1,2}})$"),
    # 2015年10月5日, 令和7年3月31日, 28年1月5日, 10月5日, with 上旬/中旬/下旬/初/末 instead of a day
    re.compile(
        rf"^(?:(?:{_ERA_TOKEN})?{_YEAR}\s*年\s*)?(?P<month>\d{{1,2}})\s*月\s*"
        r"(?:(?P<day>\d{1,2})\s*日|(?P<part>上旬|中旬|下旬|初旬|初め|初|頭|末|中))?$"
    ),
    # R7.1月下旬, R7.3月末, H27.10月, R6.4月上旬: a short era year, then the month in words
    re.compile(
        rf"^{_ERA_TOKEN}{_YEAR}{_SEP}(?P<month>\d{{1,2}})\s*月\s*"
        r"(?:(?P<day>\d{1,2})\s*日|(?P<part>上旬|中旬|下旬|初旬|初め|初|頭|末|中))?$"
    ),
    # R6.4, 2015/10 (a month alone: it needs an era or a four-digit year)
    re.compile(rf"^{_ERA_TOKEN}{_YEAR}{_SEP}(?P<month>\d{{1,2}})$"),
    re.compile(rf"^(?P<year>\d{{4}}){_SEP}(?P<month>\d{{1,2}})$"),
    # 令和7年度末, R7年度中, 2025年度, 令和7年度上期
    re.compile(
        rf"^(?:{_ERA_TOKEN})?{_YEAR}\s*年度\s*(?P<fiscal>末|中|内|上期|下期|当初|初め|初)?$"
    ),
    # 3/31 (no year)
    re.compile(r"^(?P<month>\d{1,2})\s*/\s*(?P<day>\d{1,2})$"),
]
_WEEKDAY = re.compile(r"\s*[(（][月火水木金土日祝][)）]\s*")
_THIRDS = {"上旬": (1, 10), "初旬": (1, 10), "中旬": (11, 20), "下旬": (21, 31)}


def _normalise(text: str) -> str:
    cleaned = unicodedata.normalize("NFKC", text).strip()
    cleaned = _WEEKDAY.sub("", cleaned)
    cleaned = re.sub(r"\s+", " ", cleaned)
    return cleaned.replace("頃", "").replace("ごろ", "").strip()


def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _era(token: str) -> Era:
    return _ERA_BY_TOKEN[token.upper() if len(token) == 1 else token]


def _resolve_year(
    era_token: str | None,
    year_text: str | None,
    context: DateContext,
    original: str,
    month: int | None,
) -> tuple[int | None, Era | None]:
    """The Western year, and the era it was written in (if any)."""
    if year_text is None:
        return (context.year_of(month or 4), None)
    number = 1 if year_text == "元" else int(year_text)
    if era_token:
        era = _era(era_token)
        return era.to_western(number), era
    if number >= 1000:
        return number, None
    if context.era is None:
        raise DateError(f"{original!r}: year {number} has no era and no era date comes before it")
    return context.era.to_western(number), context.era


def _checked_day(year: int, month: int, day: int, original: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise DateError(f"{original!r}: there is no day {year}-{month:02d}-{day:02d}") from None


def _check_era(era: Era | None, day: date, original: str) -> None:
    if era is not None and not (era.first_day <= day <= era.last_day):
        raise DateError(
            f"{original!r}: {era.name} runs from {era.first_day} to {era.last_day}, "
            f"so it cannot name {day}"
        )


def _from_match(
    match: re.Match[str], role: Role, context: DateContext, original: str
) -> ParsedDate:
    groups = match.groupdict()
    month_text = groups.get("month")
    year, era = _resolve_year(
        groups.get("era"),
        groups.get("year"),
        context,
        original,
        int(month_text) if month_text else None,
    )
    if year is None:
        raise DateError(f"{original!r}: no year is given and no date with a year comes before it")
    if groups.get("fiscal") is not None or "年度" in original:
        fiscal = groups.get("fiscal") or ""
        first = date(year, 4, 1)
        last = date(year + 1, 3, 31)
        if fiscal == "上期":
            first, last = first, date(year, 9, 30)
        elif fiscal == "下期":
            first, last = date(year, 10, 1), last
        if fiscal == "末":
            day = last
        elif fiscal in ("当初", "初め", "初"):
            day = first
        else:
            day = first if role is Role.start else last
        # 令和元年度 began on 2019-04-01, before 令和 did: a fiscal year need only overlap its era.
        if era is not None and (last < era.first_day or first > era.last_day):
            _check_era(era, day, original)
        return ParsedDate(day, original)
    month = int(groups["month"])
    if not 1 <= month <= 12:
        raise DateError(f"{original!r}: there is no month {month}")
    if groups.get("day"):
        day = _checked_day(year, month, int(groups["day"]), original)
        _check_era(era, day, original)
        exact = groups.get("year") is not None
        return ParsedDate(day, None if exact else original)
    part = groups.get("part")
    month_end = _last_day(year, month)
    if part in _THIRDS:
        low, high = _THIRDS[part]
        day = date(year, month, low if role is Role.start else min(high, month_end))
    elif part in ("初", "初め", "頭"):
        day = date(year, month, 1)
    elif part == "末":
        day = date(year, month, month_end)
    else:
        day = date(year, month, 1 if role is Role.start else month_end)
    _check_era(era, day, original)
    return ParsedDate(day, original)


# A date without a year lies within half a year before the dates around it, or after them.
_YEARLESS_LOOKBACK = timedelta(days=183)


def _from_match_rolling(
    match: re.Match[str], role: Role, context: DateContext, original: str
) -> ParsedDate:
    previous = context.last_day
    if match.groupdict().get("year") is not None or previous is None:
        return _from_match(match, role, context, original)
    ahead = DateContext(
        era=context.era,
        last_day=previous.replace(year=previous.year + 1, day=1),
        fiscal_year=context.fiscal_year,
    )
    try:
        parsed = _from_match(match, role, context, original)
    except DateError:
        # 2/29 after 12/1: no such day this year, and the next year's February is meant.
        return _from_match(match, role, ahead, original)
    if parsed.day < previous - _YEARLESS_LOOKBACK:
        parsed = _from_match(match, role, ahead, original)
    return parsed


def from_serial(serial: float, epoch: datetime = EXCEL_EPOCH_1900) -> date:
    low, high = _SERIAL_RANGE
    if not low <= serial <= high:
        raise DateError(f"{serial!r} is not a date: as an Excel serial number it is out of range")
    return (epoch + timedelta(days=int(serial))).date()


def parse_date(
    value: object,
    role: Role,
    context: DateContext | None = None,
    *,
    epoch: datetime = EXCEL_EPOCH_1900,
) -> ParsedDate | None:
    """Read one cell as a day, or None when it is blank. Raises DateError with a plain reason."""
    context = context if context is not None else DateContext()
    if value is None:
        return None
    if isinstance(value, datetime):
        context.remember(value.date(), None)
        return ParsedDate(value.date(), None)
    if isinstance(value, date):
        context.remember(value, None)
        return ParsedDate(value, None)
    if isinstance(value, bool):
        raise DateError(f"{value!r} is not a date")
    if isinstance(value, int | float):
        day = from_serial(value, epoch)
        context.remember(day, None)
        return ParsedDate(day, None)
    original = str(value).strip()
    if not original or original in ("-", "−", "―", "ー", "未定", "TBD", "tbd"):
        return None
    text = _normalise(original)
    if re.fullmatch(r"\d{5}(\.\d+)?", text):
        day = from_serial(float(text), epoch)
        context.remember(day, None)
        return ParsedDate(day, None)
    for pattern in _PATTERNS:
        match = pattern.match(text)
        if match:
            parsed = _from_match_rolling(match, role, context, original)
            era_token = match.groupdict().get("era")
            era = None
            if era_token:
                era = _era(era_token)
            elif (
                match.groupdict().get("year")
                and context.era
                and int("1" if match.group("year") == "元" else match.group("year")) < 1000
            ):
                era = context.era
            context.remember(parsed.day, era)
            return parsed
    raise DateError(f"{original!r} is not a date this importer can read")


# What joins a period's two ends in one cell: 〜 (wave dash) and ～ (full-width tilde) first.
_PERIOD_JOINS = re.compile(r"\s*(?:~|〜|～|から|→|–|—|\s[-－]\s)\s*")
# An end that names only its day (4月1日～30日) or its month and day (R7.4.1～6.30).
_DAY_ONLY = re.compile(r"^(?P<day>\d{1,2})\s*日?$")
_MONTH_DAY_DOTTED = re.compile(r"^(?P<month>\d{1,2})\.(?P<day>\d{1,2})$")


def _split_period(text: str) -> tuple[str, str] | None:
    parts = _PERIOD_JOINS.split(text, maxsplit=1)
    if len(parts) == 2:
        return parts[0], parts[1]
    # 2025/4/1-2025/6/30: a hyphen joins the ends only where both sides read as days.
    for index, char in enumerate(text):
        if char in "-－" and 0 < index < len(text) - 1:
            left, right = text[:index].strip(), text[index + 1 :].strip()
            try:
                if parse_date(left, Role.start) and parse_date(right, Role.end, DateContext()):
                    return left, right
            except DateError:
                continue
    return None


def _end_of_period(
    text: str, start: ParsedDate | None, context: DateContext, epoch: datetime
) -> ParsedDate | None:
    normalised = _normalise(text)
    if start is not None:
        day_only = _DAY_ONLY.match(normalised)
        if day_only:
            day = _checked_day(start.day.year, start.day.month, int(day_only["day"]), text)
            return ParsedDate(day, text)
        dotted = _MONTH_DAY_DOTTED.match(normalised)
        if dotted:
            parsed = parse_date(
                f"{dotted['month']}/{dotted['day']}", Role.end, context, epoch=epoch
            )
            return ParsedDate(parsed.day, text) if parsed else None
    return parse_date(text, Role.end, context, epoch=epoch)


def parse_period(
    value: object, context: DateContext | None = None, *, epoch: datetime = EXCEL_EPOCH_1900
) -> tuple[ParsedDate | None, ParsedDate | None]:
    """A period written in one cell, as (start, end).

    2025/4/1～2025/6/30, R7.4.1～R7.6.30, 4/1〜6/30 (the year from the dates around it or the
    title's 年度), 令和7年4月～9月 (the end takes the start's year). One part alone (令和7年度,
    4月, a date cell) is both the start and the end of what it names.
    """
    context = context if context is not None else DateContext()
    if value is None or not isinstance(value, str):
        return (
            parse_date(value, Role.start, context, epoch=epoch),
            parse_date(value, Role.end, context, epoch=epoch),
        )
    text = value.strip()
    ends = _split_period(text) if text else None
    if ends is None:
        return (
            parse_date(text, Role.start, context, epoch=epoch),
            parse_date(text, Role.end, context, epoch=epoch),
        )
    start = parse_date(ends[0], Role.start, context, epoch=epoch) if ends[0] else None
    end = _end_of_period(ends[1], start, context, epoch) if ends[1] else None
    if start is not None and end is not None and end.day < start.day and end.text is not None:
        # 令和7年10月～3月: an end without its year, before the start, is in the year after.
        # An end still before its start is the service's to refuse, as for two date columns.
        ahead = DateContext(context.era, start.day.replace(year=start.day.year + 1, day=1))
        end = _end_of_period(ends[1], start, ahead, epoch)
    return start, end


_FISCAL_YEAR = re.compile(rf"(?:{_ERA_TOKEN}{_YEAR}|(?P<western>20\d\d))\s*年度")


def fiscal_year_in(text: str) -> DateContext | None:
    """The fiscal year a title names (令和7年度 住民記録システム WBS, 2025年度), as what it tells
    the dates under it that omit their year (4/1〜6/30)."""
    match = _FISCAL_YEAR.search(unicodedata.normalize("NFKC", text))
    if match is None:
        return None
    if match["western"]:
        return DateContext(fiscal_year=int(match["western"]))
    era = _era(match["era"])
    year = era.to_western(1 if match["year"] == "元" else int(match["year"]))
    return DateContext(era=era, fiscal_year=year)
