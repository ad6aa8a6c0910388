"""Where a tenant's webhooks may go: an https URL whose host is a public address. A URL naming a
private, loopback, link-local (the instance metadata address among them), carrier-grade NAT,
multicast or reserved address — IPv4, IPv6, or IPv4 inside IPv6 — is refused; so is every address a
host name resolves to that is one (the Deliver function resolves the name itself, and connects to
the address it checked). Offline, `serve --allow-loopback-webhooks` lets http to loopback through, so
that a receiver on this machine can be reached."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from videos_core.catalog import is_loopback

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_CARRIER_GRADE_NAT = ipaddress.ip_network("100.64.0.0/10")
# IPv6 prefixes that carry an IPv4 address: NAT64 (RFC 6052, 8215), 6to4 (RFC 3056), Teredo (RFC 4380).
_EMBEDDING = (
    ipaddress.ip_network("64:ff9b::/96"),
    ipaddress.ip_network("64:ff9b:1::/48"),
)


class RefusedUrlError(ValueError):
    """Why a URL may not receive webhooks, in words a tenant can act on."""


def refusal(address: Address) -> str | None:
    """Why `address` may not be reached (its class), or None for a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            reason = refusal(embedded)
            return f"{reason} (inside the IPv6 address {address})" if reason else None
    classes = (
        ("a loopback address", address.is_loopback),
        ("a link-local address (the metadata address among them)", address.is_link_local),
        ("a carrier-grade NAT address", address in _CARRIER_GRADE_NAT),
        ("a multicast address", address.is_multicast),
        ("an unspecified address", address.is_unspecified),
        ("a reserved address", address.is_reserved),
        ("a private address", address.is_private),
        ("outside the public address space", not address.is_global),
    )
    return next((f"{address} is {name}" for name, found in classes if found), None)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if any(address in network for network in _EMBEDDING):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def literal_address(host: str) -> Address | None:
    """The address a host is written as, if it is one (`[::1]` without its brackets)."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def check_url(url: str, *, allow_loopback: bool) -> str:
    """`url` if a webhook may be sent to it as written; RefusedUrlError saying why otherwise. A host name is
    taken here and checked again, by the addresses it resolves to, at each delivery."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise RefusedUrlError(f"'{url}' is not a URL: {e}.") from e
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        raise RefusedUrlError(f"'{url}' is not an https URL.")
    if parts.username is not None or parts.password is not None:
        raise RefusedUrlError("A webhook URL may not carry credentials: a signature authenticates each call.")
    if parts.fragment:
        raise RefusedUrlError("A webhook URL may not have a fragment.")
    loopback = allow_loopback and is_loopback(host)
    if parts.scheme == "http" and not loopback:
        raise RefusedUrlError(f"'{url}' must be https.")
    address = literal_address(host)
    reason = None
    if not loopback:
        reason = refusal(address) if address is not None else None
        if host.lower().rstrip(".") == "localhost":
            reason = f"{host} is a loopback address"
    if reason is not None:
        raise RefusedUrlError(f"'{url}' may not receive webhooks: {reason}.")
    if port == 0:
        raise RefusedUrlError(f"'{url}' names port 0.")
    return url
