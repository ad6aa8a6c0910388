"""Webhook delivery as OpenAI sends it: `video.completed` / `video.failed` events, signed per the
Standard Webhooks specification and retried with backoff until the receiver answers 2xx."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from dataclasses import dataclass

import httpx

# Standard Webhooks' secret and signature, as the functions sign a tenant's deliveries.
from videos_core.signing import new_secret, secret_key, sign

__all__ = ["RETRY_DELAYS", "WebhookSender", "new_secret", "secret_key", "sign"]

log = logging.getLogger("videos_api.engine.webhooks")

# Seconds between delivery attempts: six tries over about a quarter of a minute.
RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0)
# Deliveries in flight at once; the others wait their turn here (httpx's pool scans its whole queue
# of waiting requests at every step, so hundreds queued there cost more CPU than the deliveries).
MAX_CONCURRENT_DELIVERIES = 16


@dataclass
class DeliveryStats:
    delivered: int = 0
    failed_attempts: int = 0
    abandoned: int = 0


class WebhookSender:
    def __init__(self, url: str, secret: str, retry_delays: tuple[float, ...] = RETRY_DELAYS) -> None:
        self.url = url
        self._key = secret_key(secret)
        self._retry_delays = retry_delays
        self._client = httpx.AsyncClient(timeout=10.0)
        self._in_flight = asyncio.Semaphore(MAX_CONCURRENT_DELIVERIES)
        self.stats = DeliveryStats()

    async def send(self, event_type: str, video_id: str) -> None:
        event_id = "evt_" + secrets.token_hex(16)
        body = json.dumps(
            {
                "id": event_id,
                "object": "event",
                "created_at": int(time.time()),
                "type": event_type,
                "data": {"id": video_id},
            }
        ).encode()
        for delay in (0.0, *self._retry_delays):
            await asyncio.sleep(delay)
            if await self._attempt(event_id, body):
                self.stats.delivered += 1
                return
            self.stats.failed_attempts += 1
        self.stats.abandoned += 1
        log.warning(
            "webhook %s for %s abandoned after %d attempts", event_id, video_id, len(self._retry_delays) + 1
        )

    async def _attempt(self, event_id: str, body: bytes) -> bool:
        async with self._in_flight:  # signed when it leaves, not when it starts waiting
            timestamp = int(time.time())
            headers = {
                "content-type": "application/json",
                "webhook-id": event_id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": sign(self._key, event_id, timestamp, body),
            }
            try:
                response = await self._client.post(self.url, content=body, headers=headers)
            except httpx.HTTPError as e:
                log.info("webhook %s to %s failed: %s", event_id, self.url, e)
                return False
        return response.is_success

    async def aclose(self) -> None:
        await self._client.aclose()
