"""Each run migrates a brand-new database (SQLite file or PostgreSQL database) with alembic;
each test starts from empty tables.

WBS_TEST_DATABASE=sqlite|postgresql picks the backend; WBS_TEST_POSTGRES_URL points at a
server where the suite may create and drop its own databases.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from service import migrations
from service.changes.models import FeedCounter
from service.config import Settings
from service.items.models import Item
from service.main import create_app
from service.models import Base
from service.organisations.models import Organisation, OrgKind
from service.partners.models import Partnership
from service.projects.models import Project
from service.sessions import create_db_engine, create_session_factory
from service.tokens.service import issue_token

BACKEND = os.environ.get("WBS_TEST_DATABASE", "sqlite")
# The key stored secrets are encrypted with (webhook targets and signing secrets): SQLite would
# make one beside the database, PostgreSQL needs it set.
TEST_SECRET_KEY = "d2JzLXN5bmMgdGVzdCBrZXk6IG5ldmVyIGEgcmVhbCE="
POSTGRES_URL = os.environ.get(
    "WBS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@contextmanager
def new_database(directory: Path) -> Iterator[str]:
    """A URL to an empty database of the backend under test, dropped afterwards."""
    if BACKEND == "sqlite":
        yield f"sqlite:///{directory / f'{uuid.uuid4().hex}.sqlite3'}"
        return
    if BACKEND != "postgresql":
        raise pytest.UsageError(f"WBS_TEST_DATABASE must be sqlite or postgresql, not {BACKEND!r}")
    # A fresh connection each time: a test may restart the server in between.
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    name = f"wbs_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def migrate(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        migrations.upgrade(connection)
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with new_database(tmp_path_factory.mktemp("db")) as url:
        migrate(url)
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(Settings(database_url=database_url))
    yield engine
    engine.dispose()


def _empty_tables(engine: Engine) -> None:
    tables = list(reversed(Base.metadata.sorted_tables))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            names = ", ".join(table.name for table in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            # SQLite checks the self-referencing parent key row by row while deleting.
            connection.execute(Item.__table__.update().values(parent_id=None))
            for table in tables:
                connection.execute(table.delete())
        # As the migration leaves it: the change feed's counter row exists from the start.
        connection.execute(FeedCounter.__table__.insert().values(id=1, last_seq=0))


@pytest.fixture
def settings(database_url: str) -> Settings:
    # The failed-authentication limit has its own test; the others must not trip it.
    return Settings(
        database_url=database_url,
        auth_failure_limit=1_000_000,
        secret_key=SecretStr(TEST_SECRET_KEY),
    )


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session for arranging data and reading what the API stored."""
    with create_session_factory(engine)() as session:
        yield session
    _empty_tables(engine)


@pytest.fixture
def app(settings: Settings, db: Session) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@dataclass
class World:
    """Two municipalities, two vendors, a PMO, and projects between them, with tokens."""

    orgs: dict[str, Organisation]
    projects: dict[str, Project]
    tokens: dict[str, str]

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture
def world(db: Session) -> World:
    specs = {
        "pmo": (OrgKind.pmo, "PMO"),
        "town_a": (OrgKind.municipality, "さくら町"),
        "town_b": (OrgKind.municipality, "みどり市"),
        "vendor_x": (OrgKind.vendor, "みらい情報システム"),
        "vendor_y": (OrgKind.vendor, "あおば電算"),
    }
    orgs = {
        key: Organisation(kind=kind, code=key.replace("_", "-"), name=name)
        for key, (kind, name) in specs.items()
    }
    db.add_all(orgs.values())
    db.flush()
    projects = {
        "a_x": Project(
            municipality=orgs["town_a"], vendor=orgs["vendor_x"], name="住民記録", consortium="east"
        ),
        "b_x": Project(
            municipality=orgs["town_b"], vendor=orgs["vendor_x"], name="住民記録", consortium="east"
        ),
        "b_y": Project(
            municipality=orgs["town_b"], vendor=orgs["vendor_y"], name="税務", consortium=None
        ),
    }
    db.add_all(projects.values())
    # Each municipality has named the vendors it works with, as a project needs.
    db.add_all(
        Partnership(municipality=p.municipality, vendor=p.vendor, granted_by="test")
        for p in projects.values()
    )
    tokens = {key: issue_token(db, org, "test")[1] for key, org in orgs.items()}
    tokens["town_a_read_only"] = issue_token(db, orgs["town_a"], "viewer", read_only=True)[1]
    tokens["vendor_x_read_only"] = issue_token(db, orgs["vendor_x"], "viewer", read_only=True)[1]
    db.commit()
    return World(orgs=orgs, projects=projects, tokens=tokens)


