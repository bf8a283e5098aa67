from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from service.config import Settings
from service.db import utcnow
from service.main import create_app
from service.models import Base
from service.tokens.models import ApiToken, AuthFailure
from service.tokens.service import hash_secret
from tests.conftest import World


def test_me_names_the_callers_organisation_and_token(client: TestClient, world: World) -> None:
    response = client.get("/api/v1/me", headers=world.auth("town_a_read_only"))
    assert response.status_code == 200
    body = response.json()
    assert body["organisation"]["code"] == "town-a"
    assert body["organisation"]["kind"] == "municipality"
    assert body["token_name"] == "viewer"
    assert body["read_only"] is True


def test_pmo_issues_a_token_shown_once_and_stored_as_a_hash(
    client: TestClient, world: World, db: Session
) -> None:
    response = client.post(
        "/api/v1/tokens",
        headers=world.auth("pmo"),
        json={"organisation_id": world.orgs["town_b"].id, "name": "script", "expires_in_days": 7},
    )
    assert response.status_code == 201
    secret = response.json()["token"]
    assert response.json()["expires_at"] is not None
    stored = db.scalar(select(ApiToken).where(ApiToken.name == "script"))
    assert stored is not None
    assert stored.token_hash == hash_secret(secret)
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).json()[
            "organisation"
        ]["code"]
        == "town-b"
    )

    listing = client.get("/api/v1/tokens", headers=world.auth("pmo"))
    assert listing.status_code == 200
    assert secret not in listing.text
    assert "script" in listing.text
    assert all("token" not in item for item in listing.json()["items"])


def test_revoked_and_expired_tokens_are_401_with_a_bearer_challenge(
    client: TestClient, world: World, db: Session
) -> None:
    token_id = client.post(
        "/api/v1/tokens",
        headers=world.auth("pmo"),
        json={"organisation_id": world.orgs["town_a"].id, "name": "t"},
    ).json()
    secret = token_id["token"]
    assert (
        client.delete(f"/api/v1/tokens/{token_id['id']}", headers=world.auth("pmo")).status_code
        == 204
    )
    assert (
        client.delete(f"/api/v1/tokens/{token_id['id']}", headers=world.auth("pmo")).status_code
        == 204
    )
    revoked = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert revoked.status_code == 401
    assert revoked.headers["WWW-Authenticate"].startswith("Bearer")

    expired = db.scalar(select(ApiToken).where(ApiToken.organisation_id == world.orgs["town_b"].id))
    assert expired is not None
    expired.expires_at = utcnow() - timedelta(seconds=1)
    db.commit()
    assert client.get("/api/v1/me", headers=world.auth("town_b")).status_code == 401


def test_malformed_authorization_headers_are_401(client: TestClient, world: World) -> None:
    for value in (
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "Bearer not-a-token",
        world.tokens["pmo"],
        "bearer  ",
    ):
        response = client.get("/api/v1/me", headers={"Authorization": value})
        assert response.status_code == 401, value
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_last_use_is_recorded(client: TestClient, world: World, db: Session) -> None:
    client.get("/api/v1/me", headers=world.auth("vendor_y"))
    token = db.scalar(select(ApiToken).where(ApiToken.organisation_id == world.orgs["vendor_y"].id))
    assert token is not None
    db.refresh(token)
    assert token.last_used_at is not None


def test_a_lock_held_elsewhere_skips_recording_last_use_instead_of_waiting(
    client: TestClient, world: World, db: Session, engine: Engine
) -> None:
    # A long import holds SQLite's write lock, or on PostgreSQL the row of the token it was
    # sent with, for minutes: a call with that token must not wait to note its use.
    token_id = db.scalars(
        select(ApiToken.id).where(ApiToken.organisation_id == world.orgs["vendor_y"].id)
    ).one()
    with engine.connect() as importer:
        if engine.dialect.name == "sqlite":
            importer.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            importer.execute(select(ApiToken.id).where(ApiToken.id == token_id).with_for_update())
        with ThreadPoolExecutor(1) as caller:
            try:
                calling = caller.submit(client.get, "/api/v1/me", headers=world.auth("vendor_y"))
                assert calling.result(timeout=10).status_code == 200  # the lock's wait is 30 s
            finally:
                importer.rollback()
    assert db.get(ApiToken, token_id, populate_existing=True).last_used_at is None  # type: ignore[union-attr]
    # Once the lock is gone, the next call records it.
    assert client.get("/api/v1/me", headers=world.auth("vendor_y")).status_code == 200
    assert db.get(ApiToken, token_id, populate_existing=True).last_used_at is not None  # type: ignore[union-attr]


