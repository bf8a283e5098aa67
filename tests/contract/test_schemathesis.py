"""Schemathesis with its default checks (all of them), against the real server on the database
under test, as a third party runs it: schemathesis.toml names only the two answers JSON Schema
cannot rule out (a stale If-Match; an upload that is no workbook).

Examples, coverage, fuzzing (valid and invalid data) and stateful runs through the links it
infers, authenticated as the PMO. WBS_CONTRACT_EXAMPLES and WBS_CONTRACT_SEED widen the run:
`make contract` runs it with more examples and a random seed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ServerFactory, World

CONFIG = Path(__file__).with_name("schemathesis.toml")
SCHEMATHESIS = str(Path(sys.executable).with_name("st"))


def test_every_operation_passes_every_check(
    serve: ServerFactory, world: World, tmp_path: Path
) -> None:
    base, _ = serve(
        workers=1,
        # Its missing-authentication checks fail on purpose, often: do not throttle them.
        WBS_AUTH_FAILURE_LIMIT="1000000",
        # Long polls that wait the full 30 s would make the run take hours.
        WBS_CHANGES_MAX_WAIT_SECONDS="0.2",
    )
    command = [
        SCHEMATHESIS, "--config-file", str(CONFIG), "run", f"{base}/openapi.json",
        "--header", f"Authorization: Bearer {world.tokens['pmo']}",
        "--checks", "all",
        "--max-examples", os.environ.get("WBS_CONTRACT_EXAMPLES", "15"),
        "--seed", os.environ.get("WBS_CONTRACT_SEED", "20261126"),
        "--request-timeout", "30",
        # Revoking tokens at random would revoke the one this run uses; the authorization
        # matrix and tests/tokens cover revokeToken.
        "--exclude-operation-id", "revokeToken",
        "--no-color",
    ]  # fmt: skip
    # Its cache goes to the working directory: keep it out of the project.
    result = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=900, check=False
    )
    assert result.returncode == 0, result.stdout[-12000:] + result.stderr[-2000:]
