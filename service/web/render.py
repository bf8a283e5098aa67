"""Templates and the words and dates they show, in the reader's language."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from importers.dates import ERAS
from importers.values import circled_step
from service.config import Settings
from service.items.fields import ITEM_FIELDS
from service.people.service import csrf_token
from service.tabular import word
from service.web.browser import (
    FORM_COOKIE,
    Person,
    Preferences,
    anonymous_form_key,
    preferences,
    set_cookie,
)

HERE = Path(__file__).parent
environment = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html", "svg"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters["iso_day"] = date.fromisoformat
environment.filters["circled_step"] = circled_step

# What every page answers with: nothing from elsewhere may load, nothing may frame it, and a
# shared municipal terminal keeps no signed-in page in its cache.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def western_day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def era_day(day: date) -> str:
    for era in ERAS:
        if era.first_day <= day <= era.last_day:
            year = day.year - era.first_day.year + 1
            return f"{era.name}{'元' if year == 1 else year}年{day.month}月{day.day}日"
    return western_day(day)


def english_day(day: date) -> str:
    return day.strftime("%-d %b %Y")


class Words:
    """What a template needs to speak to one reader: their language, their dates, their zone."""

    def __init__(self, prefs: Preferences, zone: ZoneInfo) -> None:
        self.prefs = prefs
        self.zone = zone

    def __call__(self, ja: str, en: str) -> str:
        return ja if self.prefs.lang == "ja" else en

    def day(self, value: date | None) -> str:
        if value is None:
            return "—"
        if self.prefs.lang == "en":
            return english_day(value)
        return era_day(value) if self.prefs.dates == "era" else western_day(value)

    def when(self, value: datetime | None) -> str:
        if value is None:
            return "—"
        local = value.astimezone(self.zone)
        return f"{self.day(local.date())} {local:%H:%M}"

    def word(self, value: object) -> str:
        return str(word(value, self.prefs.lang))

    def month(self, value: date, *, with_year: bool) -> str:
        """A month on a time axis: the year only where the reader needs it."""
        if self.prefs.lang == "en":
            return value.strftime("%b %Y" if with_year else "%b")
        if not with_year:
            return f"{value.month}月"
        whole = era_day(value) if self.prefs.dates == "era" else western_day(value)
        return whole.removesuffix(f"{value.day}日")


def words_for(request: Request) -> Words:
    settings: Settings = request.app.state.settings
    return Words(preferences(request), settings.zone)


# A field's name as the sheets and the export write it.
LABELS: dict[str, tuple[str, str]] = {f.name: (f.export_ja, f.export_en) for f in ITEM_FIELDS}


def label(field: str, lang: str) -> str:
    ja, en = LABELS.get(field, (field, field))
    return ja if lang == "ja" else en


def code_path(code: str) -> str:
    return quote(code, safe="")


def page(
    request: Request,
    template: str,
    *,
    person: Person | None,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """A whole page; a form on it carries the signed-in person's token, or the visitor's."""
    prefs = preferences(request)
    new_key: str | None = None
    if person is not None:
        csrf = person.csrf
    else:
        key, is_new = anonymous_form_key(request)
        new_key = key if is_new else None
        csrf = csrf_token(key)
    html = environment.get_template(template).render(
        request=request,
        person=person,
        csrf=csrf,
        _=words_for(request),
        prefs=prefs,
        code_path=code_path,
        label=label,
        here=request.url.path,
        **context,
    )
    response = HTMLResponse(html, status_code=status, headers=PAGE_HEADERS | (headers or {}))
    if new_key is not None:
        set_cookie(request, response, FORM_COOKIE, new_key, max_age=None)
    return response
