"""Signing in and sending forms through the TestClient, as a browser without scripts does."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from httpx2 import Response

_CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')


def csrf_of(page: Response) -> str:
    found = _CSRF.search(page.text)
    assert found, "the page carries no form token"
    return found.group(1)


def sign_in(client: TestClient, token: str) -> Response:
    client.cookies.delete("wbs_session")
    form = client.get("/sign-in")
    return client.post(
        "/sign-in", data={"csrf": csrf_of(form), "token": token}, follow_redirects=False
    )


def post_form(client: TestClient, page: str, action: str, **fields: str) -> Response:
    """Fill in the form of `page` (its token) and send it to `action`."""
    token = csrf_of(client.get(page))
    return client.post(action, data={"csrf": token, **fields}, follow_redirects=False)
