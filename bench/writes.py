"""Writes: creating in bulk, seeding a project through the API, and single status changes.

    python -m bench.writes                        # 1,000,000 items in the database, minutes
    python -m bench.writes --smoke                # tiny scale, seconds: the harness still runs
    python -m bench.writes --backends postgresql --scale 100x1000

Each figure beside its floor, measured in the same run on the same database:
- a push of 1,000 new items with parents (sections of 20, a predecessor chain in each),
  `POST …/items/bulk` in process, into a project of its own; floor: a bare executemany of the
  same rows (the parents, then the children with their parents' ids, then the links);
- 100,000 items seeded through the API over HTTP (one `wbs-sync serve` process, pushes of
  1,000 one after another, into a new project); floor: the same bare executemany per push;
- PATCH status + note, in process (the ASGI app called directly, one request at a time);
  floor: the same UPDATE through Core, committed;
- PATCH status + note over HTTP, one process, wrk at 32 connections spread over a project's
  municipality items; floor: the bare Starlette route answering the same JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import httpx2
from fastapi.testclient import TestClient
from sqlalchemy import Engine, Table, insert, select, update
from sqlalchemy.orm import Session

from bench import http, imports
from bench.generate import AS_OF, SECTION, Scale, generate
from bench.layers import asgi_call
from bench.run import Figure, _token, database, timed
from service import migrations
from service.config import Settings
from service.items.codes import code_columns
from service.items.models import Item, Responsibility, item_predecessors
from service.main import create_app
from service.organisations.models import Organisation
from service.projects.models import Project
from service.sessions import create_db_engine

PUSH = 1000
_ITEMS = cast(Table, Item.__table__)
_SIDES = ("vendor", "municipality", "joint")


def new_items(first_section: int, count: int = PUSH) -> list[dict[str, Any]]:
    """`count` new items in sections of 20 from `first_section`: a parent and its children,
    each child after the one before it (a predecessor chain), as a vendor's WBS reads."""
    entries: list[dict[str, Any]] = []
    for n in range(count):
        section, position = divmod(n, SECTION)
        top = str(first_section + section)
        end = AS_OF + timedelta(days=n % 300)
        entry: dict[str, Any] = {
            "code": top if position == 0 else f"{top}-{position}",
            "title": f"作業 {top}-{position}",
            "responsibility": "joint" if position == 0 else _SIDES[n % 3],
            "assignee": ("住民課", "情報政策課", "SE")[n % 3],
            "planned_start": (end - timedelta(days=14)).isoformat(),
            "planned_end": end.isoformat(),
        }
        if position > 1:
            entry["predecessors"] = [f"{top}-{position - 1}"]
        entries.append(entry)
    return entries


def executemany(engine: Engine, project_id: int, entries: list[dict[str, Any]]) -> None:
    """The floor: the same rows by bare executemany, parents first for their ids."""
    now = datetime.now(UTC)

    def row(entry: dict[str, Any], parent_id: int | None) -> dict[str, Any]:
        return {
            "project_id": project_id,
            **code_columns(entry["code"]),
            "parent_id": parent_id,
            "title": entry["title"],
            "responsibility": entry["responsibility"],
            "assignee": entry["assignee"],
            "planned_start": date.fromisoformat(entry["planned_start"]),
            "planned_end": date.fromisoformat(entry["planned_end"]),
            "status": "not_started",
            "progress": 0,
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }

    returning = insert(_ITEMS).returning(_ITEMS.c.id, sort_by_parameter_order=True)
    tops = [entry for entry in entries if "-" not in entry["code"]]
    children = [entry for entry in entries if "-" in entry["code"]]
    with engine.begin() as connection:
        top_ids = connection.scalars(returning, [row(e, None) for e in tops]).all()
        ids = dict(zip((e["code"] for e in tops), top_ids, strict=True))
        child_rows = [row(e, ids[e["code"].split("-")[0]]) for e in children]
        ids.update(
            zip(
                (e["code"] for e in children),
                connection.scalars(returning, child_rows).all(),
                strict=True,
            )
        )
        links = [
            {"item_id": ids[e["code"]], "predecessor_id": ids[p]}
            for e in children
            for p in e.get("predecessors", [])
        ]
        connection.execute(insert(item_predecessors), links)


def _vendor_token(engine: Engine, project_id: int) -> str:
    with Session(engine) as session:
        project = session.get(Project, project_id)
        assert project is not None
        code = session.scalars(
            select(Organisation.code).where(Organisation.id == project.vendor_id)
        ).one()
    return _token(engine, code)


