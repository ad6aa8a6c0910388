"""fal's webhook signatures: what a key of fal's signed verifies; anything else is refused."""

from __future__ import annotations

import base64
import hashlib
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from videos_core.adapters.jwks import public_keys
from videos_core.errors import InvalidRequest, Unauthorized
from videos_core.providers.fal.signatures import verify

BODY = b'{"request_id": "req-1", "status": "OK", "payload": {}}'


def raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def signed(key: Ed25519PrivateKey, body: bytes = BODY, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    message = f"req-1\nuser-1\n{stamp}\n{hashlib.sha256(body).hexdigest()}".encode()
    return {
        "x-fal-webhook-request-id": "req-1",
        "x-fal-webhook-user-id": "user-1",
        "x-fal-webhook-timestamp": stamp,
        "x-fal-webhook-signature": key.sign(message).hex(),
    }


def test_a_delivery_signed_by_one_of_the_published_keys_verifies() -> None:
    fal, retired = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    jwks = {
        "keys": [
            {"kty": "OKP", "crv": "Ed25519", "x": base64.urlsafe_b64encode(raw(k)).rstrip(b"=").decode()}
            for k in (retired, fal)
        ]
    }

    verify(signed(fal), BODY, public_keys(jwks), int(time.time()))


def test_a_forged_tampered_stale_or_unsigned_delivery_is_refused() -> None:
    fal, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    keys = [raw(fal)]
    now = int(time.time())

    with pytest.raises(Unauthorized):
        verify(signed(other), BODY, keys, now)
    with pytest.raises(Unauthorized):
        verify(signed(fal), BODY + b" ", keys, now)
    with pytest.raises(InvalidRequest):
        verify(signed(fal, timestamp=now - 600), BODY, keys, now)
    unsigned = signed(fal)
    del unsigned["x-fal-webhook-signature"]
    with pytest.raises(Unauthorized):
        verify(unsigned, BODY, keys, now)
    with pytest.raises(Unauthorized):
        verify(signed(fal) | {"x-fal-webhook-signature": "zz"}, BODY, keys, now)
