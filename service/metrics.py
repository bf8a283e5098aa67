"""Prometheus metrics: requests, latency, imports, database connections (served at /metrics).

With several worker processes (`wbs-sync serve --workers N`) each process writes its values to
PROMETHEUS_MULTIPROC_DIR, which `serve` creates empty at start, and a scrape of any process
adds them all up.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import Engine
from sqlalchemy.pool import QueuePool

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


def observe_request(method: str, route: str, status: int, seconds: float, engine: Engine) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)
    if isinstance(engine.pool, QueuePool):
        POOL_IN_USE.set(engine.pool.checkedout())


IN_FLIGHT = Gauge(
    "wbs_http_requests_in_flight", "HTTP requests being answered now.",
    multiprocess_mode="livesum",
)  # fmt: skip
LONG_POLLS_HELD = Gauge(
    "wbs_feed_long_polls_held", "Change-feed requests held waiting for news now.",
    multiprocess_mode="livesum",
)  # fmt: skip