ItemFactory = Callable[..., dict[str, object]]


@pytest.fixture
def make_item(client: TestClient, world: World) -> ItemFactory:
    """Create an item through the API as the project's vendor and return its JSON."""

    def make(project: str = "a_x", **fields: object) -> dict[str, object]:
        body = {"title": f"作業 {fields.get('code')}", "responsibility": "vendor", **fields}
        response = client.post(
            f"/api/v1/projects/{world.projects[project].id}/items",
            json=body,
            headers=world.auth("pmo"),
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    return make


WBS_SYNC = str(Path(sys.executable).with_name("wbs-sync"))


def server_output(process: subprocess.Popen[bytes]) -> str:
    return Path(process.log_path).read_text(errors="replace")  # type: ignore[attr-defined]


ServerFactory = Callable[..., tuple[str, "subprocess.Popen[bytes]"]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# How long a test waits for an event it expects (a server answering, a row appearing). Only a
# failure waits this long, so it is set for a machine busy with other work, where starting a
# process alone has taken over 30 s; WBS_TEST_PATIENCE changes it.
PATIENCE = float(os.environ.get("WBS_TEST_PATIENCE", "120"))


def start_server(
    database_url: str, log_dir: Path, workers: int = 1, **settings: str
) -> tuple[str, subprocess.Popen[bytes]]:
    """The real `wbs-sync serve` on this database, once it answers /healthz.

    Its output goes to a file, read with `server_output`: a pipe nobody reads fills up after a
    few hundred access-log lines and then blocks the server. A port another process took in
    the moment between finding it free and binding it (two suites run at once) is given up
    for another.
    """
    for _ in range(5):
        started = _start_once(database_url, log_dir, workers, settings)
        if started is not None:
            return started
    pytest.fail("wbs-sync serve found no free port in five tries")


def _start_once(
    database_url: str, log_dir: Path, workers: int, settings: dict[str, str]
) -> tuple[str, subprocess.Popen[bytes]] | None:
    port = free_port()
    env = {
        **os.environ,
        "WBS_DATABASE_URL": database_url,
        "WBS_SECRET_KEY": TEST_SECRET_KEY,
        **settings,
    }
    log_path = log_dir / f"server-{port}.log"
    with log_path.open("wb") as log:  # the server keeps its own descriptor
        process = subprocess.Popen(
            [WBS_SYNC, "serve", "--port", str(port), "--workers", str(workers)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    process.log_path = str(log_path)  # type: ignore[attr-defined]
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            if "address already in use" in server_output(process).lower():
                return None
            pytest.fail(f"wbs-sync serve stopped: {server_output(process)[-2000:]}")
        try:
            if httpx2.get(f"{base}/healthz", timeout=1).status_code == 200:
                return base, process
        except httpx2.TransportError:
            time.sleep(0.2)
    process.kill()
    pytest.fail(f"wbs-sync serve did not come up: {server_output(process)[-2000:]}")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def serve(database_url: str, world: World, tmp_path: Path) -> Iterator[ServerFactory]:
    """Start the real `wbs-sync serve` on the test database; stopped after the test."""
    started: list[subprocess.Popen[bytes]] = []

    def start(workers: int = 1, **settings: str) -> tuple[str, subprocess.Popen[bytes]]:
        base, process = start_server(database_url, tmp_path, workers, **settings)
        started.append(process)
        return base, process

    yield start
    for process in started:
        stop_server(process)


def wait_for(condition: Callable[[], bool], what: str, timeout: float = PATIENCE) -> None:
    """Poll until the condition holds: a test waits for what it needs to see, not for a time."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what} after {timeout} s")
        time.sleep(0.02)


def gauge(base: str, name: str) -> float:
    """A gauge's value as the server's /metrics reports it (summed over its processes)."""
    text = httpx2.get(f"{base}/metrics", timeout=10).text
    values = [
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(name) and not line.startswith("#")
    ]
    return sum(values)
