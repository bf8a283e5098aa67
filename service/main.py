"""The application: routers, error handlers, stable operation ids."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

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

DESCRIPTION = """\
The one true copy of the WBS that a system vendor and a Japanese municipality share:
whose each work item is, its status, and what is overdue.

Every `/api/v1` operation takes `Authorization: Bearer <token>`. Errors are RFC 9457
problem details (`application/problem+json`). Lists are paged with an opaque `cursor`.
"""


def operation_id(route: APIRoute) -> str:
    """`list_items` → `listItems`: short, stable ids for generated clients."""
    head, *rest = route.name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def summaries_from_docstrings(document: dict[str, Any]) -> dict[str, Any]:
    """An operation's docstring: first line → summary, the rest → description."""
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            first, _, rest = operation.get("description", "").partition("\n")
            if first:
                operation["summary"] = first.strip().rstrip(".")
                operation["description"] = rest.strip() or first.strip()
    return document


def binary_uploads(document: dict[str, Any]) -> dict[str, Any]:
    """Say `format: binary` beside `contentMediaType` on uploads.

    FastAPI writes only the OpenAPI 3.1 form, and client generators (openapi-python-client,
    openapi-typescript) recognise a file by the format: without it they type it as text.
    """
    for schema in document.get("components", {}).get("schemas", {}).values():
        for prop in schema.get("properties", {}).values():
            if prop.get("type") == "string" and "contentMediaType" in prop:
                prop.setdefault("format", "binary")
    return document


# How operations chain, for clients and stateful testers: what a response gives the next call.
LINKS: dict[str, dict[str, tuple[str, dict[str, str]]]] = {
    "createProject": {
        "GetProject": ("getProject", {"project_id": "$response.body#/id"}),
        "UpdateProject": ("updateProject", {"project_id": "$response.body#/id"}),
        "CreateItem": ("createItem", {"project_id": "$response.body#/id"}),
        "ListItems": ("listItems", {"project_id": "$response.body#/id"}),
    },
    "createItem": {
        name: (
            operation,
            {"project_id": "$response.body#/project_id", "code": "$response.body#/code"},
        )
        for name, operation in (
            ("GetItem", "getItem"),
            ("UpdateItem", "updateItem"),
            ("DeleteItem", "deleteItem"),
        )
    },
    "createImport": {
        "GetImport": (
            "getImport",
            {"project_id": "$request.path.project_id", "import_id": "$response.body#/id"},
        ),
    },
    "createOrganisation": {
        "GetOrganisation": ("getOrganisation", {"organisation_id": "$response.body#/id"}),
    },
}


def operation_links(document: dict[str, Any]) -> dict[str, Any]:
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            links = LINKS.get(operation.get("operationId", ""))
            if not links:
                continue
            created = operation["responses"].get("201") or operation["responses"]["200"]
            created["links"] = {
                name: {"operationId": target, "parameters": parameters}
                for name, (target, parameters) in links.items()
            }
    return document


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
        generate_unique_id_function=operation_id,
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
            document = summaries_from_docstrings(FastAPI.openapi(app))
            document = operation_links(binary_uploads(document))
            idempotency.document(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def openapi_document(app: FastAPI) -> str:
    """The committed form of the spec: stable key order, so a diff shows only real changes."""
    return json.dumps(app.openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


app = create_app()
