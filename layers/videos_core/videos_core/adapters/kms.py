"""Secrets sealed with AWS KMS: encrypted under one key (named by its alias) with an encryption context
that binds each to what it belongs to, so a sealed secret copied onto another item does not open. Only
the roles granted Encrypt and Decrypt on the key (the template's) can seal or read them."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from videos_core.adapters.aws import error_of


class KmsSecretBox:
    def __init__(self, client: Any, key: str) -> None:
        self._client = client
        self._key = key

    def seal(self, secret: str, context: dict[str, str]) -> bytes:
        try:
            answer = self._client.encrypt(
                KeyId=self._key, Plaintext=secret.encode(), EncryptionContext=context
            )
        except (ClientError, BotoCoreError) as e:
            raise error_of(e, "The key service") from e
        return bytes(answer["CiphertextBlob"])

    def open(self, sealed: bytes, context: dict[str, str]) -> str:
        try:
            # The key named too, as KMS advises: a ciphertext under any other key is refused.
            answer = self._client.decrypt(KeyId=self._key, CiphertextBlob=sealed, EncryptionContext=context)
        except (ClientError, BotoCoreError) as e:
            raise error_of(e, "The key service") from e
        return bytes(answer["Plaintext"]).decode()
