"""Secrets at rest: what a copy of the database gives away (nothing in clear), the key the
embedded default makes for itself, and the key rotation an operator runs."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, text

from service.config import Settings
from service.errors import ServiceUnavailable
from service.models import Base
from service.secretbox import SecretUnreadable, secret_box
from tests.conftest import TEST_SECRET_KEY, WBS_SYNC, World
from tests.webhooks.conftest import Subscribe, secret_of


def every_value(engine: Engine) -> str:
    """Every table's every value, as a dump would hold them."""
    seen = []
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(text(f'SELECT * FROM "{table.name}"')):
                seen.extend(str(value) for value in row)
    return "\n".join(seen)


def test_no_signing_secret_or_chat_url_is_stored_in_clear(
    client: TestClient, world: World, engine: Engine, subscribe: Subscribe
) -> None:
    chat = "https://prod-01.japaneast.logic.azure.com/workflows/abc/triggers/manual?sig=TOPSECRET"
    hook = subscribe("town_a", kind="teams", target=chat)
    signed = subscribe("town_a", target="https://hooks.example.jp/wbs?token=ALSOSECRET")
    secret = secret_of(client, world, "town_a", signed["id"])
    client.post(f"/api/v1/webhooks/{signed['id']}/secret/rotate", headers=world.auth("town_a"),
                json={"overlap_hours": 24})  # fmt: skip
    dump = every_value(engine)
    for clear in ("TOPSECRET", "ALSOSECRET", secret, secret.removeprefix("whsec_"), "/workflows/"):
        assert clear not in dump
    assert "https://prod-01.japaneast.logic.azure.com/…" in dump  # the hint, for listing
    assert hook["target"] == "https://prod-01.japaneast.logic.azure.com/…"


def test_the_embedded_default_makes_its_key_once_readable_by_its_owner_only(
    tmp_path: Path,
) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'data' / 'wbs.sqlite3'}")
    box = secret_box(settings)
    key = tmp_path / "data" / "secret.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    sealed = box.seal("whsec_abc")
    # A later process reads the same key back.
    assert secret_box(settings).open(sealed) == "whsec_abc"
    # Another database elsewhere needs the setting: no key is made up on its behalf.
    with pytest.raises(ServiceUnavailable, match="WBS_SECRET_KEY"):
        secret_box(Settings(database_url="postgresql+psycopg://db.example.jp/wbs"))


def test_a_rotated_key_reads_old_secrets_and_rotation_rewrites_them(
    client: TestClient, world: World, settings: Settings, database_url: str, subscribe: Subscribe
) -> None:
    hook = subscribe("vendor_x", target="https://hooks.example.jp/wbs")
    secret = secret_of(client, world, "vendor_x", hook["id"])
    new_key = Fernet.generate_key().decode()
    environment = {**os.environ, "WBS_DATABASE_URL": database_url}
    # The new key first, the old one after it, while the stored secrets are rewritten.
    rotate = subprocess.run(
        [WBS_SYNC, "secrets", "rotate"],
        env={**environment, "WBS_SECRET_KEY": f"{new_key},{TEST_SECRET_KEY}"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert rotate.returncode == 0, rotate.stderr
    assert "1 subscriptions" in rotate.stderr
    only_new = settings.model_copy(update={"secret_key": SecretStr(new_key)})
    client.app.state.settings = only_new  # type: ignore[attr-defined]
    client.app.state.secret_box = secret_box(only_new)  # type: ignore[attr-defined]
    assert secret_of(client, world, "vendor_x", hook["id"]) == secret
    # What the new key sealed, the old one alone cannot read.
    with pytest.raises(SecretUnreadable):
        secret_box(settings).open(secret_box(only_new).seal("x"))
    # A mistyped key is refused by name, and not echoed.
    bad = subprocess.run(
        [WBS_SYNC, "secrets", "rotate"],
        env={**environment, "WBS_SECRET_KEY": "not-a-key-but-close"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2
    assert "WBS_SECRET_KEY" in bad.stderr
    assert "not-a-key-but-close" not in bad.stderr


def test_a_rule_across_settings_is_explained_without_echoing_any_setting(database_url: str) -> None:
    checked = subprocess.run(
        [WBS_SYNC, "webhook", "list"],
        env={**os.environ, "WBS_DATABASE_URL": database_url, "WBS_SECRET_KEY": TEST_SECRET_KEY,
             "WBS_WEBHOOK_LEASE_SECONDS": "10", "WBS_SMTP_PASSWORD": "hunter2"},
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert checked.returncode == 2
    assert (
        "WBS_WEBHOOK_LEASE_SECONDS must be longer than WBS_WEBHOOK_TIMEOUT_SECONDS"
        in checked.stderr
    )
    assert TEST_SECRET_KEY not in checked.stderr
    assert "hunter2" not in checked.stderr
