"""A synchronous handler and the commit of its transaction run in one worker thread."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import anyio.to_thread
import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from service.config import Settings
from service.deps import CurrentCaller, SessionDep, WritingCaller
from service.errors import Conflict
from service.main import create_app
from service.organisations.models import Organisation, OrgKind
from service.routing import OneThreadRoute
from tests.conftest import World

T = TypeVar("T")


@pytest.fixture
def commit_threads() -> Iterator[list[int]]:
    """The thread of every commit while the test runs."""
    threads: list[int] = []

    def record(_session: Session) -> None:
        threads.append(threading.get_ident())

    event.listen(Session, "after_commit", record)
    yield threads
    event.remove(Session, "after_commit", record)


@pytest.fixture
def thread_trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What each trip through the thread pool ran while the test runs."""
    trips: list[str] = []
    run_sync = anyio.to_thread.run_sync

    async def counted(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        trips.append(getattr(function, "__name__", repr(function)))
        return await run_sync(function, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    return trips


@pytest.fixture
def probe(settings: Settings) -> Iterator[tuple[TestClient, dict[str, int]]]:
    """An app with one handler that saves an organisation, or refuses when asked to."""
    handler_threads: dict[str, int] = {}
    router = APIRouter(route_class=OneThreadRoute)

    @router.post("/probe")
    def save_probe(session: SessionDep, refuse: bool = False) -> dict[str, str]:
        """Save one organisation."""
        handler_threads["handler"] = threading.get_ident()
        session.add(Organisation(kind=OrgKind.vendor, code="probe", name="Probe"))
        session.flush()
        if refuse:
            raise Conflict("refused after writing")
        return {"saved": "probe"}

    app = create_app(settings)
    app.include_router(router)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, handler_threads


def _probes(db: Session) -> list[str]:
    db.expire_all()
    return list(db.scalars(select(Organisation.code).where(Organisation.code == "probe")))


def test_the_handler_and_its_commit_take_one_trip_to_a_thread(
    probe: tuple[TestClient, dict[str, int]],
    commit_threads: list[int],
    thread_trips: list[str],
    db: Session,
) -> None:
    client, handler_threads = probe
    response = client.post("/probe")
    assert response.status_code == 200, response.text
    assert response.json() == {"saved": "probe"}
    assert commit_threads == [handler_threads["handler"]]
    # FastAPI alone would take three: the handler, validating its answer, the commit.
    assert len(thread_trips) == 1, thread_trips
    assert _probes(db) == ["probe"]


def test_a_handler_that_fails_commits_nothing(
    probe: tuple[TestClient, dict[str, int]], commit_threads: list[int], db: Session
) -> None:
    client, _ = probe
    response = client.post("/probe", params={"refuse": "true"})
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert commit_threads == []
    assert _probes(db) == []


def test_the_handler_keeps_its_name_and_documentation(settings: Settings) -> None:
    app = create_app(settings)
    operation = app.openapi()["paths"]["/api/v1/projects/{project_id}/items/{code}"]["get"]
    assert operation["operationId"] == "getItem"
    assert operation["summary"] == "Get one item by its code"
    assert {parameter["name"] for parameter in operation["parameters"]} >= {
        "project_id",
        "code",
        "as_of",
    }


def test_an_authenticated_read_takes_one_trip_with_its_token_lookup(
    client: TestClient, world: World, thread_trips: list[str]
) -> None:
    project = world.projects["a_x"].id
    thread_trips.clear()
    response = client.get(f"/api/v1/projects/{project}", headers=world.auth("town_a"))
    assert response.status_code == 200, response.text
    # The token's lookup once cost a trip of its own, as much CPU as its query.
    assert len(thread_trips) == 1, thread_trips


def test_a_bad_token_is_refused_before_the_handler_runs(settings: Settings, world: World) -> None:
    ran: list[str] = []
    router = APIRouter(route_class=OneThreadRoute)

    @router.post("/guarded")
    def write_something(session: SessionDep, caller: WritingCaller) -> dict[str, str]:
        """Runs only for a caller allowed to write."""
        ran.append(caller.organisation_code)
        return {"ok": "yes"}

    app = create_app(settings)
    app.include_router(router)
    with TestClient(app, raise_server_exceptions=False) as client:
        unknown = client.post("/guarded", headers={"Authorization": "Bearer wbs_nobody"})
        read_only = client.post("/guarded", headers=world.auth("vendor_x_read_only"))
        allowed = client.post("/guarded", headers=world.auth("vendor_x"))
    assert unknown.status_code == 401
    assert unknown.headers["WWW-Authenticate"].startswith('Bearer realm="wbs-sync"')
    assert read_only.status_code == 403
    assert allowed.status_code == 200
    assert ran == [world.orgs["vendor_x"].code]


def test_a_coroutine_handler_cannot_take_a_caller_it_would_never_be_given() -> None:
    router = APIRouter(route_class=OneThreadRoute)

    async def reads_the_caller(caller: CurrentCaller) -> dict[str, str]:
        return {"who": caller.organisation_code}

    with pytest.raises(TypeError, match="take a BearerToken"):
        router.add_api_route("/held", reads_the_caller)
