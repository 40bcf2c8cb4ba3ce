"""Where a webhook may be sent: https only, and never to this network, outside local dev.

A subscriber could otherwise make the relay call internal services (SSRF). The
host is resolved and every address it resolves to is checked, at registration
and again before each send (DNS may change in between); the request then goes to
the checked address, so a second lookup cannot swap it.
"""

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
DEFAULT_PORTS = {"https": 443, "http": 80}


class UrlRefused(ValueError):
    """The URL or the addresses it resolves to may not receive webhooks."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int


def parse_target(url: str, *, allow_local: bool) -> Target:
    """Check what the URL itself says (scheme, host, credentials)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise UrlRefused(f"not a valid URL: {error}") from None
    allowed = ("https", "http") if allow_local else ("https",)
    if parts.scheme not in allowed:
        raise UrlRefused(f"the URL must use {' or '.join(allowed)}, not {parts.scheme or 'none'!r}")
    if not parts.hostname:
        raise UrlRefused("the URL has no host")
    if parts.username or parts.password:
        raise UrlRefused("the URL may not carry credentials; the signature authenticates us")
    host = parts.hostname.lower().rstrip(".")
    if not allow_local and (host == "localhost" or host.endswith(".localhost")):
        raise UrlRefused(f"{host} is this machine")
    return Target(parts.scheme, host, port or DEFAULT_PORTS[parts.scheme])


def is_public(address: IpAddress) -> bool:
    """Globally routable unicast: not loopback, private, link-local, shared, reserved…"""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def checked_addresses(host: str, addresses: Iterable[str], *, allow_local: bool) -> list[str]:
    """The addresses, if every one of them may be called; else UrlRefused naming the first."""
    parsed = [ipaddress.ip_address(a.split("%", 1)[0]) for a in addresses]
    if not parsed:
        raise UrlRefused(f"{host} does not resolve to any address")
    if not allow_local:
        for address in parsed:
            if not is_public(address):
                raise UrlRefused(f"{host} resolves to {address}, a loopback or private address")
    return [str(address) for address in parsed]
