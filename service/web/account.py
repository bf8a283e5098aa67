"""Signing in and out, and the reader's preferences."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Path, Query, Request
from starlette.responses import RedirectResponse, Response

from service.auth import client_key
from service.config import Settings
from service.db import utcnow
from service.people import service as signin
from service.tokens.service import find_usable_token
from service.web.browser import (
    DATES_COOKIE,
    LANGUAGE_COOKIE,
    PREFERENCE_DAYS,
    SESSION_COOKIE,
    CheckedAnonymousForm,
    CheckedForm,
    CurrentPerson,
    MaybePerson,
    PageProblem,
    PageRoute,
    SessionDep,
    forget_cookie,
    limiter,
    local_path,
    set_cookie,
)
from service.web.render import page

router = APIRouter(route_class=PageRoute, include_in_schema=False)

NextField = Annotated[str, Form(max_length=2000)]
SecretPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{20,100}$")]


def _failed(request: Request, session: SessionDep) -> None:
    """Count a failed sign-in as the API counts a wrong token; past the limit, say so."""
    wait = limiter(request).failed(session, client_key(request))
    # Kept whatever the answer: the request's transaction would roll the count back.
    session.commit()
    if wait is not None:
        raise PageProblem(
            429,
            f"サインインの失敗が続いたため、{wait}秒間受け付けを止めています。",
            f"Too many failed sign-ins: please wait {wait} seconds.",
        )


def _signed_in(request: Request, session: SessionDep, token_id: int, target: str) -> Response:
    settings: Settings = request.app.state.settings
    secret = signin.open_session(session, token_id, settings.web_session_hours)
    response = RedirectResponse(local_path(target), status_code=303)
    set_cookie(request, response, SESSION_COOKIE, secret, max_age=settings.web_session_hours * 3600)
    return response


@router.get("/sign-in")
def sign_in_page(
    request: Request,
    person: MaybePerson,
    next: Annotated[str, Query(max_length=2000)] = "/",
    signed_out: bool = False,
) -> Response:
    if person is not None:
        return RedirectResponse(local_path(next), status_code=303)
    return page(
        request, "sign_in.html", person=None, target=local_path(next), signed_out=signed_out
    )


@router.post("/sign-in", dependencies=[CheckedAnonymousForm])
def sign_in(
    request: Request,
    session: SessionDep,
    token: Annotated[str, Form(max_length=200)] = "",
    next: NextField = "/",
) -> Response:
    found = find_usable_token(session, token.strip(), utcnow()) if token.strip() else None
    if found is None:
        if token.strip():
            _failed(request, session)
        return page(
            request,
            "sign_in.html",
            person=None,
            status=403,
            target=local_path(next),
            signed_out=False,
            failed=True,
        )
    return _signed_in(request, session, found.id, next)


@router.get("/sign-in/link/{secret}")
def sign_in_link_page(request: Request, secret: SecretPath) -> Response:
    # Opening the link changes nothing: mail gateways and virus scanners open links too, and
    # would use it up. The person's own click on the button signs them in.
    return page(
        request,
        "sign_in_link.html",
        person=None,
        secret=secret,
        headers={"Referrer-Policy": "no-referrer"},
    )


@router.post("/sign-in/link", dependencies=[CheckedAnonymousForm])
def use_sign_in_link(
    request: Request,
    session: SessionDep,
    secret: Annotated[str, Form(pattern=r"^[A-Za-z0-9_-]{20,100}$")],
) -> Response:
    token_id = signin.use_link(session, secret)
    if token_id is None:
        # The link is used up whatever follows: committed with the count, never to work again.
        _failed(request, session)
        raise PageProblem(
            403,
            "このサインイン用リンクは使用済みか、期限切れです。発行した担当者に新しいリンクを"
            "依頼するか、トークンでサインインしてください。",
            "This sign-in link has been used or has expired. Ask whoever issued it for a new "
            "one, or sign in with a token.",
        )
    return _signed_in(request, session, token_id, "/")


@router.post("/sign-out", dependencies=[CheckedForm])
def sign_out(request: Request, session: SessionDep, person: CurrentPerson) -> Response:
    signin.close_session(session, person.session_id)
    response = RedirectResponse("/sign-in?signed_out=true", status_code=303)
    forget_cookie(request, response, SESSION_COOKIE)
    return response


@router.get("/preferences")
def preferences_page(request: Request, person: CurrentPerson, saved: bool = False) -> Response:
    return page(request, "preferences.html", person=person, saved=saved)


@router.post("/preferences", dependencies=[CheckedForm])
def save_preferences(
    request: Request,
    person: CurrentPerson,
    lang: Annotated[Literal["ja", "en"], Form()],
    dates: Annotated[Literal["western", "era"], Form()],
) -> Response:
    response = RedirectResponse("/preferences?saved=true", status_code=303)
    for name, value in ((LANGUAGE_COOKIE, lang), (DATES_COOKIE, dates)):
        set_cookie(request, response, name, value, max_age=PREFERENCE_DAYS * 86400)
    return response


@router.get("/language")
def switch_language(
    request: Request,
    lang: Literal["ja", "en"],
    next: Annotated[str, Query(max_length=2000)] = "/",
) -> Response:
    """The switch in every page's header: a link, so it works without a script or a form."""
    response = RedirectResponse(local_path(next), status_code=303)
    set_cookie(request, response, LANGUAGE_COOKIE, lang, max_age=PREFERENCE_DAYS * 86400)
    return response
