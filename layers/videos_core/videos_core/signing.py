"""Standard Webhooks signing (standardwebhooks.com, as OpenAI signs its events): a `whsec_…` secret,
its key, and the `v1,` HMAC-SHA256 of `id.timestamp.body`. A delivery signed under several secrets (the
day after a rotation that keeps the old one) carries their signatures side by side, space-separated."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets

PREFIX = "whsec_"


def secret_key(secret: str) -> bytes:
    """The signing key of a `whsec_…` secret; raises ValueError when it is not one."""
    if not secret.startswith(PREFIX):
        raise ValueError("a webhook secret starts with 'whsec_'")
    try:
        key = base64.b64decode(secret.removeprefix(PREFIX), validate=True)
    except binascii.Error as e:
        raise ValueError("a webhook secret is 'whsec_' followed by base64") from e
    if not key:
        raise ValueError("a webhook secret must not be empty")
    return key


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def hint(secret: str) -> str:
    """What identifies a secret once it is no longer shown: its prefix and last four characters."""
    return f"{PREFIX}…{secret[-4:]}"


def sign(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signature_header(secrets_: list[str], message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header under each of `secrets_` (any one verifies it)."""
    return " ".join(sign(secret_key(secret), message_id, timestamp, body) for secret in secrets_)


def event_body(event_id: str, event_type: str, video_id: str, created_at: int) -> bytes:
    """An event as OpenAI delivers it: `{"object": "event", "id": "evt_…", "type", "created_at", "data":
    {"id"}}`."""
    event = {
        "object": "event",
        "id": event_id,
        "type": event_type,
        "created_at": created_at,
        "data": {"id": video_id},
    }
    return json.dumps(event, separators=(",", ":")).encode()


def delivery_headers(secrets_: list[str], webhook_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """A delivery's headers: its `webhook-id` (the same on every attempt), the attempt's timestamp, and
    its signatures under each secret."""
    return {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets_, webhook_id, timestamp, body),
    }
