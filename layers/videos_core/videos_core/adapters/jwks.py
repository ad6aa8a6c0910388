"""A provider's published signing keys (a JWKS document), fetched on first use and kept for a day
per container, as fal advises; a fetch that fails is the provider's to retry (503)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable

import httpx2

from videos_core.errors import ServiceUnavailable

KEEP_SECONDS = 24 * 3600


def public_keys(jwks: object) -> list[bytes]:
    """The Ed25519 keys of a JWKS document."""
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    found = []
    for key in keys if isinstance(keys, list) else []:
        if isinstance(key, dict) and key.get("crv") == "Ed25519" and isinstance(key.get("x"), str):
            x = key["x"]
            found.append(base64.urlsafe_b64decode(x + "=" * (-len(x) % 4)))
    return found


class KeySets:
    def __init__(self, timeout: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._timeout = timeout
        self._clock = clock
        self._kept: dict[str, tuple[float, list[bytes]]] = {}

    def __call__(self, url: str) -> list[bytes]:
        kept = self._kept.get(url)
        if kept is not None and self._clock() - kept[0] < KEEP_SECONDS:
            return kept[1]
        try:
            response = httpx2.get(url, timeout=self._timeout)
            response.raise_for_status()
            keys = public_keys(response.json())
        except (httpx2.HTTPError, json.JSONDecodeError) as e:
            raise ServiceUnavailable(
                "The provider's signing keys could not be read; deliver again later."
            ) from e
        self._kept[url] = (self._clock(), keys)
        return keys
