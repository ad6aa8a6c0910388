"""The upstream's webhooks (`video.completed`, `video.failed`): verified, deduplicated, and turned into
the same conditional endings the state machine uses, so a job ends once whoever is first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from videos_core.errors import (
    InvalidRequest,
    ServiceUnavailable,
    Unauthorized,
    UpstreamRetryableError,
    VideoQuotaExceeded,
)
from videos_core.logic.workflow import Finisher, Outcome, end_failed, failure_of, store_assets
from videos_core.ports import DeliveryLog

# Standard Webhooks' tolerance is 5 minutes either way; ids are kept well past it.
REMEMBER_SECONDS = 24 * 3600
EVENT_TYPES = ("video.completed", "video.failed")


@dataclass(frozen=True)
class Received:
    event_type: str
    video_id: str | None
    outcome: Outcome


SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


def signed_headers(headers: dict[str, str]) -> dict[str, str]:
    """The delivery's headers, lower-cased; a delivery without a signature is refused before any lookup."""
    lowered = {name.lower(): value for name, value in headers.items()}
    if not all(lowered.get(name) for name in SIGNATURE_HEADERS):
        raise Unauthorized("A webhook must carry webhook-id, webhook-timestamp and webhook-signature.")
    return lowered


def verify(secret: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """The event, once its signature and timestamp hold; forged → 401, stale or malformed → 400."""
    try:
        event = Webhook(secret).verify(body, headers)
    except WebhookVerificationError as e:
        if "timestamp" in str(e).lower():
            raise InvalidRequest(
                f"Stale or unreadable webhook timestamp: {e}.", param="webhook-timestamp"
            ) from e
        raise Unauthorized("The webhook signature does not verify.") from e
    except (ValueError, UnicodeDecodeError, TypeError) as e:
        raise Unauthorized("The webhook signature does not verify.") from e
    if not isinstance(event, dict) or not isinstance(event.get("data"), dict):
        raise InvalidRequest("The webhook body is not an event.", param="body")
    return event


def receive(
    body: bytes, headers: dict[str, str], *, secret: str, deliveries: DeliveryLog, ports: Finisher, now: int
) -> Received:
    headers = signed_headers(headers)
    event = verify(secret, body, headers)
    event_type, upstream_id = str(event.get("type")), str(event["data"].get("id"))
    delivery_id = headers["webhook-id"]
    if not deliveries.remember(delivery_id, now + REMEMBER_SECONDS):
        raise InvalidRequest(f"Webhook {delivery_id} was already received.", param="webhook-id")
    try:
        return _apply(event_type, upstream_id, delivery_id, ports, now)
    except (UpstreamRetryableError, VideoQuotaExceeded) as e:
        # Failing or rate limiting when asked about its own job: the upstream delivers again later.
        deliveries.forget(delivery_id)
        raise ServiceUnavailable(f"The upstream is not ready: {e.message}; deliver again later.") from e
    except Exception:
        # Not applied: let the upstream's retry of this delivery through.
        deliveries.forget(delivery_id)
        raise


def _apply(event_type: str, upstream_id: str, delivery_id: str, ports: Finisher, now: int) -> Received:
    found = ports.videos.find_by_upstream_id(upstream_id) if event_type in EVENT_TYPES else None
    if found is None:
        return Received(event_type, None, Outcome(finalised=False))
    owner, video_id = found
    record = ports.videos.get(owner, video_id)
    if record is None or record.terminal:
        return Received(event_type, video_id, Outcome(finalised=False))
    # The upstream's own state decides, not the event: a late or out-of-order delivery must not end a
    # job otherwise than the upstream did.
    job = ports.upstream.retrieve(record.model, record.upstream_id)
    if job.status == "completed":
        # Storing asks the upstream for the files; one it cannot serve yet answers 409 (retryable).
        outcome = store_assets(owner, video_id, f"webhook:{delivery_id}", ports, now)
    elif job.status == "failed":
        outcome = end_failed(owner, video_id, failure_of(job), ports, now)
    else:
        # Ahead of the upstream's own API: the upstream delivers again later (503), the poller goes on.
        raise UpstreamRetryableError(f"the upstream still reports the job {job.status}")
    return Received(event_type, video_id, outcome)
