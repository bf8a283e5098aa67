"""The browser's side of a page request: who is signed in, their preferences, their form token.

The one module of the pages that names the API's caller and session dependency, so that the
rest of the package is untouched when those move.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.responses import Response

from service.access import Caller
from service.auth import FailedAuthLimiter
from service.config import Settings
from service.deps import SessionDep, WritingCaller
from service.people import service as signin

SESSION_COOKIE = "wbs_session"
# The anonymous visitor's form key, for the sign-in forms (before there is a session).
FORM_COOKIE = "wbs_form"
LANGUAGE_COOKIE = "wbs_lang"
DATES_COOKIE = "wbs_dates"
PREFERENCE_DAYS = 400

Lang = Literal["ja", "en"]
Dates = Literal["western", "era"]

__all__ = ["Caller", "Session", "SessionDep", "WritingCaller"]


@dataclass(frozen=True)
class Preferences:
    lang: Lang
    dates: Dates


def preferences(request: Request) -> Preferences:
    """Japanese unless the person chose English; dates as they chose, else as the operator set."""
    settings: Settings = request.app.state.settings
    lang = request.cookies.get(LANGUAGE_COOKIE)
    dates = request.cookies.get(DATES_COOKIE)
    return Preferences(
        lang="en" if lang == "en" else "ja",
        dates=dates if dates in ("western", "era") else settings.web_dates,  # type: ignore[arg-type]
    )


@dataclass(frozen=True)
class Person:
    """Who is signed in: the caller every rule of the API takes, and their session."""

    caller: Caller
    organisation_name: str
    session_id: int
    csrf: str
    changes_since: int | None
    signed_in: signin.SignedIn

    @property
    def read_only(self) -> bool:
        return self.caller.read_only


class SignInRequired(Exception):
    """No usable session: the person is sent to the sign-in page, and back afterwards."""


class PageProblem(Exception):
    """A page that cannot be shown or a form that cannot be taken, explained in words."""

    def __init__(self, status: int, ja: str, en: str) -> None:
        super().__init__(en)
        self.status, self.ja, self.en = status, ja, en


def _idle(request: Request) -> timedelta:
    settings: Settings = request.app.state.settings
    return timedelta(minutes=settings.web_session_idle_minutes)


def visitor(request: Request, session: SessionDep) -> Person | None:
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        return None
    found = signin.find_session(session, secret, _idle(request))
    if found is None:
        return None
    caller = Caller(
        organisation_id=found.organisation_id,
        organisation_kind=found.organisation_kind,
        organisation_code=found.organisation_code,
        token_id=found.token_id,
        token_name=found.token_name,
        read_only=found.read_only,
    )
    person = Person(
        caller=caller,
        organisation_name=found.organisation_name,
        session_id=found.session_id,
        csrf=signin.csrf_token(secret),
        changes_since=found.changes_since,
        signed_in=found,
    )
    # For an error page of this request: it shows the person's menu without looking again.
    request.state.person = person
    return person


def signed_in(person: Annotated[Person | None, Depends(visitor)]) -> Person:
    if person is None:
        raise SignInRequired
    return person


def writer(person: Annotated[Person, Depends(signed_in)]) -> Person:
    if person.read_only:
        raise PageProblem(
            403,
            "このトークンは閲覧専用のため、変更できません。",
            "This token is read-only: it cannot change anything.",
        )
    return person


CurrentPerson = Annotated[Person, Depends(signed_in)]
WritingPerson = Annotated[Person, Depends(writer)]
MaybePerson = Annotated[Person | None, Depends(visitor)]


CSRF_REFUSED = PageProblem(
    403,
    "フォームを受け付けられませんでした（確認用の値がないか、古くなっています）。"
    "ページを開き直して、もう一度送信してください。",
    "The form was refused: its check value is missing or out of date. "
    "Open the page again and send it once more.",
)


async def _sent_csrf(request: Request) -> str | None:
    form = await request.form()
    value = form.get("csrf")
    return value if isinstance(value, str) else None


async def checked_form(request: Request) -> None:
    """Every form of a signed-in person carries the token derived from their session."""
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret or not signin.csrf_matches(secret, await _sent_csrf(request)):
        raise CSRF_REFUSED


async def checked_anonymous_form(request: Request) -> None:
    """The sign-in forms carry the token derived from the visitor's form cookie."""
    key = request.cookies.get(FORM_COOKIE)
    if not key or not signin.csrf_matches(key, await _sent_csrf(request)):
        raise CSRF_REFUSED


CheckedForm = Depends(checked_form)
CheckedAnonymousForm = Depends(checked_anonymous_form)


def anonymous_form_key(request: Request) -> tuple[str, bool]:
    """The visitor's form key, and whether it is new (and must be set as a cookie)."""
    key = request.cookies.get(FORM_COOKIE)
    return (key, False) if key else (signin.new_secret(), True)


def _secure(request: Request) -> bool:
    settings: Settings = request.app.state.settings
    if settings.web_secure_cookies is not None:
        return settings.web_secure_cookies
    return request.url.scheme == "https"


def set_cookie(
    request: Request, response: Response, name: str, value: str, *, max_age: int | None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )


def forget_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, samesite="lax", secure=_secure(request))


def limiter(request: Request) -> FailedAuthLimiter:
    """The API's failed-authentication limiter: a wrong token costs the same on a page."""
    found: FailedAuthLimiter = request.app.state.auth_limiter
    return found


def local_path(target: str | None) -> str:
    """Where to go after signing in: only a path on this site, never another site."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


def sign_in_location(request: Request) -> str:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/sign-in?next=" + quote(here, safe="")


class PageRoute(APIRoute):
    """A route answering people: its errors are pages (service.web.app)."""

    is_page = True


class LongPageRoute(PageRoute):
    """A page doing an import's work: a pooled connection, but none of the quick calls' turns."""

    long_work = True
