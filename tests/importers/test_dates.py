"""Every notation PRODUCT.md names, rendered from random days and read back."""

from __future__ import annotations

import calendar
import unicodedata
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importers.dates import (
    ERAS,
    EXCEL_EPOCH_1900,
    EXCEL_EPOCH_1904,
    DateContext,
    DateError,
    Role,
    fiscal_year_in,
    parse_date,
    parse_period,
)

days = st.dates(min_value=date(1960, 1, 1), max_value=date(2060, 12, 31))


def era_of(day: date) -> tuple[str, str, int]:
    era = next(e for e in ERAS if e.first_day <= day <= e.last_day)
    return era.name, era.letter, day.year - era.first_day.year + 1


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "0" <= c <= "9" or c in "/.-" else c for c in text)


def exact_renderings(day: date) -> list[object]:
    name, letter, year = era_of(day)
    era_year = "元" if year == 1 else str(year)
    forms: list[object] = [
        day,
        datetime(day.year, day.month, day.day),
        day.isoformat(),
        f"{day.year}/{day.month}/{day.day}",
        f"{day.year}.{day.month}.{day.day}",
        f"{day.year}年{day.month}月{day.day}日",
        f"{day.year}年{day.month:02d}月{day.day:02d}日",
        f"{name}{era_year}年{day.month}月{day.day}日",
        f"{letter}{year}.{day.month}.{day.day}",
        f"{letter}{year:02d}/{day.month:02d}/{day.day:02d}",
        f"{letter.lower()}{year}.{day.month}.{day.day}",
        full_width(f"{day.year}/{day.month}/{day.day}"),
        full_width(f"{name}{year}年{day.month}月{day.day}日"),
        f" {day.year}年 {day.month}月{day.day}日(月) ",
        float((datetime(day.year, day.month, day.day) - EXCEL_EPOCH_1900).days),
    ]
    return forms


@given(days)
def test_exact_notations_read_back_as_the_same_day_without_text(day: date) -> None:
    for form in exact_renderings(day):
        parsed = parse_date(form, Role.end)
        assert parsed is not None, form
        assert parsed.day == day, form
        assert parsed.text is None, form


@given(days)
def test_1904_serials_use_the_workbooks_epoch(day: date) -> None:
    serial = (datetime(day.year, day.month, day.day) - EXCEL_EPOCH_1904).days
    parsed = parse_date(serial, Role.start, epoch=EXCEL_EPOCH_1904)
    assert parsed is not None
    assert parsed.day == day


@given(days)
def test_a_month_alone_spans_the_month_and_keeps_its_text(day: date) -> None:
    name, _letter, year = era_of(day.replace(day=1))
    last = calendar.monthrange(day.year, day.month)[1]
    for text in (f"{day.year}年{day.month}月", f"{day.year}/{day.month}"):
        start, end = parse_date(text, Role.start), parse_date(text, Role.end)
        assert start is not None
        assert end is not None
        assert (start.day, end.day) == (day.replace(day=1), day.replace(day=last))
        assert start.text == text
    if era_of(day.replace(day=last))[0] == name:
        text = f"{name}{year}年{day.month}月"
        end = parse_date(text, Role.end)
        assert end is not None
        assert end.day == day.replace(day=last)


@given(days, st.sampled_from(["上旬", "中旬", "下旬"]))
def test_thirds_of_a_month_start_on_their_first_day_and_end_on_their_last(
    day: date, third: str
) -> None:
    last = calendar.monthrange(day.year, day.month)[1]
    bounds = {"上旬": (1, 10), "中旬": (11, 20), "下旬": (21, last)}[third]
    text = f"{day.year}年{day.month}月{third}"
    start, end = parse_date(text, Role.start), parse_date(text, Role.end)
    assert start is not None
    assert end is not None
    assert (start.day.day, end.day.day) == bounds
    assert end.text == text


