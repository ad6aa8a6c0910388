"""One POST of a webhook to a tenant's URL, safe to aim at any URL a tenant writes: the host is resolved
here and every address it resolves to must be public (`webhook_urls.refusal`), the connection goes to
the address that was checked (TLS still verifies the certificate for the host name), so a name that
resolves again to a private address cannot be slipped in between (DNS rebinding). No redirect is
followed, the whole exchange takes at most 10 s, and at most 64 KiB of the answer is read."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx2

from videos_core.webhook_urls import Address, RefusedUrlError, check_url, literal_address, refusal

TIMEOUT_SECONDS = 10.0
MAX_ANSWER_BYTES = 64 * 1024

Resolver = Callable[[str, int], list[Address]]


@dataclass(frozen=True)
class Attempt:
    """How one POST went: the answer's status (None when none came), and in words why it failed."""

    status: int | None
    seconds: float
    failure: str | None = None
    # Why, as a word for metrics: refused (the address), timeout, connection, exchange, redirect, status.
    reason: str | None = None

    @property
    def delivered(self) -> bool:
        return self.failure is None


def resolve(host: str, port: int) -> list[Address]:
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [literal_address(str(info[4][0]).split("%", 1)[0]) for info in found]
    return list(dict.fromkeys(a for a in addresses if a is not None))


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    allow_loopback: bool,
    resolver: Resolver = resolve,
    timeout: float = TIMEOUT_SECONDS,
) -> Attempt:
    started = time.monotonic()

    def failed(kind: str, reason: str, status: int | None = None) -> Attempt:
        return Attempt(status, time.monotonic() - started, reason, kind)

    try:
        target, extensions = checked_target(url, allow_loopback, resolver)
    except RefusedUrlError as e:
        return failed("refused", str(e))
    sent = {**headers, "host": urlsplit(url).netloc.rsplit("@", 1)[-1]}
    try:
        with (
            httpx2.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client,
            client.stream("POST", target, content=body, headers=sent, extensions=extensions) as answer,
        ):
            _read_some(answer, started + timeout)
    except httpx2.TimeoutException:
        return failed("timeout", f"No answer within {timeout:g} s.")
    except httpx2.ConnectError as e:
        return failed("connection", f"The connection failed: {e}.")
    except httpx2.HTTPError as e:
        return failed("exchange", f"The exchange failed: {type(e).__name__}: {e}.")
    if answer.is_redirect:
        return failed(
            "redirect", f"Answered {answer.status_code}, a redirect (not followed).", answer.status_code
        )
    if not answer.is_success:
        return failed("status", f"Answered {answer.status_code}.", answer.status_code)
    return Attempt(answer.status_code, time.monotonic() - started)


def checked_target(url: str, allow_loopback: bool, resolver: Resolver) -> tuple[str, dict[str, str]]:
    """The URL to connect to (its host replaced by the address checked) and the TLS server name to
    verify; RefusedUrlError when the URL or any address its host resolves to may not be reached."""
    check_url(url, allow_loopback=allow_loopback)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    literal = literal_address(host)
    try:
        addresses = [literal] if literal is not None else resolver(host, port)
    except OSError as e:
        raise RefusedUrlError(f"{host} does not resolve: {e}.") from e
    if not addresses:
        raise RefusedUrlError(f"{host} does not resolve.")
    for address in addresses:
        reason = None if allow_loopback and address.is_loopback else refusal(address)
        if reason is not None:
            raise RefusedUrlError(f"{host} resolves to {address}, which may not receive webhooks: {reason}.")
    target = addresses[0]
    netloc = f"[{target}]:{port}" if target.version == 6 else f"{target}:{port}"
    extensions = {"sni_hostname": host} if parts.scheme == "https" and literal is None else {}
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")), extensions


def _read_some(answer: httpx2.Response, deadline: float) -> None:
    """Reads at most MAX_ANSWER_BYTES of the answer, and none past the deadline."""
    read = 0
    for chunk in answer.iter_raw():
        read += len(chunk)
        if read >= MAX_ANSWER_BYTES:
            return
        if time.monotonic() > deadline:
            raise httpx2.ReadTimeout("the answer came too slowly")
