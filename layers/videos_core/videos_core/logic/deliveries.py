"""Deliveries of a job's end to its owner's webhook endpoints (OpenAI's `video.completed` and
`video.failed`): for each enabled endpoint subscribed to the event's type, one POST of OpenAI's event
shape, signed under the endpoint's live secrets (Standard Webhooks), through the SSRF-safe client. The
`webhook-id` is derived from the event and the endpoint, so every attempt of one delivery carries the
same one and a receiver can drop repeats. Each attempt is recorded; a delivery that went through is not
sent again when its message comes back for another endpoint's sake."""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from videos_core import signing
from videos_core.adapters.webhook_http import Attempt
from videos_core.errors import ServiceUnavailable
from videos_core.logic.ending import COMPLETED, FAILED
from videos_core.logic.webhook_endpoints import signing_secrets
from videos_core.observability import logger
from videos_core.ports import EndpointStore, SecretBox, StoredEndpoint

# The bus's detail types -> OpenAI's event types.
EVENT_TYPES = {COMPLETED: "video.completed", FAILED: "video.failed"}
# The first retry waits about this long; each next one twice as long, up to SQS's longest visibility
# timeout (12 hours). Jitter spreads the retries of many deliveries that failed together.
RETRY_FIRST_SECONDS = 30.0
RETRY_CAP_SECONDS = 43_200
# How long each attempt's record is kept (DynamoDB's TTL removes it after).
ATTEMPT_KEEP_SECONDS = 7 * 86_400
# Endpoints read per page while finding those subscribed to an event.
_PAGE = 100

Post = Callable[[str, bytes, dict[str, str]], Attempt]


@dataclass(frozen=True)
class VideoEvent:
    """A job's end as its endpoints are told of it."""

    owner: str
    video_id: str
    event_type: str
    created_at: int

    @property
    def event_id(self) -> str:
        """The same for every delivery of this end (one job ends once)."""
        return "evt_" + _digest(self.video_id, self.event_type)


@dataclass(frozen=True)
class DeliveryAttempt:
    """One attempt of a delivery, as it is recorded."""

    webhook_id: str
    owner: str
    endpoint_id: str
    event: VideoEvent
    number: int
    attempt: Attempt
    at: int


class DeliveryLog(Protocol):
    def delivered(self, webhook_id: str) -> bool:
        """Whether an attempt of this delivery went through."""
        ...

    def record(self, attempt: DeliveryAttempt, keep_until: int) -> None: ...


@dataclass(frozen=True)
class Deliverer:
    """What delivering needs: the endpoints, the key their secrets are sealed with, the attempts' log and
    the POST (`webhook_http.post` with the stack's loopback rule)."""

    store: EndpointStore
    box: SecretBox
    log: DeliveryLog
    post: Post


def event_of(bus_event: dict[str, Any]) -> VideoEvent:
    """The job's end an EventBridge event (as the rule puts it on the queue) tells of; ValueError when it
    is not a `Video Completed` / `Video Failed` event."""
    event_type = EVENT_TYPES.get(str(bus_event.get("detail-type")))
    detail = bus_event.get("detail")
    if event_type is None or not isinstance(detail, dict):
        raise ValueError(f"not a job's end: {bus_event.get('detail-type')!r}")
    video = detail["video"]
    ended = video.get("completed_at") or video["created_at"]
    return VideoEvent(str(detail["owner"]), str(video["id"]), event_type, int(ended))


def parse_message(body: str) -> VideoEvent:
    return event_of(json.loads(body))


def webhook_id(event_id: str, endpoint_id: str) -> str:
    """A delivery's `webhook-id`: the same on each of its attempts, another for each endpoint."""
    return "msg_" + _digest(event_id, endpoint_id)


def subscribed(owner: str, event_type: str, store: EndpointStore) -> Iterator[StoredEndpoint]:
    """The owner's enabled endpoints that take `event_type`."""
    after = None
    while True:
        page, more = store.list(owner, _PAGE, after)
        for endpoint in page:
            if endpoint.status == "enabled" and event_type in endpoint.event_types:
                yield endpoint
        if not more or not page:
            return
        after = page[-1].id


def send(
    owner: str, endpoint: StoredEndpoint, event: VideoEvent, deliverer: Deliverer, now: int
) -> tuple[str, Attempt]:
    """One signed POST of `event` to `endpoint`; its `webhook-id` and how it went."""
    message_id = webhook_id(event.event_id, endpoint.id)
    body = signing.event_body(event.event_id, event.event_type, event.video_id, event.created_at)
    secrets_ = signing_secrets(owner, endpoint, deliverer.box, now)
    return message_id, deliverer.post(
        endpoint.url, body, signing.delivery_headers(secrets_, message_id, now, body)
    )


def deliver(event: VideoEvent, deliverer: Deliverer, attempt_number: int, now: int) -> list[DeliveryAttempt]:
    """Sends `event` to each endpoint subscribed to it that has not had it yet; the attempts made (an
    attempt that failed is to be made again)."""
    made = []
    for endpoint in subscribed(event.owner, event.event_type, deliverer.store):
        if deliverer.log.delivered(webhook_id(event.event_id, endpoint.id)):
            continue
        message_id, attempt = send(event.owner, endpoint, event, deliverer, now)
        tried = DeliveryAttempt(message_id, event.owner, endpoint.id, event, attempt_number, attempt, now)
        deliverer.log.record(tried, now + ATTEMPT_KEEP_SECONDS)
        made.append(tried)
    return made


def retry_after_seconds(receives: int, scale: float = 1.0, draw: Callable[[], float] = random.random) -> int:
    """How long a message whose delivery failed on its `receives`-th receive stays hidden before it is
    tried again: exponential, with "equal jitter" (half the wait fixed, half drawn), scaled."""
    wait: float = min(RETRY_FIRST_SECONDS * 2.0 ** max(receives - 1, 0), RETRY_CAP_SECONDS)
    return min(math.ceil(wait * scale * (0.5 + 0.5 * float(draw()))), RETRY_CAP_SECONDS)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def deliver_batch(
    records: list[dict[str, Any]],
    deliverer: Deliverer,
    hide: Callable[[str, int], None],
    scale: float,
    now: int,
) -> list[str]:
    """Delivers each SQS record of a Lambda batch; the ids of the messages to be received again (Lambda's
    `batchItemFailures`), each hidden first for its backoff (`hide(receipt handle, seconds)`). A message
    that is not a job's end is dropped: no retry could deliver it."""
    again = []
    for record in records:
        try:
            event = parse_message(record["body"])
        except (ValueError, KeyError, TypeError):
            logger.error("not a job's end; dropped", extra={"message_id": record.get("messageId")})
            continue
        receives = int(record.get("attributes", {}).get("ApproximateReceiveCount", "1"))
        try:
            attempts = deliver(event, deliverer, receives, now)
        except ServiceUnavailable:
            logger.exception("delivery interrupted", extra={"video_id": event.video_id})
            attempts = None
        failed = attempts is None or not all(a.attempt.delivered for a in attempts)
        for made in attempts or []:
            logger.info(
                "webhook attempt",
                extra={
                    "webhook_id": made.webhook_id,
                    "endpoint_id": made.endpoint_id,
                    "video_id": event.video_id,
                    "attempt": made.number,
                    "status_code": made.attempt.status,
                    "failure": made.attempt.failure,
                },
            )
        if failed:
            hide(record["receiptHandle"], retry_after_seconds(receives, scale))
            again.append(record["messageId"])
    return again
