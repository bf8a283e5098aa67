"""Routes whose synchronous handler and the commit of its transaction share one worker thread.

FastAPI runs a synchronous handler in a worker thread, validates what it returns in another
trip through the thread pool, and the request's session dependency commits in a third. Each
trip costs about as much CPU as a simple query (0.4 ms on a two-core machine, measured in
bench/README.md), so a GET paid more for thread hand-offs than for its database. Here the
handler and its commit run in one trip; what it returns is already a pydantic model or a
Response, so validating it on the event loop reads no database. The caller's token is looked
up in the same trip, with the handler's session, just before the handler
(service.auth.TokenToCheck).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any, get_args, get_origin

from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from service.access import Caller
from service.auth import TokenToCheck
from service.idempotency.claims import mark_applied
from service.sessions import commit


class OneThreadRoute(APIRoute):
    long_work = False

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, in_one_thread(endpoint), **kwargs)


class LongWorkRoute(OneThreadRoute):
    """A route whose calls may hold their connection for minutes (imports, exports).

    They take a pooled connection but none of the quick calls' turns (service.db.ConnectionGate),
    so a long upload never keeps the quick calls waiting.
    """

    long_work = True


def in_one_thread(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """The handler as a coroutine that runs it and commits its session in one worker thread.

    A handler that fails commits nothing: the session dependency rolls back, as it always did.
    """
    if inspect.iscoroutinefunction(endpoint) or inspect.isasyncgenfunction(endpoint):
        if any(
            _is_caller(p.annotation)
            for p in inspect.signature(endpoint, eval_str=True).parameters.values()
        ):
            # Nothing would find the caller from the token before such a handler ran.
            raise TypeError(
                f"{endpoint.__qualname__} is a coroutine: take a BearerToken and call its "
                "caller(session) in a worker thread, not a Caller"
            )
        return endpoint
    parameters = inspect.signature(endpoint, eval_str=True).parameters.values()
    if any(_is_caller(p.annotation) for p in parameters) and not any(
        p.annotation is Session or _is_annotated(p.annotation, Session) for p in parameters
    ):
        # The caller is found with the handler's own session, in the handler's trip.
        raise TypeError(f"{endpoint.__qualname__} takes a Caller: it must take a SessionDep too")

    async def handle(**values: Any) -> Any:
        return await run_in_threadpool(_run_and_commit, endpoint, values)

    # FastAPI reads parameters, name and docstring off the function it is given; the
    # annotations are evaluated here because this module's globals are not the handler's.
    handle.__signature__ = inspect.signature(endpoint, eval_str=True)  # type: ignore[attr-defined]
    for attribute in ("__name__", "__qualname__", "__doc__", "__module__"):
        setattr(handle, attribute, getattr(endpoint, attribute))
    return handle


def _is_annotated(annotation: Any, kind: type) -> bool:
    return get_origin(annotation) is Annotated and get_args(annotation)[0] is kind


def _is_caller(annotation: Any) -> bool:
    return _is_annotated(annotation, Caller)


def _run_and_commit(endpoint: Callable[..., Any], values: dict[str, Any]) -> Any:
    # The caller first: for a token that names nobody, or may not write, no handler runs.
    sessions = [value for value in values.values() if isinstance(value, Session)]
    callers = {
        name: value.caller(sessions[0])
        for name, value in values.items()
        if isinstance(value, TokenToCheck)
    }
    result = endpoint(**(values | callers))
    if sessions:
        # A request with an Idempotency-Key is marked applied with its own writes.
        mark_applied(sessions[0])
    for session in sessions:
        commit(session)
    return result
