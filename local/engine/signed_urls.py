"""Signed URLs for a file, as a provider's storage serves them (the Gemini API redirects a download to
one): the path and an expiry signed with HMAC-SHA256 under the engine's own secret, so the URL alone
grants the file, without the API key, until it expires."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from urllib.parse import urlencode

from local.engine.errors import EngineError

# How long a signed URL lasts: long enough for a download to start, short enough not to be a key.
TTL_SECONDS = 300


class SignedUrls:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._secret = secrets.token_bytes(32)
        self._clock = clock

    def _signature(self, path: str, expires: int) -> str:
        return hmac.new(self._secret, f"{path}\n{expires}".encode(), hashlib.sha256).hexdigest()

    def query(self, path: str) -> str:
        """The query string that signs `path` until TTL_SECONDS from now."""
        expires = int(self._clock()) + TTL_SECONDS
        return urlencode({"expires": expires, "signature": self._signature(path, expires)})

    def valid(self, path: str, expires: str | None, signature: str | None) -> bool:
        """Whether `signature` signs `path` until `expires`, and that time has not come."""
        if not expires or not expires.isdigit() or not signature:
            return False
        good = hmac.compare_digest(signature, self._signature(path, int(expires)))
        return good and int(expires) > self._clock()

    def check(self, path: str, query: Mapping[str, str]) -> None:
        """Refuses a request for `path` whose query does not sign it (or signed it until a time past)."""
        if not self.valid(path, query.get("expires"), query.get("signature")):
            raise EngineError(403, "The signed URL is invalid or has expired.")
