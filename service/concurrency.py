"""ETags and If-Match: lost updates are refused, never silently applied."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Table, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from service.errors import PreconditionFailed

_ENTITY_TAG = re.compile(r'\s*(?:W/)?"v(\d{1,18})"\s*')
# `*`, or one or more of the entity tags this service hands out, separated by commas.
_TAG = r'(?:W/)?"v[0-9]{1,18}"'
# Blanks as HTTP writes them (spaces and tabs): `\s` means other things in other regexes.
IF_MATCH_PATTERN = rf"^[ \t]*(?:\*|{_TAG}(?:[ \t]*,[ \t]*{_TAG})*)[ \t]*$"


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


@contextmanager
def versions_checked(session: Session, table: Table, row_id: int, what: str) -> Iterator[None]:
    """A write whose version another writer moved on meanwhile becomes 412, not a 500.

    Two writers may both pass If-Match on the same version; the database lets only the first
    update that version (the version is in the UPDATE's WHERE), and the ORM raises for the
    other. The loser hears 412 with the version the row has now, as if it had been late.
    """
    try:
        yield
    except StaleDataError:
        # The transaction wrote nothing that stands; it ends here, so the version can be read.
        session.rollback()
        current = session.scalar(select(table.c.version).where(table.c.id == row_id))
        if current is None:
            raise PreconditionFailed(
                f"{what} was deleted by another change meanwhile; nothing was applied"
            ) from None
        raise PreconditionFailed(
            f"{what} was changed by another request meanwhile (now {etag(current)}); "
            "read it again and reapply the change",
            headers={"ETag": etag(current)},
            extra={"current_version": current},
        ) from None
