"""A provider's signing keys, read from the route's `webhook_keys_url` on first use and kept for a day
per container, as fal advises: a published JWKS, or a document its plug-in's `keys_reader` reads (an
account's signing secret, asked for with the route's own key where its `Callbacks` say so). Read again
on demand when a call does not verify (a rotated key), at most once per `REFRESH_SECONDS`; a read that
fails is the provider's to retry (503)."""

from __future__ import annotations

import base64
import hashlib
import importlib
import json
import time
from collections.abc import Callable, Mapping

import httpx2

from videos_core.catalog import Entry
from videos_core.errors import ServiceUnavailable
from videos_core.providers import provider

KEEP_SECONDS = 24 * 3600
# A call that does not verify reads the keys again, no sooner than this after they were last read: a
# rotated key is taken within it, and forged calls cannot make every call a read.
REFRESH_SECONDS = 300


def public_keys(jwks: object) -> list[bytes]:
    """The Ed25519 keys of a JWKS document."""
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    found = []
    for key in keys if isinstance(keys, list) else []:
        if isinstance(key, dict) and key.get("crv") == "Ed25519" and isinstance(key.get("x"), str):
            x = key["x"]
            found.append(base64.urlsafe_b64decode(x + "=" * (-len(x) % 4)))
    return found


def _reader(name: str | None) -> Callable[[object], list[bytes]]:
    if name is None:
        return public_keys
    module, _, function = name.partition(":")
    reader: Callable[[object], list[bytes]] = getattr(importlib.import_module(module), function)
    return reader


class KeySets:
    """`credentials(entry)`: the headers a call authenticates as the route with (its adapter's)."""

    def __init__(
        self,
        credentials: Callable[[Entry], Mapping[str, str]],
        timeout: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._credentials = credentials
        self._timeout = timeout
        self._clock = clock
        # By URL and the credentials' digest: two accounts' secrets at one URL are two sets.
        self._kept: dict[tuple[str, str], tuple[float, list[bytes]]] = {}

    def __call__(self, entry: Entry, *, fresh: bool = False) -> list[bytes]:
        callbacks = provider(entry.provider).callbacks
        url = entry.webhook_keys_url
        if callbacks is None or url is None:
            return []
        headers = dict(self._credentials(entry)) if callbacks.keys_need_route_key else {}
        kept_as = (url, hashlib.sha256(json.dumps(sorted(headers.items())).encode()).hexdigest())
        kept = self._kept.get(kept_as)
        if kept is not None and self._clock() - kept[0] < (REFRESH_SECONDS if fresh else KEEP_SECONDS):
            return kept[1]
        keys = self._read(url, headers, _reader(callbacks.keys_reader))
        self._kept[kept_as] = (self._clock(), keys)
        return keys

    def _read(
        self, url: str, headers: dict[str, str], reader: Callable[[object], list[bytes]]
    ) -> list[bytes]:
        try:
            response = httpx2.get(url, headers=headers, timeout=self._timeout)
            response.raise_for_status()
            return reader(response.json())
        except (httpx2.HTTPError, json.JSONDecodeError) as e:
            raise ServiceUnavailable(
                "The provider's signing keys could not be read; deliver again later."
            ) from e
