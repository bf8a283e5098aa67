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


def run(*command: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        command, cwd=HERE, capture_output=True, text=True, timeout=300, env=env, check=False
    )
    assert result.returncode == 0, (
        f"{' '.join(command)}:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    )
    return result.stdout + result.stderr


def test_the_story_through_a_generated_typescript_client(
    serve: ServerFactory, world: World
) -> None:
    if shutil.which("npm") is None:
        pytest.fail(
            "Node.js and npm are needed for the TypeScript contract test (Debian: nodejs npm)"
        )
    run("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
    generated = run("npm", "run", "--silent", "generate")
    # Every operation generates, with no generator configuration and no warning.
    assert "warn" not in generated.lower(), generated
    run("npm", "run", "--silent", "build")
    base, _ = serve()
    env = {
        **os.environ,
        "WBS_BASE_URL": base,
        "WBS_PROJECT_ID": str(world.projects["a_x"].id),
        "WBS_TOKEN_VENDOR": world.tokens["vendor_x"],
        "WBS_TOKEN_TOWN": world.tokens["town_a"],
        "WBS_TOKEN_PMO": world.tokens["pmo"],
    }
    assert "story passed" in run("npm", "run", "--silent", "story", env=env)
