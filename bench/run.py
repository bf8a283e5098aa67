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
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bench.generate import AS_OF, Scale, generate
from service import migrations
from service.auth import Caller
from service.config import Settings
from service.db import create_db_engine
from service.items.models import Responsibility
from service.items.service import ItemFilters, list_items, to_read
from service.organisations.models import OrgKind
from service.projects.models import Project
from service.reports.service import ReportScope, overdue_report

POSTGRES_URL = os.environ.get(
    "WBS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PMO = Caller(1, OrgKind.pmo, "pmo", 0, "bench", True)


@dataclass
class Figure:
    backend: str
    name: str
    median_ms: float
    p95_ms: float
    floor_name: str
    floor_median_ms: float
    target: str

    @property
    def ratio(self) -> float:
        return self.median_ms / self.floor_median_ms if self.floor_median_ms else float("nan")


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
        "the same SQL run directly",
        floor,
        "< 1 s on PostgreSQL at 1,000,000 items",
    )


def bench_list_items(engine: Engine, backend: str, repeat: int) -> Figure:
    with Session(engine) as session:
        project = session.get(Project, 1)
        assert project is not None
    filters = ItemFilters(as_of=AS_OF, overdue=True, responsibility=Responsibility.municipality)

    def through_service() -> object:
        with Session(engine) as session:
            rows, _ = list_items(session, project, filters, cursor=None, limit=100)
            return json.dumps([to_read(r, AS_OF).model_dump(mode="json") for r in rows])

    floor_sql = text(
        "SELECT * FROM items WHERE project_id = :project AND responsibility = 'municipality' "
        "AND planned_end < :day AND status NOT IN ('done', 'not_applicable') "
        "ORDER BY sort_key, id LIMIT 100"
    )

    def core() -> object:
        with engine.connect() as connection:
            rows = connection.execute(floor_sql, {"project": 1, "day": AS_OF}).mappings().all()
            return json.dumps([dict(r) for r in rows], default=str)

    median, p95 = timed(through_service, repeat)
    floor, _ = timed(core, repeat)
    return Figure(
        backend,
        "GET items filter (overdue, municipality, limit 100), one project",
        median,
        p95,
        "Core query + JSON encoding",
        floor,
        "p95 within 2× of the floor",
    )


def write_results(path: Path, figures: list[Figure], scale: Scale, smoke: bool) -> None:
    lines = [
        "# Benchmark results",
        "",
        f"Run: `python -m bench.run{' --smoke' if smoke else ''}` — {scale.municipalities:,} "
        f"municipalities × {scale.items_per_project:,} items = {scale.items:,} items per database.",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}, SQLAlchemy "
        f"{sqlalchemy.__version__}.",
        "",
        "| database | benchmark | median ms | p95 ms | floor | floor median ms | ratio | target |",
        "|---|---|---:|---:|---|---:|---:|---|",
    ]
    for f in figures:
        lines.append(
            f"| {f.backend} | {f.name} | {f.median_ms:.1f} | {f.p95_ms:.1f} | {f.floor_name} | "
            f"{f.floor_median_ms:.1f} | {f.ratio:.2f}× | {f.target} |"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


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
    scale = Scale(20, 50) if args.smoke else Scale(1000, 1000)
    repeat = 3 if args.smoke else 15
    workdir = Path(os.environ.get("TMPDIR", "/tmp"))
    figures: list[Figure] = []
    for backend in args.backends.split(","):
        with database(backend, workdir) as url:
            engine = create_db_engine(Settings(database_url=url))
            with engine.begin() as connection:
                migrations.upgrade(connection)
            started = time.perf_counter()
            generate(engine, scale)
            elapsed = time.perf_counter() - started
            print(f"{backend}: generated {scale.items:,} items in {elapsed:.1f} s", file=sys.stderr)
            for bench in (bench_overdue, bench_list_items):
                figure = bench(engine, backend, repeat)
                figures.append(figure)
                print(
                    f"{backend:10} {figure.name}: {figure.median_ms:.1f} ms "
                    f"(p95 {figure.p95_ms:.1f}) vs {figure.floor_name} "
                    f"{figure.floor_median_ms:.1f} ms = {figure.ratio:.2f}×"
                )
            engine.dispose()
    out = args.out or (None if args.smoke else Path(__file__).with_name("RESULTS.md"))
    if out is not None:
        write_results(out, figures, scale, args.smoke)
    return 0


if __name__ == "__main__":
    sys.exit(main())
