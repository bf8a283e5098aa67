from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from service.changes.models import ChangeEvent
from service.config import Settings
from service.db import utcnow
from service.idempotency import claims
from service.idempotency import middleware as idempotency
from service.idempotency.models import IdempotencyKey
from service.items import service as items_service
from service.items.models import Item
from service.main import create_app
from service.tokens.service import issue_token
from tests.conftest import ItemFactory, World

BODY = {"code": "1", "title": "計画", "responsibility": "vendor"}


def create(
    client: TestClient,
    world: World,
    key: str,
    body: dict[str, object] = BODY,
    who: str = "vendor_x",
) -> object:
    return client.post(
        f"/api/v1/projects/{world.projects['a_x'].id}/items",
        headers={**world.auth(who), "Idempotency-Key": key},
        json=body,
    )


def count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def test_a_retry_replays_the_first_answer_without_applying_again(
    client: TestClient, world: World, db: Session
) -> None:
    first = create(client, world, "k-1")
    again = create(client, world, "k-1")
    assert first.status_code == again.status_code == 201  # type: ignore[attr-defined]
    assert again.json() == first.json()  # type: ignore[attr-defined]
    assert again.headers["Idempotent-Replayed"] == "true"  # type: ignore[attr-defined]
    assert "Idempotent-Replayed" not in first.headers  # type: ignore[attr-defined]
    assert again.headers["ETag"] == first.headers["ETag"]  # type: ignore[attr-defined]
    assert (count(db, Item), count(db, ChangeEvent)) == (1, 1)


def test_the_same_key_with_another_body_is_409(client: TestClient, world: World) -> None:
    create(client, world, "k-2")
    response = create(client, world, "k-2", {**BODY, "title": "別"})
    assert response.status_code == 409  # type: ignore[attr-defined]
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"  # type: ignore[attr-defined]


def test_keys_belong_to_their_caller(client: TestClient, world: World, db: Session) -> None:
    assert create(client, world, "shared", who="vendor_x").status_code == 201  # type: ignore[attr-defined]
    other = create(client, world, "shared", who="pmo")
    assert other.status_code == 409  # type: ignore[attr-defined]
    assert "Idempotent-Replayed" not in other.headers  # type: ignore[attr-defined]
    assert "already used" in other.json()["detail"]  # type: ignore[attr-defined]


def test_a_failed_attempt_releases_the_key(client: TestClient, world: World, db: Session) -> None:
    bad = create(client, world, "k-3", {**BODY, "code": "1-1"})
    assert bad.status_code == 404  # type: ignore[attr-defined]
    assert count(db, IdempotencyKey) == 0
    assert create(client, world, "k-3").status_code == 201  # type: ignore[attr-defined]


def test_patch_and_bulk_push_replay_too(
    client: TestClient, world: World, make_item: ItemFactory, db: Session
) -> None:
    make_item(code="1", responsibility="municipality")
    url = f"/api/v1/projects/{world.projects['a_x'].id}/items/1"
    headers = {**world.auth("town_a"), "Idempotency-Key": "p-1"}
    first = client.patch(url, headers=headers, json={"progress": 10})
    again = client.patch(url, headers=headers, json={"progress": 10})
    assert again.json()["version"] == first.json()["version"] == 2
    assert again.headers["Idempotent-Replayed"] == "true"
    bulk = f"/api/v1/projects/{world.projects['a_x'].id}/items/bulk"
    body = {"items": [{"code": "2", "title": "二", "responsibility": "vendor"}]}
    headers = {**world.auth("vendor_x"), "Idempotency-Key": "b-1"}
    assert (
        client.post(bulk, headers=headers, json=body).json()
        == client.post(bulk, headers=headers, json=body).json()
    )
    assert count(db, Item) == 2


