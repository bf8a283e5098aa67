"""`wbs-sync templates …` and `wbs-sync replans …` from the shell."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from service.cli import main
from service.config import get_settings
from service.organisations.models import Organisation
from tests.conftest import World
from tests.templates.plans import ANCHOR, day, edit, item, make_projects


@pytest.fixture
def cli_env(database_url: str, db: Session, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("WBS_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("cli_env")
def test_a_template_from_a_workbook_and_a_replan_previewed_and_applied_from_the_shell(
    capsys: pytest.CaptureFixture[str],
    client: TestClient,
    world: World,
    towns: list[Organisation],
    tmp_path: Path,
) -> None:
    sheet = tmp_path / "標準WBS.csv"
    sheet.write_text(
        "項番,作業項目,担当,開始,終了\n"
        "1,計画,共同,2026/4/1,2026/4/30\n"
        "1-1,体制確認,自治体,2026/4/1,2026/4/10\n"
        "2,移行,ベンダー,2026/6/1,2026/6/30\n",
        encoding="utf-8",
    )
    created = main(
        ["templates", "create", "--org", "vendor-x", "--workbook", str(sheet), "--publish"]
    )
    assert created == 0
    template_id = int(capsys.readouterr().out.strip())
    assert main(["templates", "list", "--org", "vendor-x"]) == 0
    assert f"{template_id}\tvendor-x\t標準WBS\t1 published" in capsys.readouterr().out
    projects = make_projects(client, world, template_id, towns[:3])
    edit(client, world, projects[1], "2", planned_end=day(100, ANCHOR + timedelta(days=1)))

    assert main(["replans", "preview", "--template", str(template_id), "--shift", "2=14"]) == 0
    shown = capsys.readouterr().out
    assert f"replan 1 of template {template_id} to version 2: previewed" in shown
    assert "3 projects: 3 item changes, 1 conflicts" in shown
    assert (
        "conflict 2 planned_end: template '2026-07-01' → '2026-07-15', project '2026-07-11'"
        in shown
    )

    assert main(["replans", "apply", "--template", str(template_id), "--replan", "1"]) == 0
    output = capsys.readouterr()
    assert "3 applied, 0 failed" in output.out
    assert "3/3 projects" in output.err
    assert item(client, world, projects[0], "2")["planned_end"] == "2026-07-14"
    assert item(client, world, projects[1], "2")["planned_end"] == "2026-07-11"

    assert main(["replans", "apply", "--template", str(template_id), "--replan", "1"]) == 2
    assert "applied already" in capsys.readouterr().err
    assert main(["replans", "preview", "--template", "999", "--to-version", "1"]) == 2
    assert "there is no template 999" in capsys.readouterr().err
