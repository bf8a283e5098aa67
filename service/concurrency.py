"""ETags and If-Match: lost updates are refused, never silently applied."""

from __future__ import annotations

import re

from service.errors import PreconditionFailed

_ENTITY_TAG = re.compile(r'\s*(?:W/)?"v(\d{1,18})"\s*')


def etag(version: int) -> str:
    return f'"v{version}"'


def check_if_match(if_match: str | None, current_version: int) -> None:
    """Refuse the change unless If-Match is absent, `*`, or names the current version."""
    if if_match is None or if_match.strip() == "*":
        return
    versions = set()
    for candidate in if_match.split(","):
        match = _ENTITY_TAG.fullmatch(candidate)
        if match:
            versions.add(int(match.group(1)))
    if current_version not in versions:
        raise PreconditionFailed(
            f"If-Match {if_match.strip()} is not the current version "
            f"{etag(current_version)}; read the item again and reapply the change",
            headers={"ETag": etag(current_version)},
            extra={"current_version": current_version},
        )
