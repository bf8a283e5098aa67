"""Debian's Chromium driven by Playwright: the one browser the page tests and screenshots use.

Never `playwright install`: that downloads a browser build, which a closed network refuses.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from playwright.sync_api import Browser, Playwright

CHROMIUM = Path("/usr/bin/chromium")
# A closed network refuses Chromium's background connections (updates, sync, field trials);
# without these flags it keeps trying them while the tests run.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def missing_reason() -> str | None:
    if CHROMIUM.is_file():
        return None
    found = shutil.which("chromium")
    return (
        f"Chromium is not at {CHROMIUM} (found: {found or 'none'}): the page tests need "
        "Debian's chromium package (`apt-get install chromium`; `make test` installs it "
        "when run as root)"
    )


def launch(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
