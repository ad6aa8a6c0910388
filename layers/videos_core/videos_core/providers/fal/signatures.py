"""fal's webhook signatures, as fal documents them: an Ed25519 signature (hex, in
`x-fal-webhook-signature`) over `request id \\n user id \\n timestamp \\n SHA-256 of the body (hex)`,
from the `x-fal-webhook-request-id`, `-user-id` and `-timestamp` headers, checked against any key of
fal's published key set (JWKS, base64url `x` of each Ed25519 key); a timestamp more than five
minutes away is refused."""

from __future__ import annotations

import binascii
import hashlib
from collections.abc import Iterable

from videos_core.errors import InvalidRequest, Unauthorized

TOLERANCE_SECONDS = 300
HEADERS = (
    "x-fal-webhook-request-id",
    "x-fal-webhook-user-id",
    "x-fal-webhook-timestamp",
    "x-fal-webhook-signature",
)


def message(request_id: str, user_id: str, timestamp: str, body: bytes) -> bytes:
    return "\n".join((request_id, user_id, timestamp, hashlib.sha256(body).hexdigest())).encode()


def verify(headers: dict[str, str], body: bytes, keys: Iterable[bytes], now: int) -> None:
    """Refuses (401) a delivery no key of fal's signed, and (400) one too old or too new."""
    # Imported here: the webhook function loads the cryptography package only for fal's calls.
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    request_id, user_id, timestamp, signature = (headers.get(name) for name in HEADERS)
    if request_id is None or user_id is None or not timestamp or not signature:
        raise Unauthorized(f"A fal webhook must carry {', '.join(HEADERS)}.")
    if not timestamp.isdigit() or abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        raise InvalidRequest(
            "The fal webhook's timestamp is stale or unreadable.", param="x-fal-webhook-timestamp"
        )
    try:
        signed = bytes.fromhex(signature)
    except ValueError as e:
        raise Unauthorized("The fal webhook's signature is not hex.") from e
    signed_message = message(request_id, user_id, timestamp, body)
    for key in keys:
        try:
            Ed25519PublicKey.from_public_bytes(key).verify(signed, signed_message)
            return
        except (InvalidSignature, ValueError, binascii.Error):
            continue
    raise Unauthorized("The fal webhook's signature does not verify with fal's keys.")
