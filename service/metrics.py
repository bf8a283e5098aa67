"""Prometheus metrics at /metrics: requests, latency, imports, database connections.

With several worker processes (`wbs-sync serve --workers N`) each process writes its values to
PROMETHEUS_MULTIPROC_DIR, which `serve` creates empty at start, and a scrape of any process
adds them all up.
"""

from __future__ import annotations

import os

from fastapi import APIRouter, Request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import Engine
from sqlalchemy.pool import QueuePool
from starlette.responses import Response

REQUESTS = Counter(
    "wbs_http_requests_total", "HTTP requests by method, route template and status.",
    ["method", "route", "status"],
)  # fmt: skip
LATENCY = Histogram(
    "wbs_http_request_duration_seconds", "HTTP request duration by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)  # fmt: skip
IMPORTS = Counter("wbs_imports_total", "Imports by outcome.", ["outcome"])
IMPORT_ROWS = Counter("wbs_import_rows_total", "Sheet rows read by imports.")
IMPORT_DURATION = Histogram(
    "wbs_import_duration_seconds", "Import duration, from upload to answer.",
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)  # fmt: skip
WEBHOOK_DELIVERIES = Counter(
    "wbs_webhook_deliveries_total",
    "Delivery attempts by subscription kind and result (delivered, retrying, gave_up, "
    "disabled, lost_lease).",
    ["kind", "result"],
)
POOL_IN_USE = Gauge(
    "wbs_db_pool_connections_in_use", "Database connections checked out of the pool.",
    multiprocess_mode="livesum",
)  # fmt: skip

router = APIRouter()


def observe_request(method: str, route: str, status: int, seconds: float, engine: Engine) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)
    if isinstance(engine.pool, QueuePool):
        POOL_IN_USE.set(engine.pool.checkedout())


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
