"""Is an outbound URL's host a public address? The SSRF check shared by every fetcher.

The crawl (``PrivateAddressMiddleware``) and the WebSub hub (callbacks it verifies and pushes
to) both refuse hosts that are, or resolve to, loopback, private, link-local or metadata
addresses. Kept free of Scrapy so the feed server can use it without importing a crawler.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

Resolver = Callable[[str], list[str]]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def resolve_host(host: str) -> list[str]:
    """Every address ``host`` resolves to (blocking ``getaddrinfo``), or [] when it does not."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return []  # not resolvable: the download fails as a DNS error, as it would anyway
    return [str(info[4][0]) for info in infos]


def is_public(address: str) -> bool:
    """True only for a globally routable unicast address (v4, or v6 not embedding a bad v4).

    Loopback, private (RFC 1918, ULA), link-local (with 169.254.169.254, the cloud metadata
    endpoint), shared (100.64/10, e.g. 100.100.100.200), multicast, reserved, unspecified and
    documentation ranges all fail.
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public(str(embedded))
    return ip.is_global and not (ip.is_multicast or ip.is_reserved)


def non_public_address(host: str, resolve: Resolver = resolve_host) -> str | None:
    """The first non-public address ``host`` stands for (an IP literal or every address it
    resolves to), or None when all are public. A host that does not resolve gives None: the
    request then fails as a DNS error, as it would anyway."""
    try:
        addresses = [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        addresses = resolve(host)
    return next((a for a in addresses if not is_public(a)), None)
