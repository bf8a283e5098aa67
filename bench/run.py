"""Run the benchmarks on SQLite and PostgreSQL and write bench/RESULTS.md.

    python -m bench.run            # full scale (1,000,000 items), minutes
    python -m bench.run --smoke    # tiny scale, seconds: proves the harness still runs

Every figure is printed beside its floor, measured in the same run on the same data.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib import metadata
from pathlib import Path

import sqlalchemy
from fastapi.testclient import TestClient
from sqlalchemy import Engine, bindparam, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bench import http, imports
from bench.generate import AS_OF, Scale, generate
from bench.workbook import workbook_bytes
from service import migrations
from service.access import Caller
from service.config import Settings
from service.items.models import Item, Responsibility
from service.items.schemas import ItemPage
from service.items.service import ItemFilters, list_items
from service.main import create_app
from service.organisations.models import Organisation, OrgKind
from service.projects.models import Project
from service.reports.service import ReportScope, overdue_report
from service.sessions import create_db_engine
from service.tokens.service import issue_token

POSTGRES_URL = os.environ.get(
    "WBS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PMO = Caller(1, OrgKind.pmo, "pmo", 0, "bench", True)


@dataclass
class Figure:
    backend: str
    name: str
    value: float
    p95: float | None
    unit: str
    floor_name: str
    floor_value: float
    target: str

    @property
    def ratio(self) -> float:
        return self.value / self.floor_value if self.floor_value else float("nan")

    def line(self) -> str:
        spread = f" (p95 {self.p95:,.1f})" if self.p95 is not None else ""
        return (
            f"{self.backend:10} {self.name}: {self.value:,.1f} {self.unit}{spread} vs "
            f"{self.floor_name} {self.floor_value:,.1f} {self.unit} = {self.ratio:.2f}×"
        )


def timed(action: Callable[[], object], repeat: int) -> tuple[float, float]:
    action()  # warm caches and plans
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))]


@contextmanager
def database(backend: str, workdir: Path) -> Iterator[str]:
    if backend == "sqlite":
        path = workdir / f"bench-{uuid.uuid4().hex[:8]}.sqlite3"
        yield f"sqlite:///{path}"
        path.unlink(missing_ok=True)
        return
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"wbs_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def bench_overdue(engine: Engine, backend: str, repeat: int) -> Figure:
    def through_service() -> object:
        with Session(engine) as session:
            report = overdue_report(session, ReportScope(PMO), as_of=AS_OF, limit=1000)
            return report.model_dump_json()

    floor_sql = text(
        "SELECT id, project_id, code, title, responsibility, planned_end, status, progress "
        "FROM items WHERE planned_end < :day AND status NOT IN ('done', 'not_applicable') "
        "ORDER BY planned_end, project_id, sort_key LIMIT 1000"
    )
    count_sql = text(
        "SELECT count(*) FROM items WHERE planned_end < :day "
        "AND status NOT IN ('done', 'not_applicable')"
    )

    def bare_sql() -> object:
        with engine.connect() as connection:
            connection.execute(count_sql, {"day": AS_OF}).scalar()
            return connection.execute(floor_sql, {"day": AS_OF}).all()

    median, p95 = timed(through_service, repeat)
    floor, _ = timed(bare_sql, repeat)
    return Figure(
        backend,
        "overdue report, all projects (first 1,000 rows + total)",
        median,
        p95,
        "ms",
        "the same SQL run directly",
        floor,
        "< 1 s on PostgreSQL at 1,000,000 items",
    )


def bench_list_items(engine: Engine, backend: str, repeat: int) -> list[Figure]:
    with Session(engine) as session:
        project = session.get(Project, 1)
        assert project is not None
    filters = ItemFilters(as_of=AS_OF, overdue=True, responsibility=Responsibility.municipality)

    def through_service() -> object:
        with Session(engine) as session:
            items, cursor = list_items(session, project, filters, cursor=None, limit=100)
            # As the endpoint answers: FastAPI has pydantic write the page's JSON.
            return ItemPage(items=items, next_cursor=cursor).model_dump_json()

    where = (
        "WHERE items.project_id = :project AND items.responsibility = 'municipality' "
        "AND items.planned_end < :day AND items.status NOT IN ('done', 'not_applicable') "
        "ORDER BY items.sort_key, items.id LIMIT 100"
    )
    page_sql = text(
        "SELECT items.*, parent.code AS parent_code FROM items "
        f"LEFT JOIN items AS parent ON parent.id = items.parent_id {where}"
    )
    predecessors_sql = text(
        "SELECT link.item_id, named.code FROM item_predecessors AS link "
        "JOIN items AS named ON named.id = link.predecessor_id "
        "WHERE link.item_id IN :ids ORDER BY named.sort_key"
    ).bindparams(bindparam("ids", expanding=True))
    rows_only_sql = text(f"SELECT * FROM items {where}")

    def core() -> object:
        """The same two queries the page needs (its rows with their parents' codes, and the
        rows' predecessors), rows to JSON."""
        with engine.connect() as connection:
            rows = [
                dict(row)
                for row in connection.execute(page_sql, {"project": 1, "day": AS_OF}).mappings()
            ]
            codes: dict[int, list[str]] = {row["id"]: [] for row in rows}
            if rows:
                for item_id, code in connection.execute(predecessors_sql, {"ids": list(codes)}):
                    codes[item_id].append(code)
            for row in rows:
                row["predecessors"] = codes[row["id"]]
            return json.dumps(rows, default=str)

    def rows_only() -> object:
        with engine.connect() as connection:
            rows = connection.execute(rows_only_sql, {"project": 1, "day": AS_OF}).mappings()
            return json.dumps([dict(r) for r in rows], default=str)

    median, p95 = timed(through_service, repeat)
    floor, floor_p95 = timed(core, repeat)
    bare, _ = timed(rows_only, repeat)
    name = "GET items filter (overdue, municipality, limit 100), one project"
    print(f"{backend:10} {name}: the Core floor's p95 {floor_p95:.1f} ms", file=sys.stderr)
    return [
        Figure(backend, name, median, p95, "ms", "the same queries through Core + JSON",
               floor, "p95 within 2× of the floor"),
        Figure(backend, name, median, p95, "ms", "the item rows alone (one query, no parent "
               "codes or predecessors) + JSON", bare, "(reference)"),
    ]  # fmt: skip


def bench_imports(url: str, backend: str, rows: int) -> list[Figure]:
    """First import and re-import of a `rows`-row workbook, each in a fresh process."""
    data = workbook_bytes(rows)
    size = f"{rows:,}-row workbook ({len(data) / 1e6:.1f} MB)"
    openpyxl_read = imports.read_openpyxl(data)
    calamine_read = imports.read_calamine(data)
    project_id = imports.new_project(url, f"{rows:,} rows")
    first = imports.import_workbook(url, project_id, data)
    again = imports.import_workbook(url, project_id, data)
    idle = imports.baseline()
    target = "within 1.5× of the openpyxl read"
    print(f"{backend:10} import {size}: {first.detail}; re-import: {again.detail}", file=sys.stderr)
    figures = [
        Figure(backend, f"import, {size}", first.seconds, None, "s",
               "openpyxl read-only iteration", openpyxl_read.seconds, target),
        Figure(backend, f"re-import unchanged, {size}", again.seconds, None, "s",
               "openpyxl read-only iteration", openpyxl_read.seconds, target),
        Figure(backend, f"import, {size}", first.seconds, None, "s",
               "python-calamine read (fastest known reader)", calamine_read.seconds, "(reference)"),
        Figure(backend, f"import peak memory (whole process), {size}", first.peak_mb, None, "MB",
               "the same process before importing", idle.peak_mb, "under 300 MB at 100,000 rows"),
        Figure(backend, f"re-import peak memory, {size}", again.peak_mb, None, "MB",
               "the same process before importing", idle.peak_mb, "under 300 MB at 100,000 rows"),
    ]  # fmt: skip
    return figures


def _token(engine: Engine, org_code: str) -> str:
    with Session(engine) as session:
        organisation = session.scalars(
            select(Organisation).where(Organisation.code == org_code)
        ).one()
        _, secret = issue_token(session, organisation, "bench")
        session.commit()
    return secret


def bench_bulk_push(engine: Engine, url: str, backend: str, repeat: int) -> Figure:
    """A vendor's replan: every item of one project moved by a day, in one push."""
    with Session(engine) as session:
        project = session.get(Project, 1)
        assert project is not None
        vendor_code = project.vendor.code
        items = session.execute(
            select(Item.code, Item.planned_start, Item.planned_end)
            .where(Item.project_id == 1)
            .order_by(Item.id)
            .limit(1000)
        ).all()
    token = _token(engine, vendor_code)
    shift = iter(range(1, 10_000))
    app = create_app(Settings(database_url=url))

    def body(days: int) -> dict[str, object]:
        move = timedelta(days=days)
        return {
            "items": [
                {
                    "code": code,
                    "planned_start": (start + move).isoformat(),
                    "planned_end": (end + move).isoformat(),
                }
                for code, start, end in items
            ]
        }

    with TestClient(app) as client:

        def through_api() -> object:
            answer = client.post(
                "/api/v1/projects/1/items/bulk",
                json=body(next(shift)),
                headers={"Authorization": f"Bearer {token}"},
            )
            assert answer.status_code == 200, answer.text
            return answer

        median, p95 = timed(through_api, repeat)

    update = text(
        "UPDATE items SET planned_start = :planned_start, planned_end = :planned_end, "
        "version = version + 1, updated_at = :now WHERE project_id = 1 AND code = :code"
    )

    def executemany() -> object:
        rows = body(next(shift))["items"]
        now = datetime.now(UTC)
        with engine.begin() as connection:
            connection.execute(
                update,
                [
                    {
                        "code": row["code"],  # type: ignore[index]
                        "planned_start": date.fromisoformat(row["planned_start"]),  # type: ignore[index]
                        "planned_end": date.fromisoformat(row["planned_end"]),  # type: ignore[index]
                        "now": now,
                    }
                    for row in rows  # type: ignore[attr-defined]
                ],
            )
        return rows

    floor, _ = timed(executemany, repeat)
    return Figure(
        backend,
        f"bulk push of {len(items):,} updates (POST …/items/bulk, in process)",
        median,
        p95,
        "ms",
        "bare executemany UPDATE of the same rows",
        floor,
        "under 1 s",
    )


def bench_http(url: str, engine: Engine, backend: str, seconds: float) -> list[Figure]:
    token = _token(engine, "pmo")
    with Session(engine) as session:
        code = session.scalars(select(Item.code).where(Item.project_id == 1).limit(1)).one()
    routes = {
        "GET item": f"/api/v1/projects/1/items/{code}",
        "GET change feed (limit 100)": "/api/v1/projects/1/changes?limit=100",
    }
    figures = []
    for workers in sorted({1, max(2, os.cpu_count() or 2)}):
        loads: dict[str, http.Load] = {}
        bodies: dict[str, bytes] = {}
        with http.service(url, workers) as base:
            for name, path in routes.items():
                bodies[name] = http.get_json(base, path, token)
                http.wrk(base + path, token, 1)  # warm every worker's caches
                loads[name] = http.wrk(base + path, token, seconds)
        for name, path in routes.items():
            with http.ceiling(bodies[name], workers) as base:
                http.wrk(base + path, None, 1)
                bare = http.wrk(base + path, None, seconds)
            ours = loads[name]
            if ours.errors:
                raise RuntimeError(f"{name}: {ours.errors} failed requests under load")
            figures.append(
                Figure(
                    backend,
                    f"{name}, {workers} process{'es' if workers > 1 else ''}, 32 connections: "
                    f"req/s (latency median {ours.median_ms:.1f} ms, p99 {ours.p99_ms:.1f} ms)",
                    ours.requests_per_second,
                    None,
                    "req/s",
                    f"bare Starlette, same JSON (median {bare.median_ms:.1f} ms)",
                    bare.requests_per_second,
                    "at least 0.5× the ceiling",
                )
            )
    return figures


def bench_feed(url: str, engine: Engine, backend: str, pollers: int, writes: int) -> list[Figure]:
    token = _token(engine, "pmo")
    with Session(engine) as session:
        codes = list(session.scalars(select(Item.code).where(Item.project_id == 2).limit(writes)))
    with http.service(url, 2) as base:
        alone = http.feed_under_writes(base, 2, codes, token, 0, writes)
        crowded = http.feed_under_writes(base, 2, codes, token, pollers, writes)
    if crowded.missed:
        raise RuntimeError(f"pollers missed {crowded.missed} events")
    return [
        Figure(
            backend,
            f"PATCH item while {pollers} clients long-poll the feed",
            crowded.write_median_ms,
            crowded.write_p95_ms,
            "ms",
            "the same PATCHes with nobody polling",
            alone.write_median_ms,
            "(no target)",
        ),
        Figure(
            backend,
            f"change reaches all {pollers} pollers: ms after the writer's answer",
            crowded.lag_median_ms,
            crowded.lag_p95_ms,
            "ms",
            "the writer's own PATCH round trip",
            crowded.write_median_ms,
            "(no target; every event reached every poller)",
        ),
    ]


def write_results(
    path: Path, figures: list[Figure], scale: Scale, command: str, servers: list[str]
) -> None:
    lines = [
        "# Benchmark results",
        "",
        f"Run: `{command}` — {scale.municipalities:,} municipalities × "
        f"{scale.items_per_project:,} items = {scale.items:,} items per database.",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}, SQLAlchemy "
        f"{sqlalchemy.__version__}, {_versions()}; {', '.join(servers)}.",
        "",
        "Ratio = our figure ÷ the floor's: for times and memory lower is better, for req/s "
        "higher is better. p95 is ours.",
        "",
        "| database | benchmark | ours | p95 | unit | floor | floor figure | ratio | target |",
        "|---|---|---:|---:|---|---|---:|---:|---|",
    ]
    for f in figures:
        p95 = f"{f.p95:,.1f}" if f.p95 is not None else ""
        lines.append(
            f"| {f.backend} | {f.name} | {f.value:,.1f} | {p95} | {f.unit} | {f.floor_name} | "
            f"{f.floor_value:,.1f} | {f.ratio:.2f}× | {f.target} |"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _versions() -> str:
    parts = []
    for name in ("fastapi", "starlette", "uvicorn", "openpyxl", "python-calamine", "psycopg"):
        try:
            parts.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    parts.append(wrk.stdout.split(" [")[0].strip() or "no wrk")
    return ", ".join(parts)


def _postgres_version(engine: Engine) -> str:
    with engine.connect() as connection:
        return str(connection.scalar(text("SHOW server_version")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny scale, for CI")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="results file (default: bench/RESULTS.md, not in smoke mode)",
    )
    args = parser.parse_args(argv)
    with_http = http.wrk_available()
    if not with_http:
        if not args.smoke:
            parser.error("the HTTP benchmarks need wrk: apt-get install wrk (make bench does)")
        print("wrk is not installed: the HTTP benchmarks are left out of this smoke run")
    scale = Scale(20, 50) if args.smoke else Scale(1000, 1000)
    repeat = 3 if args.smoke else 30
    import_sizes = (300, 1000) if args.smoke else (10_000, 100_000)
    seconds = 1.0 if args.smoke else 10.0
    pollers, writes = (20, 10) if args.smoke else (200, 100)
    workdir = Path(os.environ.get("TMPDIR", "/tmp"))
    figures: list[Figure] = []
    servers: list[str] = []

    def report(found: Figure | list[Figure]) -> None:
        for figure in found if isinstance(found, list) else [found]:
            figures.append(figure)
            print(figure.line(), flush=True)

    for backend in args.backends.split(","):
        with database(backend, workdir) as url:
            engine = create_db_engine(Settings(database_url=url))
            if backend == "postgresql":
                servers.append(f"PostgreSQL {_postgres_version(engine)}")
            else:
                servers.append(f"SQLite {sqlite3.sqlite_version}")
            print(servers[-1], file=sys.stderr)
            with engine.begin() as connection:
                migrations.upgrade(connection)
            started = time.perf_counter()
            generate(engine, scale)
            elapsed = time.perf_counter() - started
            print(f"{backend}: generated {scale.items:,} items in {elapsed:.1f} s", file=sys.stderr)
            report(bench_overdue(engine, backend, repeat))
            report(bench_list_items(engine, backend, repeat))
            report(bench_bulk_push(engine, url, backend, repeat))
            if with_http:
                report(bench_http(url, engine, backend, seconds))
                report(bench_feed(url, engine, backend, pollers, writes))
            for rows in import_sizes:
                report(bench_imports(url, backend, rows))
            engine.dispose()
    out = args.out or (None if args.smoke else Path(__file__).with_name("RESULTS.md"))
    if out is not None:
        command = "python -m bench.run" + (
            "" if args.backends == "sqlite,postgresql" else f" --backends {args.backends}"
        )
        write_results(out, figures, scale, command, servers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