def test_only_the_pmo_manages_tokens(client: TestClient, world: World) -> None:
    body = {"organisation_id": world.orgs["town_a"].id, "name": "x"}
    assert (
        client.post("/api/v1/tokens", headers=world.auth("vendor_x"), json=body).status_code == 403
    )
    assert client.post("/api/v1/tokens", headers=world.auth("town_a"), json=body).status_code == 403
    assert client.get("/api/v1/tokens", headers=world.auth("town_a")).status_code == 403
    assert (
        client.post(
            "/api/v1/tokens", headers=world.auth("pmo"), json={**body, "organisation_id": 99999}
        ).status_code
        == 404
    )


def test_guessing_is_slowed_down_without_locking_out_valid_tokens(
    world: World, database_url: str
) -> None:
    settings = Settings(
        database_url=database_url, auth_failure_limit=3, auth_failure_window_seconds=60
    )
    with TestClient(create_app(settings)) as client:
        statuses = [
            client.get("/api/v1/me", headers={"Authorization": "Bearer wrong"}).status_code
            for _ in range(4)
        ]
        assert statuses == [401, 401, 401, 429]
        blocked = client.get("/api/v1/me", headers={"Authorization": "Bearer wrong"})
        assert blocked.status_code == 429
        assert 1 <= int(blocked.headers["Retry-After"]) <= 60
        assert blocked.headers["content-type"] == "application/problem+json"
        # Someone else behind the same address, with a valid token, is never refused.
        assert client.get("/api/v1/me", headers=world.auth("pmo")).status_code == 200
        # Missing credentials are not a guess: always 401 with the challenge, never 429.
        for _ in range(5):
            missing = client.get("/api/v1/me")
            assert missing.status_code == 401
            assert missing.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_limit_holds_across_processes(world: World, database_url: str) -> None:
    settings = Settings(
        database_url=database_url, auth_failure_limit=3, auth_failure_window_seconds=60
    )
    wrong = {"Authorization": "Bearer wrong"}
    with TestClient(create_app(settings)) as one, TestClient(create_app(settings)) as two:
        assert [one.get("/api/v1/me", headers=wrong).status_code for _ in range(2)] == [401, 401]
        assert [two.get("/api/v1/me", headers=wrong).status_code for _ in range(2)] == [401, 429]
        assert one.get("/api/v1/me", headers=wrong).status_code == 429


def test_a_window_that_has_ended_counts_afresh(
    world: World, database_url: str, db: Session
) -> None:
    settings = Settings(
        database_url=database_url, auth_failure_limit=1, auth_failure_window_seconds=60
    )
    wrong = {"Authorization": "Bearer wrong"}
    with TestClient(create_app(settings)) as client:
        assert [client.get("/api/v1/me", headers=wrong).status_code for _ in range(2)] == [401, 429]
    db.execute(update(AuthFailure).values(window_started_at=utcnow() - timedelta(seconds=61)))
    db.commit()
    with TestClient(create_app(settings)) as client:
        assert client.get("/api/v1/me", headers=wrong).status_code == 401


def test_no_table_holds_a_token_after_tokens_are_issued(
    client: TestClient, world: World, db: Session, engine: Engine
) -> None:
    """A database dump yields no working token: only hashes, whatever path issued them."""
    secrets = list(world.tokens.values())
    for index, key in enumerate(("k-1", None, "k-1")):
        headers = {**world.auth("pmo"), **({"Idempotency-Key": key} if key else {})}
        body = {"organisation_id": world.orgs["town_a"].id, "name": f"staff-{index}"}
        if key and index == 2:
            body["name"] = "staff-0"  # the same request again
        response = client.post("/api/v1/tokens", headers=headers, json=body)
        if index == 2:
            assert response.status_code == 409, response.text
            assert "shown only once" in response.json()["detail"]
            assert "token" not in response.json()
        else:
            assert response.status_code == 201, response.text
            assert response.headers["Cache-Control"] == "no-store"
            secrets.append(response.json()["token"])
    dumped = []
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(table.select()):
                dumped.append(repr(tuple(row)))
    text = "\n".join(dumped)
    assert secrets
    assert [secret for secret in secrets if secret in text] == []
    assert [secret for secret in secrets if hash_secret(secret) not in text] == []


def test_tokens_never_reach_the_logs(
    client: TestClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client.get("/api/v1/me", headers=world.auth("pmo"))
    client.get("/api/v1/me", headers={"Authorization": "Bearer wbs_guessed-secret-value"})
    client.post(
        "/api/v1/tokens",
        headers=world.auth("pmo"),
        json={"organisation_id": world.orgs["town_a"].id, "name": "n"},
    )
    assert caplog.records, "expected the request to log something at DEBUG"
    assert world.tokens["pmo"] not in caplog.text
    assert "guessed-secret-value" not in caplog.text