def bench_creates(engine: Engine, url: str, backend: str, repeat: int) -> Figure:
    """A push of 1,000 new items with parents and predecessors, into a project of its own."""
    project_id = imports.new_project(url, "1,000 new items per push")
    token = _vendor_token(engine, project_id)
    sections = iter(range(1, 1_000_000, PUSH // SECTION))
    app = create_app(Settings(database_url=url))
    with TestClient(app) as client:

        def through_api() -> object:
            answer = client.post(
                f"/api/v1/projects/{project_id}/items/bulk",
                json={"items": new_items(next(sections))},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert answer.status_code == 200, answer.text
            return answer

        median, p95 = timed(through_api, repeat)
    floor_project = imports.new_project(url, "1,000 new items by executemany")
    floor, _ = timed(lambda: executemany(engine, floor_project, new_items(next(sections))), repeat)
    return Figure(
        backend,
        "bulk push of 1,000 new items with parents and predecessors (POST …/items/bulk, "
        "in process)",
        median,
        p95,
        "ms",
        "bare executemany INSERT of the same rows and links",
        floor,
        "under 400 ms, within 3× of the floor",
    )


def bench_seed(engine: Engine, url: str, backend: str, items: int) -> Figure:
    """`items` items through the API over HTTP, in pushes of 1,000, one after another."""
    project_id = imports.new_project(url, f"{items:,} items seeded through the API")
    token = _vendor_token(engine, project_id)
    pushes = [new_items(1 + n * PUSH // SECTION) for n in range(items // PUSH)]
    path = f"/api/v1/projects/{project_id}/items/bulk"
    with http.service(url, 1) as base, httpx2.Client(base_url=base, timeout=120) as client:
        started = time.perf_counter()
        for entries in pushes:
            answer = client.post(
                path, json={"items": entries}, headers={"Authorization": f"Bearer {token}"}
            )
            assert answer.status_code == 200, answer.text
        seconds = time.perf_counter() - started
    floor_project = imports.new_project(url, f"{items:,} items by executemany")
    started = time.perf_counter()
    for entries in pushes:
        executemany(engine, floor_project, entries)
    floor = time.perf_counter() - started
    return Figure(
        backend,
        f"{items:,} items seeded through the API over HTTP, one process, pushes of 1,000",
        seconds,
        None,
        "s",
        "bare executemany of the same pushes",
        floor,
        "100,000 in under 60 s",
    )


def _municipality_items(engine: Engine) -> tuple[int, str, list[str]]:
    """Project 1, its municipality's code, and an odd number of its municipality items' codes
    (so that the statuses a round-robin writes alternate on every item)."""
    with Session(engine) as session:
        project = session.get(Project, 1)
        assert project is not None
        municipality = session.scalars(
            select(Organisation.code).where(Organisation.id == project.municipality_id)
        ).one()
        codes = list(
            session.scalars(
                select(Item.code)
                .where(Item.project_id == 1, Item.responsibility == Responsibility.municipality)
                .order_by(Item.id)
            )
        )
    return 1, municipality, codes[: len(codes) - 1 + len(codes) % 2]


def _patch_body(n: int) -> bytes:
    status = ("in_progress", "delayed")[n % 2]
    return json.dumps({"status": status, "notes": f"bench {n}"}).encode()


def bench_patch(engine: Engine, url: str, backend: str, requests: int) -> Figure:
    """PATCH status + note in process, one request at a time: wall time per request."""
    project_id, municipality, codes = _municipality_items(engine)
    token = _token(engine, municipality)
    app = create_app(Settings(database_url=url))
    counter = iter(range(10**9))

    async def run() -> list[float]:
        calls = [
            asgi_call(
                app,
                f"/api/v1/projects/{project_id}/items/{code}",
                token,
                "PATCH",
                lambda: _patch_body(next(counter)),
            )
            for code in codes
        ]
        samples = []
        async with app.router.lifespan_context(app):
            for n in range(requests + 20):
                started = time.perf_counter()
                status = await calls[n % len(calls)]()
                if status != 200:
                    raise RuntimeError(f"PATCH answered {status}")
                if n >= 20:  # the first warm caches and plans
                    samples.append((time.perf_counter() - started) * 1000)
        return samples

    samples = sorted(asyncio.run(run()))
    with Session(engine) as session:
        ids = list(session.scalars(select(Item.id).where(Item.code.in_(codes[:50]))))
    statuses = iter(range(10**9))

    def bare_update() -> object:
        n = next(statuses)
        with engine.begin() as connection:
            return connection.execute(
                update(_ITEMS)
                .where(_ITEMS.c.id == ids[n % len(ids)])
                .values(
                    status=("in_progress", "delayed")[n % 2],
                    notes=f"floor {n}",
                    version=_ITEMS.c.version + 1,
                    updated_at=datetime.now(UTC),
                )
            )

    floor, _ = timed(bare_update, max(20, requests // 10))
    return Figure(
        backend,
        "PATCH status + note, in process, one at a time (median)",
        statistics.median(samples),
        samples[min(len(samples) - 1, int(len(samples) * 0.95))],
        "ms",
        "the same UPDATE through Core, committed",
        floor,
        "p50 under 3 ms on PostgreSQL",
    )


_PATCH_SCRIPT = """\
local paths = {%(paths)s}
local statuses = {"in_progress", "delayed"}
local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer %(token)s"}
local n = 0
request = function()
  n = n + 1
  local body = '{"status":"' .. statuses[n %% 2 + 1] .. '","notes":"wrk ' .. n .. '"}'
  return wrk.format("PATCH", paths[n %% #paths + 1], headers, body)
end
"""


def _patch_script(folder: Path, project_id: int, codes: list[str], token: str) -> Path:
    """A wrk script: PATCH status + note round-robin over `codes`, a new note each time."""
    paths = ", ".join(f'"/api/v1/projects/{project_id}/items/{code}"' for code in codes)
    script = folder / "patch.lua"
    script.write_text(_PATCH_SCRIPT % {"paths": paths, "token": token}, encoding="utf-8")
    return script


def bench_patch_http(engine: Engine, url: str, backend: str, seconds: float) -> Figure:
    project_id, municipality, codes = _municipality_items(engine)
    token = _token(engine, municipality)
    with tempfile.TemporaryDirectory(prefix="wbs-bench-") as folder:
        script = _patch_script(Path(folder), project_id, codes, token)
        with http.service(url, 1) as base:
            answer = httpx2.patch(
                f"{base}/api/v1/projects/{project_id}/items/{codes[0]}",
                json={"notes": "first"},
                headers={"Authorization": f"Bearer {token}"},
            )
            answer.raise_for_status()
            body = json.dumps(answer.json(), ensure_ascii=False, separators=(",", ":")).encode()
            http.wrk(base + "/", None, 1, script=script)  # warm caches and plans
            ours = http.wrk(base + "/", None, seconds, script=script)
        with http.ceiling(body, 1) as base:
            http.wrk(base + "/", None, 1, script=script)
            bare = http.wrk(base + "/", None, seconds, script=script)
    if ours.errors:
        raise RuntimeError(f"PATCH over HTTP: {ours.errors} failed requests under load")
    return Figure(
        backend,
        "PATCH status + note, 1 process, 32 connections: req/s (latency median "
        f"{ours.median_ms:.1f} ms, p99 {ours.p99_ms:.1f} ms)",
        ours.requests_per_second,
        None,
        "req/s",
        f"bare Starlette, same JSON (median {bare.median_ms:.1f} ms)",
        bare.requests_per_second,
        "over 300/s",
    )


def _scale(text: str) -> Scale:
    municipalities, _, per_project = text.partition("x")
    return Scale(int(municipalities), int(per_project))


def _databases(backends: list[str], scale: Scale) -> Iterator[tuple[str, str, Engine]]:
    workdir = Path(os.environ.get("TMPDIR", "/tmp"))
    for backend in backends:
        with database(backend, workdir) as url:
            engine = create_db_engine(Settings(database_url=url))
            with engine.begin() as connection:
                migrations.upgrade(connection)
            started = time.perf_counter()
            generate(engine, scale)
            elapsed = time.perf_counter() - started
            print(f"{backend}: generated {scale.items:,} items in {elapsed:.1f} s", file=sys.stderr)
            try:
                yield backend, url, engine
            finally:
                engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny scale, for CI")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--scale", type=_scale, default=None, help="municipalities x items each (1000x1000)"
    )
    parser.add_argument("--seed-items", type=int, default=None, help="items seeded over HTTP")
    parser.add_argument(
        "--only", default="creates,seed,patch,patch-http", help="which benchmarks, by name"
    )
    args = parser.parse_args(argv)
    scale = args.scale or (Scale(4, 100) if args.smoke else Scale(1000, 1000))
    seed_items = args.seed_items or (2 * PUSH if args.smoke else 100 * PUSH)
    repeat, requests, seconds = (2, 30, 1.0) if args.smoke else (10, 1000, 10.0)
    chosen = set(args.only.split(","))
    with_http = http.wrk_available()
    if not with_http:
        print("wrk is not installed: the HTTP PATCH benchmark is left out", file=sys.stderr)
    benchmarks: dict[str, Callable[[Engine, str, str], Figure]] = {
        "creates": lambda engine, url, backend: bench_creates(engine, url, backend, repeat),
        "seed": lambda engine, url, backend: bench_seed(engine, url, backend, seed_items),
        "patch": lambda engine, url, backend: bench_patch(engine, url, backend, requests),
    }
    if with_http:
        benchmarks["patch-http"] = lambda engine, url, backend: bench_patch_http(
            engine, url, backend, seconds
        )
    for backend, url, engine in _databases(args.backends.split(","), scale):
        for name, benchmark in benchmarks.items():
            if name in chosen:
                print(benchmark(engine, url, backend).line(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
