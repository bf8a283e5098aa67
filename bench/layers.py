"""Where a request's CPU goes: the app driven in process, one layer added at a time.

    python -m bench.layers                  # a small SQLite database of its own, a minute
    python -m bench.layers --database URL   # a migrated, generated one (bench.generate)
    python -m bench.layers --smoke          # a few requests each, for CI

Each probe route adds one thing to the one before (a thread, the request's session, a query,
token authentication, the project's visibility) and ends at `GET item` itself; the crowd
table runs GET item from 1 and from 32 concurrent callers with as many turns at the database
as each row says (service.db.ConnectionGate), which is how the turns' default was chosen.
No network, no load generator: the figures are CPU milliseconds of this process per request,
so they add up, and the HTTP benchmarks (bench/run.py) say what the wire adds. Access lines are
formatted as `wbs-sync serve` writes them, into /dev/null.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import logging.config
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from bench.generate import Scale, generate
from service import migrations
from service.config import Settings
from service.deps import CurrentCaller, SessionDep
from service.items.models import Item
from service.logs import LOGGING_CONFIG
from service.main import create_app
from service.organisations.models import Organisation
from service.projects.service import get_visible_project
from service.routing import OneThreadRoute
from service.sessions import create_db_engine
from service.tokens.service import issue_token

PROBES = APIRouter(prefix="/bench-probes", route_class=OneThreadRoute)


@PROBES.get("/async")
async def async_route() -> dict[str, int]:
    return {"a": 1}


@PROBES.get("/thread")
def thread_route() -> dict[str, int]:
    return {"a": 1}


@PROBES.get("/session")
def session_route(session: SessionDep) -> dict[str, int]:
    return {"a": 1}


@PROBES.get("/query")
def query_route(session: SessionDep) -> dict[str, int]:
    return {"a": int(session.execute(text("SELECT 1")).scalar_one())}


@PROBES.get("/token")
def token_route(session: SessionDep, caller: CurrentCaller) -> dict[str, int]:
    return {"a": caller.organisation_id}


@PROBES.get("/project/{project_id}")
def project_route(session: SessionDep, caller: CurrentCaller, project_id: int) -> dict[str, int]:
    return {"a": get_visible_project(session, caller, project_id, parties=False).id}


def _with_probes(settings: Settings) -> FastAPI:
    app = create_app(settings)
    app.include_router(PROBES)
    return app


def asgi_call(
    app: FastAPI,
    path: str,
    token: str,
    method: str = "GET",
    body: Callable[[], bytes] | None = None,
) -> Callable[[], Awaitable[int]]:
    """One request to `app` as a server would hand it over; `body` makes each call's body."""
    raw, _, query = path.partition("?")
    headers = [(b"host", b"bench"), (b"authorization", f"Bearer {token}".encode())]
    if body is not None:
        headers.append((b"content-type", b"application/json"))

    async def call() -> int:
        sent = body() if body is not None else b""
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": raw,
            "raw_path": raw.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": [*headers, (b"content-length", str(len(sent)).encode())],
            "client": ("127.0.0.1", 1),
            "server": ("bench", 80),
            "state": {},
        }
        status = 0
        asked = False

        async def receive() -> dict[str, Any]:
            nonlocal asked
            if not asked:
                asked = True
                return {"type": "http.request", "body": sent, "more_body": False}
            await asyncio.Event().wait()  # the client never hangs up
            raise AssertionError("unreachable")

        async def send(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        await app(scope, receive, send)
        return status

    return call


async def _cpu_per_request(
    call: Callable[[], Awaitable[int]], requests: int, concurrency: int = 1
) -> float:
    status = await call()
    if status != 200:
        raise RuntimeError(f"a probe answered {status}")
    each = max(1, requests // concurrency)

    async def caller() -> None:
        for _ in range(each):
            await call()

    await asyncio.gather(*(caller() for _ in range(concurrency)))  # warm every thread
    started = time.process_time()
    await asyncio.gather(*(caller() for _ in range(concurrency)))
    return (time.process_time() - started) * 1000 / (each * concurrency)


def _prepare(url: str | None, workdir: Path) -> tuple[str, str, int, str]:
    """The database to drive, a PMO token, and a project and item code to read."""
    if url is None:
        url = f"sqlite:///{workdir / 'layers.sqlite3'}"
        engine = create_db_engine(Settings(database_url=url))
        with engine.begin() as connection:
            migrations.upgrade(connection)
        generate(engine, Scale(5, 200))
    else:
        engine = create_db_engine(Settings(database_url=url))
    with Session(engine) as session:
        pmo = session.scalars(select(Organisation).where(Organisation.code == "pmo")).one()
        _, token = issue_token(session, pmo, "bench layers")
        project_id, code = session.execute(
            select(Item.project_id, Item.code).order_by(Item.id).limit(1)
        ).one()
        session.commit()
    engine.dispose()
    return url, token, project_id, code


async def _measure(url: str, token: str, project_id: int, code: str, requests: int) -> None:
    layers = [
        ("a route under our middleware and routers (async)", "/bench-probes/async"),
        ("+ a trip to a worker thread", "/bench-probes/thread"),
        ("+ the request's session", "/bench-probes/session"),
        ("+ one query (SELECT 1)", "/bench-probes/query"),
        ("token authentication instead of the query", "/bench-probes/token"),
        ("+ the project's visibility", f"/bench-probes/project/{project_id}"),
        ("GET item", f"/api/v1/projects/{project_id}/items/{code}"),
    ]
    bare = FastAPI()
    bare_router = APIRouter()
    bare_router.add_api_route("/", async_route)
    bare.include_router(bare_router)
    print("| layer | CPU ms per request |\n|---|---:|")
    alone = await _cpu_per_request(asgi_call(bare, "/", token), requests)
    print(f"| a bare FastAPI app, one async route | {alone:.3f} |")
    app = _with_probes(Settings(database_url=url))
    async with app.router.lifespan_context(app):
        for name, path in layers:
            cost = await _cpu_per_request(asgi_call(app, path, token), requests)
            print(f"| {name} | {cost:.3f} |")
        # A status and a note that change on every call: each PATCH writes and records.
        counter = iter(range(10**9))

        def change() -> bytes:
            n = next(counter)
            status = ("in_progress", "delayed")[n % 2]
            return f'{{"status":"{status}","notes":"layers {n}"}}'.encode()

        path = f"/api/v1/projects/{project_id}/items/{code}"
        cost = await _cpu_per_request(asgi_call(app, path, token, "PATCH", change), requests)
        print(f"| PATCH item, status + note | {cost:.3f} |")
    item = f"/api/v1/projects/{project_id}/items/{code}"
    print("\n| turns at the database | GET item, 1 caller | 32 callers at once |\n|---:|---:|---:|")
    for turns in (1, 2, 4, 10):
        app = _with_probes(
            Settings(database_url=url, db_pool_size=5, db_max_overflow=5, db_busy_requests=turns)
        )
        async with app.router.lifespan_context(app):
            call = asgi_call(app, item, token)
            alone = await _cpu_per_request(call, requests)
            crowd = await _cpu_per_request(call, requests, 32)
        print(f"| {turns} | {alone:.3f} | {crowd:.3f} |")


def _access_lines_as_served() -> None:
    """Log as `wbs-sync serve` does, every access line formatted, but into /dev/null."""
    logging.config.dictConfig(LOGGING_CONFIG)
    sink = open(os.devnull, "w")  # kept open for the life of the process
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sink)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", help="a migrated database made by bench.generate")
    parser.add_argument("--smoke", action="store_true", help="a few requests each, for CI")
    args = parser.parse_args(argv)
    requests = 64 if args.smoke else 2000
    _access_lines_as_served()
    with tempfile.TemporaryDirectory(prefix="wbs-layers-", dir=os.environ.get("TMPDIR")) as work:
        url, token, project_id, code = _prepare(args.database, Path(work))
        asyncio.run(_measure(url, token, project_id, code, requests))
    return 0


if __name__ == "__main__":
    sys.exit(main())
