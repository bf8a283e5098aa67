"""Secrets the service must read back to use (webhook signing secrets, chat target URLs),
encrypted at rest with a server key.

A hash would do for a secret that is only compared (API tokens); these are used to sign and
to connect, so they are encrypted instead, with Fernet (AES-128-CBC, HMAC-SHA256, from the
`cryptography` package). A dump of the database without the key yields none of them.

The key comes from `WBS_SECRET_KEY` (several, comma-separated, during a rotation: the first
encrypts, all decrypt). Without it, on the embedded SQLite default, a key is generated once
into a file beside the database, readable by its owner only. Other databases need the setting,
the same on every process: a key made up by one host could not be read by another.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy.engine import make_url

from service.config import Settings
from service.errors import ServiceUnavailable

KEY_FILE_NAME = "secret.key"


class SecretUnreadable(Exception):
    """A stored secret that none of the keys decrypts: the key was changed or lost."""


class SecretBox:
    def __init__(self, keys: list[bytes]) -> None:
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    def seal(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as error:
            raise SecretUnreadable(
                "a stored secret cannot be decrypted with WBS_SECRET_KEY: was the key changed "
                "without keeping the old one beside it?"
            ) from error

    def reseal(self, sealed: str) -> str:
        """The same secret under the first key (after a key rotation)."""
        try:
            return self._fernet.rotate(sealed.encode()).decode()
        except InvalidToken as error:
            raise SecretUnreadable("a stored secret cannot be decrypted") from error


def key_file(settings: Settings) -> Path | None:
    if settings.secret_key_file is not None:
        return settings.secret_key_file
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).parent / KEY_FILE_NAME
    return None


def _generated_key(path: Path) -> bytes:
    """The key in `path`, made once: written whole under another name, then linked in place,
    so two processes starting together agree on one key and neither reads a half-written one."""
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(descriptor, Fernet.generate_key() + b"\n")
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    try:
        os.link(draft, path)
    except FileExistsError:
        pass  # another process was first: its key stands
    finally:
        draft.unlink()
    return path.read_bytes().strip()


def secret_box(settings: Settings) -> SecretBox:
    if settings.secret_key is not None:
        keys = [part.strip().encode() for part in settings.secret_key.get_secret_value().split(",")]
    else:
        path = key_file(settings)
        if path is None:
            raise ServiceUnavailable(
                "the server has no key to encrypt stored secrets: set WBS_SECRET_KEY "
                "(the same on every process; see docs/deploy.md)"
            )
        keys = [_generated_key(path)]
    return SecretBox(keys)
