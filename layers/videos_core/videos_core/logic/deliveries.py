"""Deliveries of a job's end to its owner's webhook endpoints (OpenAI's `video.completed` and
`video.failed`): for each enabled endpoint subscribed to the event's type, one POST of OpenAI's event
shape, signed under the endpoint's live secrets (Standard Webhooks), through the SSRF-safe client. The
`webhook-id` is derived from the event and the endpoint, so every attempt of one delivery carries the
same one and a receiver can drop repeats. Each attempt is logged under its delivery; a delivery that
went through is not sent again when its message comes back for another endpoint's sake.

A failed delivery is tried again with exponential backoff and jitter until RETRY_WINDOW_SECONDS after
its job's end reached the queue (OpenAI's 72 hours), then given up: its message goes to the dead-letter
queue. An endpoint whose deliveries have failed for DISABLE_AFTER_SECONDS without one going through is
disabled, and says why. A scale (the stack's WebhookRetryScale) shortens every one of these waits."""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from videos_core import outcomes, signing
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
# How long a delivery is tried (OpenAI's window), and how long an endpoint may fail before it is disabled.
RETRY_WINDOW_SECONDS = 72 * 3600
DISABLE_AFTER_SECONDS = 3 * 86_400
# How long a delivery's record is kept after its last attempt (DynamoDB's TTL removes it after).
ATTEMPT_KEEP_SECONDS = 7 * 86_400
# Endpoints read per page while finding those subscribed to an event.
_PAGE = 100

Post = Callable[[str, bytes, dict[str, str]], Attempt]
DeliveryStatus = Literal["pending", "delivered", "failed"]


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
class Delivery:
    """One event on its way to one endpoint."""

    webhook_id: str
    owner: str
    endpoint_id: str
    event: VideoEvent


@dataclass(frozen=True)
class LoggedAttempt:
    attempted_at: int
    status_code: int | None
    duration_ms: int
    failure: str | None


@dataclass(frozen=True)
class LoggedDelivery:
    """A delivery as its log keeps it: its status and every attempt, oldest first."""

    delivery: Delivery
    status: DeliveryStatus
    created_at: int
    attempts: tuple[LoggedAttempt, ...]


class EndpointDeliveryLog(Protocol):
    def delivered(self, webhook_id: str) -> bool:
        """Whether an attempt of this delivery went through."""
        ...

    def record(
        self, delivery: Delivery, attempt: LoggedAttempt, status: DeliveryStatus, keep_until: int
    ) -> None:
        """Adds an attempt to the delivery's record (made on its first) and sets its status."""
        ...

    def get(self, webhook_id: str) -> LoggedDelivery | None: ...

    def list(self, endpoint_id: str, limit: int, after: str | None) -> tuple[list[LoggedDelivery], bool]:
        """The endpoint's deliveries, newest first, after the delivery `after`; and whether more follow."""
        ...


class EndpointHealth(Protocol):
    def failing(self, owner: str, endpoint_id: str, now: int) -> int:
        """Marks the endpoint failing from `now` unless it already is; since when it is."""
        ...

    def recovered(self, owner: str, endpoint_id: str) -> None: ...

    def disable(self, owner: str, endpoint_id: str, reason: str) -> None: ...


@dataclass(frozen=True)
class Deliverer:
    """What delivering needs: the endpoints, the key their secrets are sealed with, the deliveries' log,
    the endpoints' health, the POST (`webhook_http.post` with the stack's loopback rule), and the scale of
    every wait."""

    store: EndpointStore
    box: SecretBox
    log: EndpointDeliveryLog
    health: EndpointHealth
    post: Post
    scale: float = 1.0


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


def send(endpoint: StoredEndpoint, delivery: Delivery, box: SecretBox, post: Post, now: int) -> Attempt:
    """One signed POST of the delivery's event to `endpoint`."""
    event = delivery.event
    body = signing.event_body(event.event_id, event.event_type, event.video_id, event.created_at)
    secrets_ = signing_secrets(delivery.owner, endpoint, box, now)
    return post(endpoint.url, body, signing.delivery_headers(secrets_, delivery.webhook_id, now, body))


