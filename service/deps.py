"""The request's dependencies as `Annotated` aliases: its session, caller, settings, today.

A route reads one line per parameter; what each alias does is here and nowhere else.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date
from typing import Annotated

from anyio import CancelScope, to_thread
from fastapi import Depends
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request

from service.access import Caller
from service.auth import TokenToCheck, bearer_token
from service.clock import today
from service.config import Settings
from service.sessions import ConnectionGate, commit


async def request_session(request: Request) -> AsyncIterator[Session]:
    """One session and transaction per request, committed only when the handler succeeded.

    Used with ``Depends(..., scope="function")`` so the commit runs before the response is
    sent: a commit that fails becomes an error response, never a 200 for unsaved data.
    An async dependency, so that waiting for a slot of the connection gate holds no thread and
    opening the session costs no round trip through the thread pool.
    """
    factory: sessionmaker[Session] = request.app.state.session_factory
    gate: ConnectionGate = request.app.state.connection_gate
    route = request.scope.get("route")
    slot = request.state.db_slot = gate.slot(long_work=getattr(route, "long_work", False))
    await slot.take()
    try:
        session = factory()
        try:
            yield session
        except BaseException:
            with CancelScope(shield=True):  # a cancelled request still gives its connection back
                await to_thread.run_sync(_finish, session, False)
            raise
        if session.in_transaction():
            await to_thread.run_sync(_finish, session, True)
        else:
            # The handler committed in its own thread (service.routing): closing a session
            # with no transaction touches no connection, so it needs no trip to a thread.
            session.close()
    finally:
        slot.give_back()


def _finish(session: Session, succeeded: bool) -> None:
    try:
        if succeeded:
            commit(session)
        else:
            session.rollback()
    finally:
        session.close()


async def writing_token(token: Annotated[TokenToCheck, Depends(bearer_token)]) -> TokenToCheck:
    return replace(token, for_writing=True)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SessionDep = Annotated[Session, Depends(request_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(_settings)]
# What a synchronous handler of a OneThreadRoute receives is the Caller: the route finds it
# from the token in the handler's own trip, before the handler runs. Asynchronous handlers
# take a BearerToken and call its `caller(session)` in a trip of their own.
CurrentCaller = Annotated[Caller, Depends(bearer_token)]
WritingCaller = Annotated[Caller, Depends(writing_token)]
BearerToken = Annotated[TokenToCheck, Depends(bearer_token)]


async def _today(request: Request) -> date:
    return today(_settings(request).zone)


# Today in WBS_TIMEZONE: the day overdue is computed for unless a request names another.
Today = Annotated[date, Depends(_today)]
