"""Where a subscription sends: checking a target when it is given, and what of it may be shown.

A chat URL is a credential (anyone holding it may post to the channel), and a generic one often
carries a token in its path or query: only the scheme and host are ever shown or logged.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from service.config import Settings
from service.webhooks.models import Kind

MAX_URL_LENGTH = 2000
# What a mail gateway accepts as one plain address; no display names, no lists.
EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)


class TargetRefused(ValueError):
    """A target this server will not send to; the message says why, in words."""


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Neither loopback, private, link-local (cloud metadata at 169.254.169.254), shared
    (100.64/10), multicast nor reserved: what the internet can route to."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def check_address(host: str, settings: Settings) -> None:
    """Refuse a literal address that is not public, unless the deployment allows it."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return
    if not settings.webhook_allow_private_addresses and not is_public(address):
        raise TargetRefused(
            f"{address} is a loopback, private, link-local or reserved address; this server "
            "sends only to public addresses (WBS_WEBHOOK_ALLOW_PRIVATE_ADDRESSES)"
        )


def check_url(url: str, settings: Settings) -> str:
    if len(url) > MAX_URL_LENGTH:
        raise TargetRefused(f"a target URL has at most {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise TargetRefused(f"not a URL: {error}") from None
    if parts.scheme == "http" and not settings.webhook_allow_http:
        raise TargetRefused("targets must be https:// (WBS_WEBHOOK_ALLOW_HTTP allows http)")
    if parts.scheme not in ("https", "http"):
        raise TargetRefused("targets must be https:// URLs")
    if not parts.hostname:
        raise TargetRefused("the URL names no host")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("credentials in the URL's user part are not sent; put them elsewhere")
    if port == 0:
        raise TargetRefused("port 0 is not a port")
    if any(character.isspace() for character in url):
        raise TargetRefused("a URL has no spaces")
    check_address(parts.hostname, settings)
    return url


def check_target(kind: Kind, target: str, settings: Settings) -> str:
    if kind is Kind.email:
        if len(target) > 254 or not EMAIL.fullmatch(target):
            raise TargetRefused("not a plain mail address (name@example.jp)")
        return target
    return check_url(target, settings)


def hint(kind: Kind, target: str) -> str:
    """What may be shown of a target: scheme and host of a URL, a masked mail address."""
    if kind is Kind.email:
        local, _, domain = target.partition("@")
        return f"{local[:1]}…@{domain}"
    parts = urlsplit(target)
    port = f":{parts.port}" if parts.port is not None else ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{port}/…"
