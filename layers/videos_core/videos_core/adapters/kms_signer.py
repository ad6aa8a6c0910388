"""Signatures made by an asymmetric AWS KMS key (ECC_NIST_P256), whose private key never leaves KMS.

KMS is sent the SHA-256 digest of what is signed (`MessageType=DIGEST`): a C2PA claim can exceed the
4,096 bytes KMS signs raw. KMS answers an ECDSA signature in DER; COSE's ES256 wants the two integers
side by side, 32 bytes each (RFC 9053, section 2.1)."""

from __future__ import annotations

import hashlib
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from videos_core.adapters.aws import error_of

# P-256's order is 256 bits: each of r and s in 32 bytes.
_P256_INTEGER_BYTES = 32


class KmsSigner:
    def __init__(self, client: Any, key_id: str) -> None:
        self._client = client
        self._key_id = key_id

    def sign(self, data: bytes) -> bytes:
        """ES256 of `data`: r and s, 64 bytes."""
        try:
            answer = self._client.sign(
                KeyId=self._key_id,
                Message=hashlib.sha256(data).digest(),
                MessageType="DIGEST",
                SigningAlgorithm="ECDSA_SHA_256",
            )
        except (ClientError, BotoCoreError) as e:
            raise error_of(e, "The signing key service") from e
        return raw_signature(bytes(answer["Signature"]))


def raw_signature(der: bytes) -> bytes:
    """A DER ECDSA signature (SEQUENCE of r and s) as COSE's fixed-width r || s."""
    r, s = decode_dss_signature(der)
    return r.to_bytes(_P256_INTEGER_BYTES, "big") + s.to_bytes(_P256_INTEGER_BYTES, "big")
