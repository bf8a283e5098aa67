"""One outbound POST, made safe: the host is resolved at delivery time and every address it
resolves to must be public (unless the deployment allows otherwise), then the request goes to
the address that was checked (the TLS certificate still verified for the host's name), so a
DNS answer that changes between the check and the connection cannot point it elsewhere.
Redirects are not followed, the whole exchange has one deadline, and only the first few KiB
of an answer are read."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx2

from service.config import Settings
from service.db import utcnow
from service.webhooks.targets import TargetRefused, check_url, is_public

# Read no more of an answer than this; the log keeps less still.
RESPONSE_CAP = 4096
EXCERPT_CHARS = 500
USER_AGENT = "wbs-sync-webhooks/1"


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to."""

    succeeded: bool
    status_code: int | None = None
    excerpt: str | None = None
    error: str | None = None
    # Seconds the receiver asked us to wait (Retry-After), if it did.
    retry_after: float | None = None
    # The receiver says the target is gone for good (410): the subscription stops.
    gone: bool = False
    duration_ms: int = 0


def retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` as seconds from now: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, (moment - utcnow()).total_seconds())


async def resolve(host: str, port: int, settings: Settings) -> str:
    """An address of `host` to connect to; refused if any of its addresses is not public."""
    try:
        literal = ipaddress.ip_address(host)
        addresses = [literal]
    except ValueError:
        loop = asyncio.get_running_loop()
        try:
            found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as error:
            raise TargetRefused(f"the host name does not resolve ({error.strerror})") from None
        addresses = [ipaddress.ip_address(entry[4][0]) for entry in found]
    if not addresses:
        raise TargetRefused("the host name does not resolve")
    if not settings.webhook_allow_private_addresses:
        refused = [address for address in addresses if not is_public(address)]
        if refused:
            # All or nothing: a name with one private address among public ones is refused,
            # or a rebinding server could be reached by chance.
            raise TargetRefused(
                f"the host resolves to {refused[0]}, a loopback, private, link-local or "
                "reserved address; this server sends only to public addresses"
            )
    return str(addresses[0])


def _describe(error: BaseException, url: str) -> str:
    """An error as the log may keep it: never the URL, whose path may be a credential."""
    text = str(error) or type(error).__name__
    parts = urlsplit(url)
    for secret in (url, parts.path, parts.query):
        if secret and secret != "/":
            text = text.replace(secret, "…")
    return f"{type(error).__name__}: {text}"[:300]


async def post(
    clients: Clients,
    url: str,
    body: bytes,
    headers: dict[str, str],
    settings: Settings,
) -> Outcome:
    started = time.perf_counter()

    def elapsed() -> int:
        return round((time.perf_counter() - started) * 1000)

    try:
        check_url(url, settings)
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        async with asyncio.timeout(settings.webhook_timeout_seconds):
            address = await resolve(host, port, settings)
            target = httpx2.URL(url).copy_with(host=address)
            request_headers = {
                **headers,
                "Host": parts.netloc.rpartition("@")[2],
                "User-Agent": USER_AGENT,
                "Content-Type": "application/json",
            }
            extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
            async with clients.for_url(url).stream(
                "POST", target, content=body, headers=request_headers, extensions=extensions
            ) as response:
                received = bytearray()
                async for chunk in response.aiter_raw():
                    received += chunk
                    if len(received) >= RESPONSE_CAP:
                        break
    except TargetRefused as refused:
        return Outcome(False, error=f"refused: {refused}"[:300], duration_ms=elapsed())
    except TimeoutError:
        return Outcome(
            False,
            error=f"no answer within {settings.webhook_timeout_seconds:g} s",
            duration_ms=elapsed(),
        )
    except httpx2.HTTPError as error:
        return Outcome(False, error=_describe(error, url), duration_ms=elapsed())
    except OSError as error:
        return Outcome(False, error=_describe(error, url), duration_ms=elapsed())
    excerpt = bytes(received[:RESPONSE_CAP]).decode("utf-8", "replace")[:EXCERPT_CHARS] or None
    status = response.status_code
    succeeded = 200 <= status < 300
    error_text = None
    if 300 <= status < 400:
        error_text = "redirects are not followed; give the final URL"
    return Outcome(
        succeeded,
        status_code=status,
        excerpt=excerpt,
        error=error_text,
        retry_after=None if succeeded else retry_after_seconds(response.headers.get("retry-after")),
        gone=status == 410,
        duration_ms=elapsed(),
    )


class Clients:
    """HTTP clients by target host, so a kept-alive connection, whose TLS session was checked
    for one host name, never carries a request for another host at the same address."""

    MAX_HOSTS = 100

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._by_host: dict[str, httpx2.AsyncClient] = {}
        self._closing: set[asyncio.Future[None]] = set()

    def for_url(self, url: str) -> httpx2.AsyncClient:
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
        found = self._by_host.pop(key, None)
        if found is None:
            found = httpx2.AsyncClient(
                timeout=httpx2.Timeout(self._settings.webhook_timeout_seconds),
                follow_redirects=False,
                # No proxy or certificate settings picked up from the environment.
                trust_env=False,
                limits=httpx2.Limits(max_connections=20, max_keepalive_connections=4),
            )
            if len(self._by_host) >= self.MAX_HOSTS:
                oldest = next(iter(self._by_host))
                closing = asyncio.ensure_future(self._by_host.pop(oldest).aclose())
                self._closing.add(closing)
                closing.add_done_callback(self._closing.discard)
        self._by_host[key] = found  # most recently used last
        return found

    async def close(self) -> None:
        for each in self._by_host.values():
            await each.aclose()
        self._by_host.clear()
