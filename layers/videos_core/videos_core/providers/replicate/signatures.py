"""Replicate's webhook signatures, as Replicate documents them ("Verify webhooks") and its client,
replicate 1.0, checks them (`webhooks.validate`): Standard Webhooks. Each call carries `webhook-id`
(the same on a retry), `webhook-timestamp` (seconds) and `webhook-signature`, space-separated
`v1,<base64>` HMAC-SHA256s of `{id}.{timestamp}.{body}` under the account's signing secret: the
base64 after `whsec_` of the `key` that `GET /v1/webhooks/default/secret` answers the account's API
token. A timestamp more than 300 s away is refused (the client leaves the tolerance to its caller;
Standard Webhooks' is five minutes), and only `v1` signatures count (the client reads any version)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable

from videos_core.callbacks import signed_headers, standard_webhook
from videos_core.errors import InvalidRequest, Unauthorized

TOLERANCE_SECONDS = 300
PREFIX = "whsec_"


def signing_secret(document: object) -> list[bytes]:
    """The key of the secret `GET /v1/webhooks/default/secret` answers (`{"key": "whsec_…"}`); none
    when the answer holds no such secret."""
    secret = document.get("key") if isinstance(document, dict) else None
    if not isinstance(secret, str) or not secret.startswith(PREFIX):
        return []
    try:
        key = base64.b64decode(secret.removeprefix(PREFIX), validate=True)
    except binascii.Error:
        return []
    return [key] if key else []


def verify(headers: dict[str, str], body: bytes, keys: Iterable[bytes], now: int) -> None:
    """Refuses (401) a call no key signed, and (400) one whose timestamp is stale or unreadable."""
    signed = signed_headers(headers)
    timestamp = signed["webhook-timestamp"]
    if not timestamp.isdigit() or abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        raise InvalidRequest(
            "The Replicate webhook's timestamp is stale or unreadable.", param="webhook-timestamp"
        )
    for key in keys:
        try:
            standard_webhook(key, body, signed)
            return
        except Unauthorized:
            continue
    raise Unauthorized("The Replicate webhook's signature does not verify with the account's secret.")