def attempt(
    endpoint: StoredEndpoint, delivery: Delivery, deliverer: Deliverer, now: int, *, failed: DeliveryStatus
) -> Attempt:
    """Sends the delivery once and logs it, as `failed` if it fails (`pending`: tried again). The
    endpoint's health follows: one that went through ends a failing streak, one that failed starts or
    continues it, and a streak of DISABLE_AFTER_SECONDS disables the endpoint."""
    made = send(endpoint, delivery, deliverer.box, deliverer.post, now)
    outcome = "delivered" if made.delivered else made.reason or "failed"
    outcomes.record_webhook_attempt(delivery.event.event_type, outcome, made.seconds)
    status: DeliveryStatus = "delivered" if made.delivered else failed
    logged = LoggedAttempt(now, made.status, round(made.seconds * 1000), made.failure)
    deliverer.log.record(delivery, logged, status, now + ATTEMPT_KEEP_SECONDS)
    logger.info(
        "webhook attempt",
        extra={
            "webhook_id": delivery.webhook_id,
            "endpoint_id": endpoint.id,
            "video_id": delivery.event.video_id,
            "status_code": made.status,
            "failure": made.failure,
        },
    )
    owner = delivery.owner
    if made.delivered:
        if endpoint.failing_since is not None:
            deliverer.health.recovered(owner, endpoint.id)
        return made
    since = deliverer.health.failing(owner, endpoint.id, now)
    if now - since >= DISABLE_AFTER_SECONDS * deliverer.scale:
        reason = f"Every delivery failed for {_duration(now - since)}; the last: {made.failure}"
        deliverer.health.disable(owner, endpoint.id, reason)
    return made


def deliver(event: VideoEvent, deliverer: Deliverer, now: int, *, last: bool) -> bool:
    """Sends `event` to each endpoint subscribed to it that has not had it yet; whether each went
    through."""
    through = True
    for endpoint in subscribed(event.owner, event.event_type, deliverer.store):
        delivery = Delivery(webhook_id(event.event_id, endpoint.id), event.owner, endpoint.id, event)
        if deliverer.log.delivered(delivery.webhook_id):
            continue
        made = attempt(endpoint, delivery, deliverer, now, failed="failed" if last else "pending")
        through = made.delivered and through
    return through


def retry_after_seconds(receives: int, scale: float = 1.0, draw: Callable[[], float] = random.random) -> int:
    """How long a message whose delivery failed on its `receives`-th receive stays hidden before it is
    tried again: exponential, with "equal jitter" (half the wait fixed, half drawn), scaled; at least a
    second (SQS counts visibility in whole seconds)."""
    wait: float = min(RETRY_FIRST_SECONDS * 2.0 ** max(receives - 1, 0), RETRY_CAP_SECONDS)
    return max(1, min(math.ceil(wait * scale * (0.5 + 0.5 * float(draw()))), RETRY_CAP_SECONDS))


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def _duration(seconds: int) -> str:
    if seconds >= 86_400:
        return f"{seconds / 86_400:.1f} days"
    return f"{seconds} s"


@dataclass(frozen=True)
class Queue:
    """What the delivery function does with a message beyond reading it: hide it for its backoff
    (`hide(receipt handle, seconds)`), or give it up to the dead-letter queue (`give_up(body)`)."""

    hide: Callable[[str, int], None]
    give_up: Callable[[str], None]


def deliver_batch(records: list[dict[str, Any]], deliverer: Deliverer, queue: Queue, now: int) -> list[str]:
    """Delivers each SQS record of a Lambda batch; the ids of the messages to be received again (Lambda's
    `batchItemFailures`), each hidden first for its backoff, never past the retry window. A message whose
    window has passed is tried a last time, then given up to the dead-letter queue. A message that is
    not a job's end is dropped: no retry could deliver it."""
    again = []
    window = RETRY_WINDOW_SECONDS * deliverer.scale
    for record in records:
        try:
            event = parse_message(record["body"])
        except (ValueError, KeyError, TypeError):
            logger.error("not a job's end; dropped", extra={"message_id": record.get("messageId")})
            continue
        attributes = record.get("attributes", {})
        receives = int(attributes.get("ApproximateReceiveCount", "1"))
        ends = int(attributes.get("SentTimestamp", now * 1000)) / 1000 + window
        last = now >= ends
        try:
            through = deliver(event, deliverer, now, last=last)
        except ServiceUnavailable:
            logger.exception("delivery interrupted", extra={"video_id": event.video_id})
            through, last = False, False
        if through:
            continue
        if last:
            logger.warning("delivery given up", extra={"video_id": event.video_id})
            queue.give_up(record["body"])
            continue
        wait = min(retry_after_seconds(receives, deliverer.scale), max(1, math.ceil(ends - now)))
        queue.hide(record["receiptHandle"], wait)
        again.append(record["messageId"])
    return again
