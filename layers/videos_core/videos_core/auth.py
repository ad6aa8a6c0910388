"""API keys → owners. Keys are stored as SHA-256 hashes; a resolved owner is cached per container
for a short while, so a revoked key stops working within that time."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable

from videos_core.errors import Unauthorized
from videos_core.observability import logger
from videos_core.ports import KeyStore

_BEARER = re.compile(r"Bearer +(.*)", re.IGNORECASE | re.DOTALL)
_KEY = re.compile(r"[\x21-\x7e]{16,256}")


INVALID_KEY = "The API key is not valid."


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def bearer_key(authorization: str | None) -> str:
    """The key of an `Authorization: Bearer <key>` header, checked for shape before any lookup: a key
    sent as asked but not of a key's shape is as invalid as an unknown one."""
    match = _BEARER.fullmatch((authorization or "").strip())
    if match is None or not match.group(1):
        raise Unauthorized("Send your API key as 'Authorization: Bearer <key>'.")
    if _KEY.fullmatch(match.group(1)) is None:
        raise Unauthorized(INVALID_KEY)
    return match.group(1)


class OwnerResolver:
    def __init__(
        self, keys: KeyStore, ttl_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._keys = keys
        self._ttl = ttl_seconds
        self._clock = clock
        self._cache: dict[str, tuple[str, float]] = {}

    def owner_of(self, authorization: str | None) -> str:
        """The owner of the bearer key in an Authorization header; Unauthorized for anything else."""
        return self.owner_of_key(bearer_key(authorization))

    def owner_of_key(self, key: str) -> str:
        key_hash = hash_key(key)
        cached = self._cache.get(key_hash)
        now = self._clock()
        if cached is not None and cached[1] > now:
            return cached[0]
        record = self._keys.find(key_hash)
        if record is None or record.revoked:
            self._cache.pop(key_hash, None)
            raise Unauthorized(INVALID_KEY)
        self._cache[key_hash] = (record.owner, now + self._ttl)
        try:
            self._keys.touch(key_hash, int(time.time()))
        except Exception:  # "last used" is bookkeeping; it never fails a request
            logger.warning("could not record the use of a key")
        return record.owner