@given(st.integers(min_value=1, max_value=40))
def test_fiscal_year_end_is_the_next_march_31(reiwa_year: int) -> None:
    western = 2018 + reiwa_year
    for text in (f"R{reiwa_year}年度末", f"令和{reiwa_year}年度末", f"令和{reiwa_year}年度中"):
        parsed = parse_date(text, Role.end)
        assert parsed is not None
        assert parsed.day == date(western + 1, 3, 31)
        assert parsed.text == text
    start = parse_date(f"令和{reiwa_year}年度", Role.start)
    assert start is not None
    assert start.day == date(western, 4, 1)


def test_the_article_examples() -> None:
    end = parse_date("R7年度末", Role.end)
    assert end is not None
    assert end.day == date(2026, 3, 31)
    context = DateContext()
    first = parse_date("平成27年10月", Role.start, context)
    then = parse_date("28年1月", Role.start, context)
    assert first is not None
    assert then is not None
    assert (first.day, then.day) == (date(2015, 10, 1), date(2016, 1, 1))
    assert parse_date("令和元年5月1日", Role.start) is not None
    late = parse_date("10月下旬", Role.end, DateContext(last_day=date(2025, 9, 1)))
    assert late is not None
    assert late.day == date(2025, 10, 31)


def test_month_boundaries_and_year_roll_over() -> None:
    month_end = parse_date("3月末", Role.end, DateContext(last_day=date(2024, 1, 5)))
    assert month_end is not None
    assert month_end.day == date(2024, 3, 31)
    leap = parse_date("2024年2月下旬", Role.end)
    assert leap is not None
    assert leap.day == date(2024, 2, 29)
    january = parse_date("1月中旬", Role.end, DateContext(last_day=date(2025, 12, 20)))
    assert january is not None
    assert january.day == date(2026, 1, 20)


@pytest.mark.parametrize("blank", [None, "", "  ", "-", "未定", "ー"])
def test_blank_cells_are_no_date(blank: object) -> None:
    assert parse_date(blank, Role.end) is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("平成27年13月40日", "no month 13"),
        ("2015/2/30", "no day 2015-02-30"),
        ("令和元年4月1日", "令和 runs from"),
        ("平成31年5月1日", "平成 runs from"),
        ("28年1月", "no era"),
        ("10月下旬", "no year"),
        ("来月", "not a date"),
        (12, "out of range"),
        (True, "not a date"),
    ],
)
def test_impossible_dates_say_why(text: object, reason: str) -> None:
    with pytest.raises(DateError, match=reason):
        parse_date(text, Role.end)


def test_normalisation_is_unicode_aware() -> None:
    assert unicodedata.normalize("NFKC", "Ｒ７．３．３１") == "R7.3.31"
    parsed = parse_date("Ｒ７．３．３１", Role.end)
    assert parsed is not None
    assert parsed.day == date(2025, 3, 31)


reiwa_days = st.dates(min_value=date(2019, 5, 1), max_value=date(2060, 12, 31))
_PARTS = {"上旬": (1, 10), "中旬": (11, 20), "下旬": (21, 31), "初": (1, 1), "末": (31, 31)}


@given(reiwa_days, st.sampled_from([*_PARTS, ""]))
def test_a_short_era_year_with_a_month_in_words_spans_its_part_of_the_month(
    day: date, part: str
) -> None:
    """R7.1月下旬, R7.3月末, R6.4月上旬, H27.10月: the era letter, the year, then the month."""
    _name, letter, year = era_of(day.replace(day=1))
    last = calendar.monthrange(day.year, day.month)[1]
    low, high = _PARTS.get(part, (1, 31))
    text = f"{letter}{year}.{day.month}月{part}"
    start, end = parse_date(text, Role.start), parse_date(text, Role.end)
    assert start is not None
    assert end is not None
    assert start.day == day.replace(day=min(low, last))
    assert end.day == day.replace(day=min(high, last))
    assert (start.text, end.text) == (text, text)


def exact_forms(day: date) -> list[str]:
    _name, letter, year = era_of(day)
    return [f"{day.year}/{day.month}/{day.day}", f"{letter}{year}.{day.month}.{day.day}",
            day.isoformat(), f"{day.year}年{day.month}月{day.day}日"]  # fmt: skip


