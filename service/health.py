"""Liveness, readiness and metrics: open without a token, for load balancers and scrapers."""

from __future__ import annotations

import os

from fastapi import APIRouter, Request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.responses import Response

from service.errors import ServiceUnavailable, problem_responses
from service.migrations import head_revision

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: str
    revision: str


@router.get("/healthz", responses=problem_responses())
def get_health() -> Health:
    """Whether the process is alive.

    Answers without touching the database.
    """
    return Health(status="ok")


@router.get("/readyz", responses=problem_responses(503))
def get_readiness(request: Request) -> Readiness:
    """Whether the service can serve.

    The database answers and is migrated to the revision this code expects.
    """
    factory: sessionmaker[Session] = request.app.state.session_factory
    try:
        with factory() as session:
            revision = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        raise ServiceUnavailable(
            "the database does not answer", headers={"Retry-After": "5"}
        ) from None
    expected = head_revision()
    if revision != expected:
        raise ServiceUnavailable(
            f"the database is at revision {revision}, this code needs {expected}: run "
            "`wbs-sync db upgrade`",
            headers={"Retry-After": "30"},
        )
    return Readiness(status="ok", database="ok", revision=str(revision))


@router.get("/metrics", include_in_schema=False)
def get_metrics(request: Request) -> Response:
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    # Figures read from the database at scrape time (the webhook queue), the same whichever
    # process answers, and still there when no worker runs.
    from_database = CollectorRegistry()
    for collector in getattr(request.app.state, "metric_collectors", ()):
        from_database.register(collector)
    body = generate_latest(registry) + generate_latest(from_database)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