def test_a_retry_while_the_first_still_runs_is_409(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = items_service.create_item
    started, retried = threading.Event(), threading.Event()

    def slow(*args: object, **kwargs: object) -> object:
        started.set()
        # Still running until the retry has its answer, however slowly a loaded machine
        # gets the retry there (a fixed one-second sleep was sometimes not enough).
        retried.wait(10)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(items_service, "create_item", slow)
    results: list[object] = []
    first = threading.Thread(target=lambda: results.append(create(client, world, "k-4")))
    first.start()
    assert started.wait(10)
    second = create(client, world, "k-4")
    retried.set()
    first.join()
    assert second.status_code == 409  # type: ignore[attr-defined]
    assert second.headers["Retry-After"]  # type: ignore[attr-defined]
    assert results[0].status_code == 201  # type: ignore[attr-defined]


def test_another_process_sharing_the_database_replays_the_answer(
    world: World, database_url: str, db: Session
) -> None:
    settings = Settings(database_url=database_url, auth_failure_limit=1000)
    with TestClient(create_app(settings)) as one, TestClient(create_app(settings)) as two:
        first = create(one, world, "k-5")
        again = create(two, world, "k-5")
    assert again.headers["Idempotent-Replayed"] == "true"  # type: ignore[attr-defined]
    assert again.json() == first.json()  # type: ignore[attr-defined]
    assert count(db, Item) == 1


def test_an_expired_key_applies_anew(client: TestClient, world: World, db: Session) -> None:
    create(client, world, "k-6")
    db.execute(update(IdempotencyKey).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.commit()
    again = create(client, world, "k-6")
    assert again.status_code == 409  # type: ignore[attr-defined]
    assert "Idempotent-Replayed" not in again.headers  # type: ignore[attr-defined]


def test_a_malformed_key_is_422(client: TestClient, world: World) -> None:
    assert create(client, world, "x" * 256).status_code == 422  # type: ignore[attr-defined]


def _die_before_answering(monkeypatch: pytest.MonkeyPatch) -> None:
    """The attempt fails mid-write and its claim cannot be let go: the database went away."""

    def killed(*args: object, **kwargs: object) -> object:
        raise RuntimeError("the process was killed here")

    def unreachable(*args: object) -> None:
        raise OperationalError("DELETE", {}, Exception("the database is down"))

    monkeypatch.setattr(items_service, "create_item", killed)
    monkeypatch.setattr(claims, "release", unreachable)


def _fall_silent(db: Session) -> None:
    """As the claims look once their process has not renewed them for a while."""
    db.execute(
        update(IdempotencyKey).values(
            heartbeat_at=utcnow() - claims.SILENT_AFTER - timedelta(seconds=1)
        )
    )
    db.commit()


def test_a_claim_left_by_a_dead_attempt_is_taken_over_once_it_falls_silent(
    client: TestClient, world: World, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as dying:
        _die_before_answering(dying)
        assert create(client, world, "k-7").status_code == 500  # type: ignore[attr-defined]
    assert count(db, Item) == 0
    soon = create(client, world, "k-7")
    assert soon.status_code == 409  # type: ignore[attr-defined]
    _fall_silent(db)
    later = create(client, world, "k-7")
    assert later.status_code == 201, later.text  # type: ignore[attr-defined]
    assert count(db, Item) == 1
    replay = create(client, world, "k-7")
    assert replay.headers["Idempotent-Replayed"] == "true"  # type: ignore[attr-defined]
    assert count(db, Item) == 1


def test_only_one_of_two_retries_takes_a_silent_claim_over(
    client: TestClient, world: World, db: Session, monkeypatch: pytest.MonkeyPatch, app: FastAPI
) -> None:
    with monkeypatch.context() as dying:
        _die_before_answering(dying)
        assert create(client, world, "k-8").status_code == 500  # type: ignore[attr-defined]
    _fall_silent(db)
    claim = db.scalars(select(IdempotencyKey)).one()
    arguments = (app.state.session_factory, claim.scope, claim.key, claim.fingerprint, 24)
    first = claims.claim(*arguments)
    second = claims.claim(*arguments)
    assert (first.outcome, second.outcome) == ("new", "running")
    assert first.held is not None
    assert first.held.attempt == 2


def test_an_attempt_overtaken_by_a_retry_applies_nothing(
    client: TestClient,
    world: World,
    db: Session,
    make_item: ItemFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """However wrongly a claim is judged dead, the request is applied once: by the newest attempt."""
    make_item(code="1", responsibility="municipality")
    real = items_service.update_item
    started, overtaken = threading.Event(), threading.Event()

    def slow_first(*args: object, **kwargs: object) -> object:
        if not started.is_set():
            started.set()
            overtaken.wait(10)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(items_service, "update_item", slow_first)
    url = f"/api/v1/projects/{world.projects['a_x'].id}/items/1"
    headers = {**world.auth("town_a"), "Idempotency-Key": "k-9"}

    def report_progress() -> object:
        return client.patch(url, headers=headers, json={"progress": 40, "notes": "途中"})

    results: list[object] = []
    first = threading.Thread(target=lambda: results.append(report_progress()))
    first.start()
    assert started.wait(10)
    _fall_silent(db)
    retry = report_progress()
    overtaken.set()
    first.join()
    assert retry.status_code == 200, retry.text  # type: ignore[attr-defined]
    assert results[0].status_code == 409  # type: ignore[attr-defined]
    assert "took it over" in results[0].json()["detail"]  # type: ignore[attr-defined]
    updates = db.scalars(select(ChangeEvent).where(ChangeEvent.kind == "updated")).all()
    assert len(updates) == 1
    assert db.scalar(select(Item.version)) == 2
    assert report_progress().headers["Idempotent-Replayed"] == "true"  # type: ignore[attr-defined]


def test_the_answer_is_kept_before_it_is_sent(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """So a retry arriving the moment the first answer does replays it instead of hearing 409."""
    order: list[str] = []
    complete, send = claims.complete, idempotency._Answer.send

    def kept(*args: object) -> None:
        complete(*args)  # type: ignore[arg-type]
        order.append("kept")

    async def sent(self: idempotency._Answer, *args: object) -> None:
        order.append("sent")
        await send(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(claims, "complete", kept)
    monkeypatch.setattr(idempotency._Answer, "send", sent)
    assert create(client, world, "k-10").status_code == 201  # type: ignore[attr-defined]
    assert order == ["kept", "sent"]


def test_the_same_request_spelled_differently_is_the_same_request(
    client: TestClient, world: World, db: Session
) -> None:
    url = f"/api/v1/projects/{world.projects['a_x'].id}/items?as_of=2026-04-01&limit=5"
    reordered = f"/api/v1/projects/{world.projects['a_x'].id}/items?limit=5&as_of=2026-04-01"
    headers = {**world.auth("vendor_x"), "Idempotency-Key": "k-11"}
    body = '{"code": "1", "title": "計画", "responsibility": "vendor"}'
    spelled = '{\n  "responsibility" : "vendor",\n  "title": "計画", "code":"1"\n}'
    first = client.post(url, headers={**headers, "Content-Type": "application/json"}, content=body)
    assert first.status_code == 201, first.text
    again = client.post(
        reordered,
        headers={**headers, "Content-Type": "application/json; charset=utf-8"},
        content=spelled.encode(),
    )
    assert again.status_code == 201, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    other = client.post(
        url,
        headers={**headers, "Content-Type": "application/json"},
        content=body.replace("計画", "別"),
    )
    assert other.status_code == 409
    assert other.json()["errors"][0]["type"] == "idempotency_mismatch"
    assert count(db, Item) == 1


def test_an_upload_retried_with_a_new_multipart_boundary_is_the_same_upload(
    client: TestClient, world: World, db: Session
) -> None:
    url = f"/api/v1/projects/{world.projects['a_x'].id}/imports"
    sheet = "項番,作業項目,担当\n1,計画,共同\n".encode()
    headers = {**world.auth("vendor_x"), "Idempotency-Key": "k-12"}

    def multipart(boundary: str) -> tuple[bytes, str]:
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="wbs.csv"\r\nContent-Type: text/csv\r\n\r\n'
            ).encode()
            + sheet
            + f"\r\n--{boundary}--\r\n".encode()
        )
        return body, f"multipart/form-data; boundary={boundary}"

    body, content_type = multipart("a1b2c3")
    first = client.post(url, headers={**headers, "Content-Type": content_type}, content=body)
    assert first.status_code == 201, first.text
    body, content_type = multipart("zz-another-boundary-99")
    again = client.post(url, headers={**headers, "Content-Type": content_type}, content=body)
    assert again.status_code == 201, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count(db, Item) == 1


def test_a_revoked_token_replays_nothing(client: TestClient, world: World, db: Session) -> None:
    token, secret = issue_token(db, world.orgs["vendor_x"], "short-lived")
    db.commit()
    headers = {"Authorization": f"Bearer {secret}", "Idempotency-Key": "k-13"}
    url = f"/api/v1/projects/{world.projects['a_x'].id}/items"
    assert client.post(url, headers=headers, json=BODY).status_code == 201
    token.revoked_at = utcnow()
    db.commit()
    replay = client.post(url, headers=headers, json=BODY)
    assert replay.status_code == 401
    assert "Idempotent-Replayed" not in replay.headers
    assert replay.headers["WWW-Authenticate"].startswith("Bearer")
