"""The pages of a 5,000-item project, rendered on the server, beside the same data as JSON.

    python -m bench.pages                  # 4 towns × 5,000 items, one vendor, both databases
    python -m bench.pages --smoke          # tiny scale, seconds: part of `make test`

Each page is requested in process through the whole application (routing, the session
cookie, every query, the template), as `wbs-sync serve` runs it minus the socket. Its floor
is the JSON API answering the same data: the home page against the overdue reports it is
made of, the project page against its page of items and its progress report. The Gantt
chart's size is printed beside its 2 MB target.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bench.generate import Scale, generate
from bench.run import POSTGRES_URL, database, timed
from service import migrations
from service.config import Settings
from service.main import create_app
from service.organisations.models import Organisation
from service.projects.models import Project
from service.sessions import create_db_engine
from service.tokens.service import issue_token

PAGE_TARGET_MS = 150
SVG_TARGET_BYTES = 2 * 1024 * 1024


@dataclass
class Line:
    backend: str
    name: str
    median: float
    p95: float
    floor_name: str
    floor: float
    target: str

    def __str__(self) -> str:
        return (
            f"{self.backend:10} {self.name}: {self.median:,.1f} ms (p95 {self.p95:,.1f}) vs "
            f"{self.floor_name} {self.floor:,.1f} ms = {self.median / self.floor:.2f}×  "
            f"[{self.target}]"
        )


def _signed_in(client: TestClient, token: str) -> None:
    form = client.get("/sign-in").text
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', form)
    assert found
    answer = client.post(
        "/sign-in", data={"csrf": found.group(1), "token": token}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text


def _get(client: TestClient, path: str, **headers: str) -> bytes:
    answer = client.get(path, headers=headers)
    assert answer.status_code == 200, (path, answer.status_code, answer.text[:500])
    return answer.content


def _tokens(url: str) -> tuple[str, str, int]:
    engine = create_db_engine(Settings(database_url=url))
    with Session(engine) as session, session.begin():
        project = session.scalars(select(Project).order_by(Project.id)).first()
        assert project is not None
        town = session.get(Organisation, project.municipality_id)
        vendor = session.get(Organisation, project.vendor_id)
        assert town is not None
        assert vendor is not None
        town_token = issue_token(session, town, "bench")[1]
        vendor_token = issue_token(session, vendor, "bench")[1]
        project_id = project.id
    engine.dispose()
    return town_token, vendor_token, project_id


def bench_backend(backend: str, scale: Scale, repeat: int, workdir: Path) -> list[str]:
    with database(backend, workdir) as url:
        engine = create_db_engine(Settings(database_url=url))
        with engine.begin() as connection:
            migrations.upgrade(connection)
        generate(engine, scale)
        engine.dispose()
        town_token, vendor_token, project = _tokens(url)
        app = create_app(Settings(database_url=url, auth_failure_limit=1_000_000))
        lines: list[str] = []
        with TestClient(app) as town, TestClient(app) as vendor:
            _signed_in(town, town_token)
            _signed_in(vendor, vendor_token)
            api = {"Authorization": f"Bearer {town_token}"}
            vendor_api = {"Authorization": f"Bearer {vendor_token}"}
            target = f"under {PAGE_TARGET_MS} ms"

            def home_json() -> None:
                for side in ("municipality", "joint"):
                    _get(
                        town,
                        f"/api/v1/reports/overdue?responsibility={side}&due_within=14&limit=200",
                        **api,
                    )
                _get(town, "/api/v1/reports/overdue?responsibility=vendor&limit=200", **api)
                _get(town, "/api/v1/changes?limit=50", **api)

            def project_json() -> None:
                _get(town, f"/api/v1/projects/{project}/items?limit=200", **api)
                _get(town, f"/api/v1/projects/{project}/reports/progress", **api)

            def vendor_home_json() -> None:
                for side in ("vendor", "joint"):
                    _get(
                        vendor,
                        f"/api/v1/reports/overdue?responsibility={side}&due_within=14&limit=200",
                        **vendor_api,
                    )
                _get(
                    vendor,
                    "/api/v1/reports/overdue?responsibility=municipality&limit=200",
                    **vendor_api,
                )
                _get(vendor, "/api/v1/changes?limit=50", **vendor_api)

            for name, page, floor_name, floor in (
                ("home page (town)", lambda: _get(town, "/"), "its reports as JSON", home_json),
                (
                    f"home page (vendor of {scale.municipalities} towns)",
                    lambda: _get(vendor, "/"),
                    "its reports as JSON",
                    vendor_home_json,
                ),
                (
                    "project page (200 items, progress)",
                    lambda: _get(town, f"/projects/{project}"),
                    "items + progress as JSON",
                    project_json,
                ),
            ):
                median, p95 = timed(page, repeat)
                floor_median, _ = timed(floor, repeat)
                lines.append(
                    str(Line(backend, name, median, p95, floor_name, floor_median, target))
                )
            median, p95 = timed(
                lambda: _get(town, f"/projects/{project}/gantt"), max(3, repeat // 3)
            )
            svg = _get(town, f"/projects/{project}/gantt.svg")
            items = scale.items_per_project
            lines.append(
                f"{backend:10} Gantt page ({items:,} items): {median:,.1f} ms (p95 {p95:,.1f})"
            )
            lines.append(
                f"{backend:10} Gantt SVG ({items:,} items): {len(svg) / 1024 / 1024:.2f} MB, "
                f"{len(svg) / items:,.0f} bytes per item  [under 2 MB at 5,000 items]"
            )
        return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny scale, for CI")
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    args = parser.parse_args(argv)
    scale = Scale(2, 200) if args.smoke else Scale(4, 5000)
    repeat = 3 if args.smoke else 30
    print(
        f"pages: {scale.municipalities} towns × {scale.items_per_project:,} items", file=sys.stderr
    )
    with tempfile.TemporaryDirectory() as folder:
        for backend in args.backends:
            if backend == "postgresql":
                try:
                    create_db_engine(Settings(database_url=POSTGRES_URL)).connect().close()
                except Exception as error:  # any reason means: not here
                    print(f"postgresql not reachable ({type(error).__name__}): left out")
                    continue
            for line in bench_backend(backend, scale, repeat, Path(folder)):
                print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
