"""Signing in: by token or one-time link, sessions held server-side, cookies and form tokens."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.cli import main
from service.config import Settings, get_settings
from service.db import utcnow
from service.main import create_app
from service.people.models import BrowserSession, SignInLink
from service.tokens.models import ApiToken
from service.tokens.service import hash_secret
from tests.conftest import World
from tests.web.forms import csrf_of, post_form, sign_in


def test_a_token_signs_in_to_a_session_kept_only_as_a_hash(
    client: TestClient, world: World, db: Session
) -> None:
    assert client.get("/", follow_redirects=False).headers["location"] == "/sign-in?next=%2F"
    answer = sign_in(client, world.tokens["town_a"])
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http here; https below
    secret = client.cookies["wbs_session"]
    stored = db.scalars(select(BrowserSession)).all()
    assert [s.secret_hash for s in stored] == [hash_secret(secret)]
    assert secret not in {s.secret_hash for s in stored}
    home = client.get("/")
    assert home.status_code == 200
    assert "さくら町（test）" in home.text
    assert home.headers["cache-control"] == "no-store"


def test_over_https_the_cookie_is_secure(app: object, world: World) -> None:
    with TestClient(app, base_url="https://testserver") as client:  # type: ignore[arg-type]
        assert "Secure" in sign_in(client, world.tokens["town_a"]).headers["set-cookie"]


def test_a_wrong_token_is_refused_and_counts_against_the_apis_limiter(
    database_url: str, world: World
) -> None:
    settings = Settings(database_url=database_url, auth_failure_limit=3)
    with TestClient(create_app(settings)) as client:
        for _ in range(2):
            refused = sign_in(client, "wbs_not-a-token")
            assert refused.status_code == 403
            assert "このトークンではサインインできません" in refused.text
        # The API's own failures count too: one limiter, whichever door is tried.
        assert client.get("/api/v1/me", headers={"Authorization": "Bearer x"}).status_code == 401
        blocked = sign_in(client, "wbs_not-a-token-either")
        assert blocked.status_code == 429
        assert "サインインの失敗が続いたため" in blocked.text
        assert client.get("/api/v1/me", headers={"Authorization": "Bearer y"}).status_code == 429
        # Whoever else failed from this address, a person with a valid token signs in.
        assert sign_in(client, world.tokens["town_a"]).status_code == 303
        assert client.get("/api/v1/me", headers=world.auth("town_a")).status_code == 200


def test_sign_out_deletes_the_session(client: TestClient, world: World, db: Session) -> None:
    sign_in(client, world.tokens["town_a"])
    secret = client.cookies["wbs_session"]
    answer = post_form(client, "/", "/sign-out")
    assert answer.status_code == 303
    assert db.scalars(select(BrowserSession)).all() == []
    client.cookies.set("wbs_session", secret)  # a copy of the old cookie opens nothing
    assert client.get("/", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("ends", ["expired", "idle", "token revoked"])
def test_a_session_ends_when_it_expires_idles_or_its_token_is_revoked(
    client: TestClient, world: World, db: Session, ends: str
) -> None:
    sign_in(client, world.tokens["town_a"])
    long_ago = utcnow() - timedelta(days=1)
    if ends == "expired":
        db.execute(update(BrowserSession).values(expires_at=long_ago))
    elif ends == "idle":
        db.execute(update(BrowserSession).values(last_seen_at=long_ago))
    else:
        db.execute(update(ApiToken).values(revoked_at=long_ago))
    db.commit()
    answer = client.get("/projects/1", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/sign-in?next=%2Fprojects%2F1"


def test_a_form_without_its_token_is_refused_with_403(client: TestClient, world: World) -> None:
    sign_in(client, world.tokens["town_a"])
    for data in ({}, {"csrf": "0" * 64}):
        refused = client.post("/sign-out", data=data, follow_redirects=False)
        assert refused.status_code == 403
        assert "フォームを受け付けられませんでした" in refused.text
    # The sign-in form has its own token, from a cookie of its own.
    anonymous = TestClient(client.app)
    refused = anonymous.post("/sign-in", data={"token": world.tokens["town_a"]})
    assert refused.status_code == 403


def test_after_signing_in_the_person_returns_where_they_were_going_and_only_here(
    client: TestClient, world: World
) -> None:
    form = client.get("/sign-in?next=/projects/1")
    for target, landing in (("/projects/1", "/projects/1"), ("https://evil.example/", "/")):
        client.cookies.delete("wbs_session")
        answer = client.post(
            "/sign-in",
            data={"csrf": csrf_of(form), "token": world.tokens["town_a"], "next": target},
            follow_redirects=False,
        )
        assert answer.headers["location"] == landing


def issue(client: TestClient, world: World, who: str, token_id: int) -> tuple[int, str]:
    answer = client.post(
        "/api/v1/sign-in-links", json={"token_id": token_id}, headers=world.auth(who)
    )
    return answer.status_code, answer.json().get("url", "")


def token_id(db: Session, world: World, organisation: str, name: str = "test") -> int:
    found = db.scalar(
        select(ApiToken.id).where(
            ApiToken.organisation_id == world.orgs[organisation].id, ApiToken.name == name
        )
    )
    assert found is not None
    return found


def test_a_sign_in_link_works_once_and_names_the_person(
    client: TestClient, world: World, db: Session
) -> None:
    status, url = issue(client, world, "pmo", token_id(db, world, "town_a", "viewer"))
    assert status == 201
    assert url.startswith("http://testserver/sign-in/link/")
    secret = url.rsplit("/", 1)[1]
    assert db.scalars(select(SignInLink.secret_hash)).all() == [hash_secret(secret)]
    path = url.removeprefix("http://testserver")
    # Opening the link (as a mail scanner would) changes nothing; the button signs in.
    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["referrer-policy"] == "no-referrer"
    answer = client.post(
        "/sign-in/link", data={"csrf": csrf_of(page), "secret": secret}, follow_redirects=False
    )
    assert answer.status_code == 303
    home = client.get("/")
    assert "さくら町（viewer）" in home.text
    assert "閲覧専用" in home.text
    client.cookies.delete("wbs_session")
    again = client.post("/sign-in/link", data={"csrf": csrf_of(page), "secret": secret})
    assert again.status_code == 403
    assert "使用済みか、期限切れ" in again.text


def test_an_expired_link_signs_nobody_in(client: TestClient, world: World, db: Session) -> None:
    _, url = issue(client, world, "town_a", token_id(db, world, "town_a"))
    db.execute(update(SignInLink).values(expires_at=utcnow() - timedelta(minutes=1)))
    db.commit()
    page = client.get(url.removeprefix("http://testserver"))
    answer = client.post(
        "/sign-in/link", data={"csrf": csrf_of(page), "secret": url.rsplit("/", 1)[1]}
    )
    assert answer.status_code == 403


def test_links_are_issued_by_the_pmo_or_the_tokens_own_organisation(
    client: TestClient, world: World, db: Session
) -> None:
    town_a = token_id(db, world, "town_a")
    assert issue(client, world, "pmo", town_a)[0] == 201
    assert issue(client, world, "town_a", town_a)[0] == 201
    assert issue(client, world, "town_b", town_a)[0] == 404
    assert issue(client, world, "vendor_x", town_a)[0] == 404
    assert issue(client, world, "town_a_read_only", town_a)[0] == 403
    assert issue(client, world, "pmo", 999_999)[0] == 404


def test_the_command_line_prints_a_link_for_a_token(
    database_url: str,
    world: World,
    db: Session,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("WBS_DATABASE_URL", database_url)
    monkeypatch.setenv("WBS_WEB_PUBLIC_URL", "https://wbs.example.jp")
    get_settings.cache_clear()
    try:
        assert main(["sign-in-link", "--token", str(token_id(db, world, "town_b"))]) == 0
        printed = capsys.readouterr().out.strip()
        assert printed.startswith("https://wbs.example.jp/sign-in/link/")
        assert main(["sign-in-link", "--token", "999999"]) == 2
    finally:
        get_settings.cache_clear()
    secret = printed.rsplit("/", 1)[1]
    assert (
        db.scalar(select(SignInLink.issued_by).where(SignInLink.secret_hash == hash_secret(secret)))
        == "cli"
    )


def test_the_demo_prints_a_link_that_signs_each_organisation_in(
    database_url: str,
    db: Session,
    client: TestClient,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("WBS_DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        assert main(["demo"]) == 0
    finally:
        get_settings.cache_clear()
    links = dict(
        line.strip().split(": ", 1)
        for line in capsys.readouterr().out.splitlines()
        if "/sign-in/link/" in line
    )
    assert set(links) == {"pmo", "sakura-town", "midori-city", "mirai-sys"}
    path = links["sakura-town"].removeprefix("http://127.0.0.1:8000")
    page = client.get(path)
    client.post("/sign-in/link", data={"csrf": csrf_of(page), "secret": path.rsplit("/", 1)[1]})
    assert "ホーム: さくら町" in client.get("/").text
