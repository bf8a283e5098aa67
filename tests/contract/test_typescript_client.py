"""A TypeScript client generated from the committed openapi.json, compiled with tsc --strict,
plays the same story under Node: the contract holds outside Python too."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ServerFactory, World

HERE = Path(__file__).with_name("typescript")
REPOSITORY = HERE.parents[2]
SOURCES = ("package.json", "package-lock.json", "story.ts", "tsconfig.json")


def workspace(root: Path) -> Path:
    """A private copy of the client's sources, laid out as in the repository so the
    package's scripts find openapi/openapi.json where they expect it. The suite runs on
    two databases at once; two `npm ci` in one node_modules tear each other's files."""
    copy = root / HERE.relative_to(REPOSITORY)
    copy.mkdir(parents=True)
    for name in SOURCES:
        shutil.copy2(HERE / name, copy / name)
    (root / "openapi").mkdir()
    shutil.copy2(REPOSITORY / "openapi" / "openapi.json", root / "openapi" / "openapi.json")
    return copy


def run(cwd: Path, *command: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=300, env=env, check=False
    )
    assert result.returncode == 0, (
        f"{' '.join(command)}:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    )
    return result.stdout + result.stderr


def test_the_story_through_a_generated_typescript_client(
    serve: ServerFactory, world: World, tmp_path: Path
) -> None:
    if shutil.which("npm") is None:
        pytest.fail(
            "Node.js and npm are needed for the TypeScript contract test (Debian: nodejs npm)"
        )
    here = workspace(tmp_path)
    run(here, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
    generated = run(here, "npm", "run", "--silent", "generate")
    # Every operation generates, with no generator configuration and no warning.
    assert "warn" not in generated.lower(), generated
    run(here, "npm", "run", "--silent", "build")
    base, _ = serve()
    env = {
        **os.environ,
        "WBS_BASE_URL": base,
        "WBS_PROJECT_ID": str(world.projects["a_x"].id),
        "WBS_TOKEN_VENDOR": world.tokens["vendor_x"],
        "WBS_TOKEN_TOWN": world.tokens["town_a"],
        "WBS_TOKEN_PMO": world.tokens["pmo"],
    }
    assert "story passed" in run(here, "npm", "run", "--silent", "story", env=env)
