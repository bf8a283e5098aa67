from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.cli import main
from service.config import get_settings
from service.items.models import Item, Responsibility
from service.organisations.models import Organisation
from service.projects.models import Project
from service.tokens.models import ApiToken
from service.tokens.service import hash_secret
from tests.conftest import World


@pytest.fixture
def cli_env(database_url: str, db: Session, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("WBS_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("cli_env")
def test_bootstrap_an_organisation_and_a_token_from_the_shell(
    capsys: pytest.CaptureFixture[str], client: TestClient, db: Session
) -> None:
    assert main(["org", "create", "--kind", "pmo", "--code", "pmo", "--name", "PMO"]) == 0
    capsys.readouterr()
    assert (
        main(
            [
                "token",
                "create",
                "--org",
                "pmo",
                "--name",
                "admin",
                "--read-only",
                "--expires-in-days",
                "30",
            ]
        )
        == 0
    )
    secret = capsys.readouterr().out
    assert secret.count("\n") == 1
    secret = secret.strip()
    assert secret.startswith("wbs_")
    assert len(secret) >= 4 + 43

    stored = db.scalar(select(ApiToken))
    assert stored is not None
    assert stored.token_hash == hash_secret(secret)
    assert secret not in (stored.token_hash, stored.prefix)

    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200
    assert me.json()["read_only"] is True

    assert main(["token", "list"]) == 0
    listing = capsys.readouterr().out
    assert "admin" in listing
    assert secret not in listing

    assert main(["token", "revoke", str(stored.id)]) == 0
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    )


@pytest.mark.usefixtures("cli_env")
def test_cli_errors_are_plain_messages(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["org", "create", "--kind", "vendor", "--code", "v", "--name", "V"]) == 0
    assert main(["org", "create", "--kind", "vendor", "--code", "v", "--name", "V"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["token", "create", "--org", "nobody", "--name", "x"]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["org", "create", "--kind", "vendor", "--code", "bad code!", "--name", "V"]) == 2


@pytest.mark.usefixtures("cli_env")
def test_demo_loads_once_and_prints_working_tokens(
    capsys: pytest.CaptureFixture[str], client: TestClient, db: Session
) -> None:
    assert main(["demo"]) == 0
    first = capsys.readouterr().out
    assert main(["demo"]) == 0
    second = capsys.readouterr().out
    assert "already present" in second
    assert db.scalar(select(func.count()).select_from(Project)) == 2
    assert db.scalar(select(func.count()).select_from(Organisation)) == 4

    tokens = dict(
        line.strip().removeprefix("export ").split("=", 1)
        for line in second.splitlines()
        if line.strip().startswith("export ")
    )
    old = next(line.split("=", 1)[1] for line in first.splitlines() if "WBS_TOKEN_PMO=" in line)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {old}"}).status_code == 401

    town = {"Authorization": f"Bearer {tokens['WBS_TOKEN_SAKURA_TOWN']}"}
    vendor = {"Authorization": f"Bearer {tokens['WBS_TOKEN_MIRAI_SYS']}"}
    assert len(client.get("/api/v1/projects", headers=town).json()["items"]) == 1
    vendor_projects = client.get("/api/v1/projects", headers=vendor).json()["items"]
    assert len(vendor_projects) == 2
    assert {p["vendor"]["code"] for p in vendor_projects} == {"mirai-sys"}

    for project in vendor_projects:
        items = client.get(
            f"/api/v1/projects/{project['id']}/items?limit=1000", headers=vendor
        ).json()["items"]
        assert 35 <= len(items) <= 50
        assert {i["responsibility"] for i in items} == {"vendor", "municipality", "joint"}
        overdue = [i for i in items if i["overdue"]]
        assert 2 <= len(overdue) <= 8
        assert {"vendor", "municipality"} <= {i["responsibility"] for i in overdue}
    municipal_items = db.scalar(
        select(func.count())
        .select_from(Item)
        .where(Item.responsibility == Responsibility.municipality)
    )
    assert (municipal_items or 0) > 10


def test_openapi_check_fails_on_a_stale_file(tmp_path: Path) -> None:
    stale = tmp_path / "openapi.json"
    stale.write_text("{}", encoding="utf-8")
    assert main(["openapi", "--check", "--output", str(stale)]) == 1
    assert main(["openapi", "--output", str(stale)]) == 0
    assert main(["openapi", "--check", "--output", str(stale)]) == 0


@pytest.mark.usefixtures("cli_env")
def test_import_from_the_shell_prints_a_summary_and_every_sheet_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, world: World, db: Session
) -> None:
    from tests.importers.sheets import workbook_bytes

    good = tmp_path / "wbs.xlsx"
    good.write_bytes(
        workbook_bytes(
            (
                "WBS",
                [
                    ["項番", "作業項目", "担当", "期限"],
                    ["1", "計画", "ベンダー", "R7.4.30"],
                    ["1-1", "体制", "自治体", "4月下旬"],
                ],
            )
        )
    )
    project = str(world.projects["a_x"].id)
    assert main(["import", str(good), "--project", project, "--dry-run"]) == 0
    assert "dry run" in capsys.readouterr().out
    assert db.scalar(select(func.count()).select_from(Item)) == 0
    assert main(["import", str(good), "--project", project]) == 0
    out = capsys.readouterr().out
    assert "2 rows: 2 created" in out
    assert db.scalar(select(func.count()).select_from(Item)) == 2

    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(
        workbook_bytes(
            (
                "WBS",
                [["項番", "作業項目", "担当", "期限"], ["1", "計画", "外注", "平成27年13月40日"]],
            )
        )
    )
    assert main(["import", str(bad), "--project", project]) == 1
    err = capsys.readouterr().err
    assert "WBS!C2 [外注]" in err
    assert "WBS!D2 [平成27年13月40日]" in err
    assert main(["import", str(tmp_path / "none.xlsx"), "--project", project]) == 2


def test_bad_settings_are_named_one_per_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WBS_TIMEZONE", "Mars/Olympus")
    monkeypatch.setenv("WBS_DB_POOL_SIZE", "lots")
    get_settings.cache_clear()
    try:
        assert main(["db", "head"]) == 2
    finally:
        get_settings.cache_clear()
    err = capsys.readouterr().err
    assert "WBS_TIMEZONE: Value error, unknown time zone 'Mars/Olympus'" in err
    assert "WBS_DB_POOL_SIZE:" in err
    assert "Traceback" not in err


def test_every_setting_is_documented() -> None:
    from service.config import Settings

    table = (Path(__file__).resolve().parents[1] / "docs" / "configuration.md").read_text(
        encoding="utf-8"
    )
    missing = [name for name in Settings.model_fields if f"`WBS_{name.upper()}`" not in table]
    assert missing == []
