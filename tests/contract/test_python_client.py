"""A Python client generated from the committed openapi.json plays the real story.

The vendor uploads its WBS, the municipality lists what is late on its side and reports one
item done, the vendor follows the change feed and sees it, the PMO reads the progress report.
Generated into a temporary folder on every run; no hand-written HTTP here.
"""

from __future__ import annotations

import importlib
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import ServerFactory, World
from tests.importers.sheets import workbook_bytes

ROOT = Path(__file__).resolve().parents[2]
GENERATOR = str(Path(sys.executable).with_name("openapi-python-client"))
AS_OF = date(2026, 4, 10)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    out = tmp_path_factory.mktemp("client") / "wbs_sync_client"
    # No generator configuration: as someone else would generate it. Its post-hooks format the
    # code with ruff, found on the PATH.
    result = subprocess.run(
        [GENERATOR, "generate", "--path", str(ROOT / "openapi" / "openapi.json"), "--output-path", str(out),
         "--meta", "none"],
        capture_output=True, text=True, check=False,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    sys.path.insert(0, str(out.parent))
    try:
        yield importlib.import_module("wbs_sync_client")
    finally:
        sys.path.remove(str(out.parent))
        for name in [n for n in sys.modules if n.startswith("wbs_sync_client")]:
            del sys.modules[name]


def module(root: ModuleType, name: str) -> Any:
    return importlib.import_module(f"{root.__name__}.{name}")


def test_the_story_through_a_generated_python_client(
    generated: ModuleType, serve: ServerFactory, world: World
) -> None:
    base, _ = serve()
    with ExitStack() as clients:

        def as_(who: str) -> Any:
            client = generated.AuthenticatedClient(
                base_url=base, token=world.tokens[who], raise_on_unexpected_status=True
            )
            return clients.enter_context(client)

        play_the_story(generated, world, as_)


def play_the_story(generated: ModuleType, world: World, as_: Any) -> None:
    vendor, town, pmo = as_("vendor_x"), as_("town_a"), as_("pmo")
    project_id = world.projects["a_x"].id
    models = module(generated, "models")
    types = module(generated, "types")

    me = module(generated, "api.tokens.get_me").sync(client=town)
    assert me.organisation.code == "town-a"

    # The vendor uploads the WBS it keeps in Excel.
    sheet = workbook_bytes(("WBS", [
        ["項番", "作業項目", "担当", "開始予定日", "終了予定日", "進捗率", "状況", "先行作業"],
        ["1", "データ移行", "共同", "R8.3.1", "R8.4.30", 0, "作業中", None],
        ["1-1", "現行データ抽出依頼", "自治体", "R8.3.1", "R8.3.31", 0.5, "作業中", None],
        ["1-2", "データ抽出", "ベンダー", "R8.4.1", "4月中旬", 0, "未着手", "1-1"],
    ]))  # fmt: skip
    body = models.BodyCreateImport(file=types.File(payload=io.BytesIO(sheet), file_name="WBS.xlsx"))
    imported = module(generated, "api.imports.create_import").sync(
        project_id, client=vendor, body=body
    )
    assert isinstance(imported, models.ImportResult)
    assert imported.counts.created == 3

    # The municipality asks what is late on its side, and what it holds up.
    feed = module(generated, "api.changes.list_changes")
    cursor = feed.sync(client=vendor).next_cursor
    page = module(generated, "api.items.list_items").sync(
        project_id,
        client=town,
        overdue=True,
        responsibility=models.Responsibility.MUNICIPALITY,
        as_of=AS_OF,
    )
    assert [item.code for item in page.items] == ["1-1"]
    report = module(generated, "api.reports.get_project_overdue_report").sync(
        project_id, client=town, as_of=AS_OF
    )
    assert [(row.code, [b.code for b in row.blocks]) for row in report.rows] == [("1-1", ["1-2"])]

    # …and reports it done.
    updated = module(generated, "api.items.update_item").sync(
        project_id,
        "1-1",
        client=town,
        body=models.ItemUpdate(status=models.Status.DONE, progress=100),
    )
    assert (updated.status, updated.version) == (models.Status.DONE, 2)

    # The vendor, following the status feed, sees exactly that change.
    changes = feed.sync(client=vendor, since=cursor, field="status")
    assert [(c.item_code, c.actor.label) for c in changes.items] == [("1-1", "town-a/test")]
    assert (changes.items[0].changes[0].old, changes.items[0].changes[0].new) == (
        "in_progress",
        "done",
    )

    # The PMO reads progress across projects.
    progress = module(generated, "api.reports.get_progress_report").sync(client=pmo, as_of=AS_OF)
    assert isinstance(progress, models.ProgressReport)
    assert progress.overall.items == 2
    assert progress.overall.complete == 1

    # Errors arrive typed as problems, not as exceptions of the transport.
    foreign = module(generated, "api.projects.get_project").sync(
        world.projects["b_y"].id, client=as_("vendor_x")
    )
    assert isinstance(foreign, models.Problem)
    assert foreign.status == 404
