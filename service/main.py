"""The application: composition of its settings, state, middleware and routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from service import openapi as contract
from service.api import api_router
from service.auth import FailedAuthLimiter
from service.changes.head import FeedHead
from service.config import Settings, get_settings
from service.health import router as health_router
from service.idempotency import middleware as idempotency
from service.limits import BodyLimitMiddleware
from service.logs import RequestLogMiddleware
from service.problems import install_error_handlers
from service.sessions import ConnectionGate, create_db_engine, create_session_factory
from service.web import app as pages
from service.webhooks import contract as webhook_contract
from service.webhooks.gauges import QueueCollector

DESCRIPTION = """\
The one true copy of the WBS that a system vendor and a Japanese municipality share:
whose each work item is, its status, and what is overdue.

Every `/api/v1` operation takes `Authorization: Bearer <token>`. Errors are RFC 9457
problem details (`application/problem+json`). Lists are paged with an opaque `cursor`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = create_db_engine(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(
        title="wbs-sync",
        version="1.0.0",
        description=DESCRIPTION,
        generate_unique_id_function=contract.operation_id,
        lifespan=lifespan,
        # The pages serve /docs from the package (service.web); ReDoc would load from a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = create_session_factory(engine)
    # A process runs Python one thread at a time: SQLite answers within that thread, while
    # PostgreSQL's round trips leave room for a few more calls at once (bench/README.md).
    busy = settings.db_busy_requests or (2 if engine.dialect.name == "sqlite" else 4)
    app.state.connection_gate = ConnectionGate(
        settings.db_pool_size + settings.db_max_overflow, busy
    )
    # How often held long polls learn of new events: a change reaches a waiting script within
    # about this time, at the cost of one small query per interval per process.
    app.state.feed_head = FeedHead(engine, app.state.connection_gate, interval=0.1)
    app.state.auth_limiter = FailedAuthLimiter(
        settings.auth_failure_limit, settings.auth_failure_window_seconds
    )
    app.state.metric_collectors = [QueueCollector(engine)]
    install_error_handlers(app)
    app.add_middleware(idempotency.IdempotencyMiddleware)
    # Outside the idempotency layer: a body is bounded, and its sender known, before anything
    # holds or spools it.
    app.add_middleware(BodyLimitMiddleware)
    # Added last, so it is outermost: every answer, even a middleware's, gets an id and a line.
    app.add_middleware(RequestLogMiddleware)
    app.include_router(health_router)
    app.include_router(api_router)
    pages.install(app)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            routes = _route_set(app)
            document = _DOCUMENTS.get(routes)
            if document is None:
                document = contract.shaped(FastAPI.openapi(app))
                idempotency.document(document)
                webhook_contract.document(document)
                _DOCUMENTS[routes] = document
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


RouteSet = tuple[tuple[str, tuple[str, ...]], ...]
# The document depends on the routes alone, never on settings, and building it costs a second
# (every request's access line and idempotency check read it): built once per process for
# each set of routes, not once per application a process (or a test) builds.
_DOCUMENTS: dict[RouteSet, dict[str, Any]] = {}


def _route_set(app: FastAPI) -> RouteSet:
    return tuple(
        (getattr(route, "path", ""), tuple(sorted(getattr(route, "methods", None) or ())))
        for route in app.routes
    )


app = create_app()
