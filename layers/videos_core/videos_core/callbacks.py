"""Callback URLs for the providers that call one when a job ends (their plug-in's `Callbacks`). The URL
carries a per-job secret: `/webhooks/<provider>/<video id>.<HMAC of it under the webhook secret>`;
a provider that signs its calls has its signature checked as well, with the keys it publishes (or,
read with the route's own key, its account's signing secret). A call is a prompt to look, never a
verdict: the provider's own API says how the job ended. Standard Webhooks' check (OpenAI's events,
Replicate's calls) is here too."""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib
import re
from typing import Any, Protocol
from urllib.parse import urlsplit

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from videos_core.catalog import Entry, is_loopback
from videos_core.errors import InvalidRequest, Unauthorized
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


class SigningKeys(Protocol):
    def __call__(self, entry: Entry, *, fresh: bool = False) -> list[bytes]:
        """The keys a route's provider signs its calls with; `fresh`: read again, unless they were read
        a moment ago (a key rotated since they were kept)."""
        ...


def verify_signature(
    entry: Entry, delivery: tuple[dict[str, str], bytes], keys: SigningKeys, now: int
) -> None:
    """Refuses a call its provider did not sign, for the providers that sign theirs (with keys read from
    the route's `webhook_keys_url`). A call no kept key verifies is checked once more with the keys
    read again: a provider's keys may have rotated since they were kept."""
    callbacks = provider(entry.provider).callbacks
    if callbacks is None or callbacks.verifier is None or entry.webhook_keys_url is None:
        return
    module, _, name = callbacks.verifier.partition(":")
    verify = getattr(importlib.import_module(module), name)
    headers, body = delivery
    try:
        verify(headers, body, keys(entry), now)
    except Unauthorized:
        verify(headers, body, keys(entry, fresh=True), now)


SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


def signed_headers(headers: dict[str, str]) -> dict[str, str]:
    """A Standard Webhooks delivery's headers, lower-cased; one without a signature is refused before
    any lookup."""
    lowered = {name.lower(): value for name, value in headers.items()}
    if not all(lowered.get(name) for name in SIGNATURE_HEADERS):
        raise Unauthorized("A webhook must carry webhook-id, webhook-timestamp and webhook-signature.")
    return lowered


def standard_webhook(secret: str | bytes, body: bytes, headers: dict[str, str]) -> Any:
    """A Standard Webhooks delivery's JSON body, once a `v1` signature under `secret` (a `whsec_…`
    secret, or its key) holds and its timestamp is within 5 minutes; forged → 401, stale → 400."""
    try:
        return Webhook(secret).verify(body, headers)
    except WebhookVerificationError as e:
        if "timestamp" in str(e).lower():
            raise InvalidRequest(
                f"Stale or unreadable webhook timestamp: {e}.", param="webhook-timestamp"
            ) from e
        raise Unauthorized("The webhook signature does not verify.") from e
    except (ValueError, UnicodeDecodeError, TypeError) as e:
        raise Unauthorized("The webhook signature does not verify.") from e
