"""Callback URLs for the providers that call one when a job ends (their plug-in's `Callbacks`). The URL
carries a per-job secret: `/webhooks/<provider>/<video id>.<HMAC of it under the webhook secret>`;
a provider that signs its calls has its signature checked as well, with the keys it publishes.
A call is a prompt to look, never a verdict: the provider's own API says how the job ended."""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib
import re
from collections.abc import Callable
from urllib.parse import urlsplit

from videos_core.catalog import Entry, is_loopback
from videos_core.providers import provider

_TOKEN = re.compile(r"vid_[0-9A-HJKMNP-TV-Z]{26}\.[a-z2-7]{32}")


def _mac(secret: str, video_id: str) -> str:
    digest = hmac.new(secret.encode(), f"callback\n{video_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:20]).decode().lower()


def token_for(secret: str, video_id: str) -> str:
    return f"{video_id}.{_mac(secret, video_id)}"


def well_formed(token: str) -> bool:
    """Whether a token has a token's shape (checked before the secret is read)."""
    return _TOKEN.fullmatch(token) is not None


def video_id_of(secret: str, token: str) -> str | None:
    """The video a token was made for; None when it was not made with this secret."""
    video_id, _, mac = token.partition(".")
    return video_id if well_formed(token) and hmac.compare_digest(mac, _mac(secret, video_id)) else None


def callback_url(domain: str, provider: str, secret: str, video_id: str) -> str:
    """Where `provider` calls back for a job, on the API's own domain (http only for loopback)."""
    host = urlsplit(f"//{domain}").hostname or ""
    scheme = "http" if is_loopback(host) else "https"
    return f"{scheme}://{domain}/webhooks/{provider}/{token_for(secret, video_id)}"


def verify_signature(
    entry: Entry, delivery: tuple[dict[str, str], bytes], keys: Callable[[str], list[bytes]], now: int
) -> None:
    """Refuses a call its provider did not sign, for the providers that sign theirs (with keys they
    publish at the route's `webhook_keys_url`)."""
    callbacks = provider(entry.provider).callbacks
    if callbacks is None or callbacks.verifier is None or entry.webhook_keys_url is None:
        return
    module, _, name = callbacks.verifier.partition(":")
    verify = getattr(importlib.import_module(module), name)
    headers, body = delivery
    verify(headers, body, keys(entry.webhook_keys_url), now)
