from __future__ import annotations

import httpx2
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import ServerFactory, World


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(
    scraped: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return scraped.get((name, tuple(sorted(labels.items()))), 0.0)


def test_requests_latency_imports_and_pool_are_measured(client: TestClient, world: World) -> None:
    before = samples(client.get("/metrics").text)
    client.get("/api/v1/projects", headers=world.auth("town_a"))
    client.get(f"/api/v1/projects/{world.projects['a_x'].id}/items/1", headers=world.auth("town_a"))
    client.post(
        f"/api/v1/projects/{world.projects['a_x'].id}/imports",
        headers=world.auth("vendor_x"),
        files={"file": ("w.csv", "項番,作業項目,担当\n1,計画,ベンダー\n2,移行,自治体\n".encode())},
    )
    client.post(
        f"/api/v1/projects/{world.projects['a_x'].id}/imports",
        headers=world.auth("vendor_x"),
        files={"file": ("w.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64))},
    )
    response = client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    after = samples(response.text)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert (
        grew("wbs_http_requests_total", method="GET", route="/api/v1/projects", status="200") == 1
    )
    assert (
        grew(
            "wbs_http_requests_total",
            method="GET",
            route="/api/v1/projects/{project_id}/items/{code}",
            status="404",
        )
        == 1
    )
    assert (
        grew("wbs_http_request_duration_seconds_count", method="GET", route="/api/v1/projects") == 1
    )
    assert grew("wbs_imports_total", outcome="applied") == 1
    assert grew("wbs_imports_total", outcome="rejected") == 1
    assert grew("wbs_import_rows_total") == 2
    assert any(name == "wbs_db_pool_connections_in_use" for name, _ in after)
    assert world.tokens["town_a"] not in response.text


def test_a_scrape_adds_up_every_worker_process(serve: ServerFactory, world: World) -> None:
    base, _ = serve(workers=2)
    with httpx2.Client(base_url=base) as client:
        for _ in range(30):
            # A new connection each time, so the requests spread over both workers.
            httpx2.get(f"{base}/healthz")
        scraped = samples(client.get("/metrics").text)
    assert (
        value(scraped, "wbs_http_requests_total", method="GET", route="/healthz", status="200")
        >= 30
    )


def test_a_single_worker_server_reports_its_requests(serve: ServerFactory, world: World) -> None:
    """As `make run` serves: one process, whose metrics are collected like several workers'."""
    base, _ = serve(workers=1)
    with httpx2.Client(base_url=base) as client:
        for _ in range(3):
            client.get("/healthz")
        scraped = samples(client.get("/metrics").text)
    assert (
        value(scraped, "wbs_http_requests_total", method="GET", route="/healthz", status="200") >= 3
    )
    # The scrape itself is being answered while the page is written.
    assert value(scraped, "wbs_http_requests_in_flight") >= 1
