"""Callbacks as the providers make them: when a job ends, its body is POSTed to the URL the request
gave (fal's `fal_webhook`, OpenRouter's `callback_url`, Replicate's `webhook`…), retried until a 2xx.
None is signed but fal's (Ed25519, `local.engine.dialects.fal`) and Replicate's (Standard Webhooks,
`local.engine.dialects.replicate`): the URL carries whatever secret its owner put in it. A call
whose answer matters (MiniMax's challenge) is made once, within a time. An offline engine calls back
only to this machine: a URL elsewhere is logged and left alone."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

import httpx

from local.engine.webhooks import RETRY_DELAYS

log = logging.getLogger("videos_api.engine.callbacks")


class CallbackSender:
    def __init__(self, retry_delays: tuple[float, ...] = RETRY_DELAYS) -> None:
        self._retry_delays = retry_delays
        self._client = httpx.AsyncClient(timeout=10.0)
        self.delivered = 0

    async def send(
        self, url: str, body: dict[str, Any], sign: Callable[[bytes], dict[str, str]] | None = None
    ) -> None:
        """POSTs `body`, with the headers `sign` makes for each attempt (fal signs its webhooks)."""
        if not _on_this_machine(url):
            return
        for delay in (0.0, *self._retry_delays):
            await asyncio.sleep(delay)
            content = json.dumps(body).encode()
            headers = {"content-type": "application/json"} | (sign(content) if sign else {})
            try:
                response = await self._client.post(url, content=content, headers=headers)
            except httpx.HTTPError as e:
                log.info("callback to %s failed: %s", url, e)
                continue
            if response.is_success:
                self.delivered += 1
                return
        log.warning("callback to %s abandoned after %d attempts", url, len(self._retry_delays) + 1)

    async def answer(self, url: str, body: dict[str, Any], timeout: float) -> Any:
        """POSTs `body` once and gives back the JSON it was answered with within `timeout` seconds
        (MiniMax's challenge); None for no answer in time, one not 2xx or not JSON."""
        if not _on_this_machine(url):
            return None
        try:
            response = await self._client.post(url, json=body, timeout=timeout)
            return response.json() if response.is_success else None
        except (httpx.HTTPError, ValueError) as e:
            log.info("call to %s unanswered: %s", url, e)
            return None

    async def aclose(self) -> None:
        await self._client.aclose()


def _on_this_machine(url: str) -> bool:
    if httpx.URL(url).host in ("127.0.0.1", "localhost", "::1"):
        return True
    log.info("call to %s not made: the engine calls back only to this machine", url)
    return False