@given(
    st.dates(min_value=date(1990, 1, 1), max_value=date(2060, 12, 31)),
    st.integers(min_value=0, max_value=400),
    st.sampled_from(["～", "〜", "~", " ～ ", "から", " - "]),
    st.integers(min_value=0, max_value=3),
)
def test_a_period_in_one_cell_reads_as_its_two_ends(
    start: date, length: int, join: str, form: int
) -> None:
    end = start + timedelta(days=length)
    text = exact_forms(start)[form] + join + exact_forms(end)[form]
    begins, ends = parse_period(text)
    assert begins is not None
    assert ends is not None
    assert (begins.day, ends.day) == (start, end), text
    assert (begins.text, ends.text) == (None, None)


@given(st.integers(min_value=2019, max_value=2060), st.dates(), st.integers(0, 120))
def test_a_period_without_years_takes_the_fiscal_year_of_the_title(
    fiscal_year: int, seed: date, length: int
) -> None:
    """4/1〜6/30 under a title of 令和7年度: April to December in the year, January to March
    in the next."""
    first_day = date(fiscal_year, 4, 1) + timedelta(days=seed.toordinal() % 300)
    last_day = min(first_day + timedelta(days=length), date(fiscal_year + 1, 3, 31))
    text = f"{first_day.month}/{first_day.day}〜{last_day.month}/{last_day.day}"
    begins, ends = parse_period(text, DateContext(fiscal_year=fiscal_year))
    assert begins is not None
    assert ends is not None
    assert (begins.day, ends.day) == (first_day, last_day), text
    assert (begins.text, ends.text) == (f"{first_day.month}/{first_day.day}",
                                        f"{last_day.month}/{last_day.day}")  # fmt: skip


@given(st.integers(min_value=2, max_value=40), st.integers(1, 12), st.integers(0, 11))
def test_a_month_range_ends_on_the_last_day_of_its_last_month(
    reiwa_year: int, first_month: int, months: int
) -> None:
    """令和7年4月～9月, and 令和7年10月～3月 across the new year."""
    year = 2018 + reiwa_year
    last_month = (first_month - 1 + months) % 12 + 1
    last_year = year + (first_month - 1 + months) // 12
    begins, ends = parse_period(f"令和{reiwa_year}年{first_month}月～{last_month}月")
    assert begins is not None
    assert ends is not None
    assert begins.day == date(year, first_month, 1)
    last = calendar.monthrange(last_year, last_month)[1]
    assert ends.day == date(last_year, last_month, last)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("R7.4.1～6.30", date(2025, 4, 1), date(2025, 6, 30)),
        ("4月1日～30日", None, date(2025, 4, 30)),
        ("令和7年度", date(2025, 4, 1), date(2026, 3, 31)),
        ("R7.1月下旬～R7.3月末", date(2025, 1, 21), date(2025, 3, 31)),
        ("2025/4/1-2025/6/30", date(2025, 4, 1), date(2025, 6, 30)),
    ],
)
def test_periods_as_people_shorten_them(text: str, start: date | None, end: date) -> None:
    begins, ends = parse_period(text, DateContext(fiscal_year=2025))
    assert ends is not None
    assert ends.day == end
    if start is not None:
        assert begins is not None
        assert begins.day == start


def test_a_period_end_without_its_year_after_the_start_is_in_the_next_year() -> None:
    begins, ends = parse_period("令和7年9月～4月1日", DateContext())
    assert begins is not None
    assert ends is not None
    assert (begins.day, ends.day) == (date(2025, 9, 1), date(2026, 4, 1))
    # Both years written: the order is the service's rule to check, as for two columns.
    begins, ends = parse_period("2025/9/1～2025/4/1")
    assert begins is not None
    assert ends is not None
    assert ends.day < begins.day


def test_the_title_names_the_fiscal_year() -> None:
    found = fiscal_year_in("令和7年度 住民記録システム標準化 WBS")
    assert found is not None
    assert (found.fiscal_year, found.year_of(4), found.year_of(3)) == (2025, 2025, 2026)
    assert fiscal_year_in("2026年度計画") is not None
    assert fiscal_year_in("移行計画") is None
