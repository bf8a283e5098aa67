"""What makes two requests the same request, whatever bytes carried them.

A retry of the same request may differ in bytes: JSON re-indented or its keys reordered,
`; charset=utf-8` added to its media type, query parameters in another order, an upload sent
with a new multipart boundary. None of those makes it another request; a different value does.
"""

from __future__ import annotations

import hashlib
import json
from typing import IO
from urllib.parse import parse_qsl

CHUNK = 64 * 1024


def media_type(content_type: str) -> str:
    """`Application/JSON; charset=utf-8` → `application/json`."""
    return content_type.partition(";")[0].strip().lower()


def boundary_of(content_type: str) -> bytes | None:
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.strip().partition("=")
        if name.strip().lower() == "boundary" and value:
            return value.strip().strip('"').encode("latin-1")
    return None


def _json_document(body: IO[bytes]) -> bytes | None:
    """The document in one canonical spelling; None when the body is not JSON."""
    body.seek(0)
    try:
        document = json.load(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _without_boundary(body: IO[bytes], boundary: bytes, digest: hashlib._Hash) -> None:
    """Hash a multipart body with its boundary written as one fixed word."""
    marker = b"--" + boundary
    keep = len(marker) - 1
    carried = b""
    body.seek(0)
    while chunk := body.read(CHUNK):
        joined = (carried + chunk).replace(marker, b"--BOUNDARY")
        # A boundary may be cut by the chunk's end: hold back what could be its start.
        carried = joined[-keep:] if keep and len(joined) > keep else joined
        digest.update(joined[: len(joined) - len(carried)])
    digest.update(carried.replace(marker, b"--BOUNDARY"))


def fingerprint(
    method: str, path: str, query_string: bytes, content_type: str, body: IO[bytes]
) -> str:
    """The SHA-256 of the request as its meaning, read from a body spooled to a file."""
    digest = hashlib.sha256()
    query = sorted(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
    kind = media_type(content_type)
    for part in (method, path, json.dumps(query), kind):
        digest.update(part.encode() + b"\n")
    document = (
        _json_document(body) if kind == "application/json" or kind.endswith("+json") else None
    )
    boundary = boundary_of(content_type) if kind == "multipart/form-data" else None
    if document is not None:
        digest.update(document)
    elif boundary is not None:
        _without_boundary(body, boundary, digest)
    else:
        body.seek(0)
        while chunk := body.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
