"""The upstream's webhooks (OpenAI's `video.completed`, `video.failed`; the providers' callbacks):
verified, deduplicated, and turned into the same conditional endings the state machine uses, so a job
ends once whoever is first."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from videos_core import providers
from videos_core.callbacks import (
    SigningKeys,
    signed_headers,
    standard_webhook,
    verify_signature,
    video_id_of,
    well_formed,
)
from videos_core.errors import (
    ApiError,
    InvalidRequest,
    RouteNotFound,
    ServiceUnavailable,
    Unauthorized,
    UpstreamRateLimited,
    UpstreamRetryableError,
)
from videos_core.logic.ending import publish_pending
from videos_core.logic.failover import may_move
from videos_core.logic.workflow import Finisher, Outcome, end_failed, failure_of, store_assets
from videos_core.models.record import VideoRecord
from videos_core.ports import DeliveryLog

# Standard Webhooks' tolerance is 5 minutes either way; ids are kept well past it.
REMEMBER_SECONDS = 24 * 3600
EVENT_TYPES = ("video.completed", "video.failed")


@dataclass(frozen=True)
class Received:
    event_type: str
    video_id: str | None
    outcome: Outcome
    duplicate: bool = False
    # What the call is answered with, where its provider asks more than an acknowledgement (a
    # challenge echoed back).
    answer: dict[str, str] | None = None


def verify(secret: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """The event, once its signature and timestamp hold; forged → 401, stale or malformed → 400."""
    event = standard_webhook(secret, body, headers)
    if not isinstance(event, dict) or not isinstance(event.get("data"), dict):
        raise InvalidRequest("The webhook body is not an event.", param="body")
    return event


def receive(
    body: bytes, headers: dict[str, str], *, secret: str, deliveries: DeliveryLog, ports: Finisher, now: int
) -> Received:
    """Applies an OpenAI delivery once (see `_once`)."""
    headers = signed_headers(headers)
    event = verify(secret, body, headers)
    event_type, upstream_id = str(event.get("type")), str(event["data"].get("id"))
    found = ports.videos.find_by_upstream_id(upstream_id) if event_type in EVENT_TYPES else None
    return _once(headers["webhook-id"], event_type, found, deliveries, ports, now)


def callback_token(token: str) -> str:
    """A callback's token, refused before any lookup when it has not a token's shape."""
    if not well_formed(token):
        raise Unauthorized("The callback's token was not made by this service.")
    return token


def receive_callback(
    provider: str,
    token: str,
    delivery: tuple[dict[str, str], bytes],
    *,
    secret: str,
    signing_keys: SigningKeys,
    deliveries: Callable[[], DeliveryLog],
    ports: Callable[[], Finisher],
    now: int,
) -> Received:
    """Applies a provider's callback (`delivery`: its headers, lower-cased, and body) once: its URL's
    token must be the one made for the job the call names (the field its provider's `Callbacks`
    names), and a provider that signs its calls must have signed it with a key it publishes. A
    provider's challenge is echoed back once the token holds, without a lookup (it comes as the job
    starts, and wants its answer within seconds)."""
    body = delivery[1]
    video_id = video_id_of(secret, token)
    if video_id is None:
        raise Unauthorized("The callback's token was not made by this service.")
    scheme = providers.registry().get(provider)
    if scheme is None or scheme.callbacks is None:
        raise RouteNotFound(f"No callbacks are taken from '{provider}'.")
    field = scheme.callbacks.job_id_field
    try:
        event = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InvalidRequest("The callback body is not JSON.", param="body") from e
    challenge = _challenge(scheme.callbacks.challenge_field, event)
    if challenge is not None:
        return Received(f"{provider}.challenge", video_id, Outcome(finalised=False), answer=challenge)
    upstream_id = event.get(field) if isinstance(event, dict) else None
    if not isinstance(upstream_id, str):
        raise InvalidRequest(f"The callback names no job ({field}).", param="body")
    # Made only now: a challenge is answered within the provider's few seconds, even from a cold start.
    finisher = ports()
    found = finisher.videos.find_by_upstream_id(upstream_id)
    if found is not None and found[1] != video_id:
        raise Unauthorized("The callback's token is another job's.")
    # Read once: the route's keys are the record's model's, and applying the call starts from it.
    record = finisher.videos.get(*found) if found is not None else None
    entry = finisher.catalog().entry(record.model, record.route) if record is not None else None
    if entry is not None:
        verify_signature(entry, delivery, signing_keys, now)
    delivery_id = f"{provider}:{upstream_id}"
    return _once(delivery_id, f"{provider}.callback", found, deliveries(), finisher, now, record)


def _challenge(field: str | None, event: object) -> dict[str, str] | None:
    """The echo of a provider's challenge, for a call that carries one in the field its provider
    names."""
    if field is None or not isinstance(event, dict) or not isinstance(event.get(field), str):
        return None
    return {field: event[field]}


def _once(
    delivery_id: str,
    event_type: str,
    found: tuple[str, str] | None,
    deliveries: DeliveryLog,
    ports: Finisher,
    now: int,
    record: VideoRecord | None = None,
) -> Received:
    """Applies a delivery once (`record`: the job's, when the caller has just read it). A repeat of
    one applied answers as it did and changes nothing; a repeat while another invocation still
    applies it is told to come back (503). The claim on a delivery lasts no longer than this
    invocation's own time, so one that died frees it."""
    holder = ports.ender.holder
    state = deliveries.begin(delivery_id, holder, now, ports.lease_until(now), now + REMEMBER_SECONDS)
    if state == "applied":
        return Received(event_type, None, Outcome(finalised=False), duplicate=True)
    if state == "in_flight":
        raise ServiceUnavailable(
            f"Webhook {delivery_id} is being applied; deliver it again later.", retry_after=5
        )
    try:
        received = _apply(event_type, found, ports, now, record)
    except (UpstreamRetryableError, UpstreamRateLimited) as e:
        # Failing or rate limiting when asked about its own job: the upstream delivers again later.
        _forget(deliveries, delivery_id, holder)
        raise ServiceUnavailable(f"The upstream is not ready: {e.message}; deliver again later.") from e
    except Exception:
        # Not applied: let the upstream's retry of this delivery through.
        _forget(deliveries, delivery_id, holder)
        raise
    deliveries.applied(delivery_id, holder)
    return received


def _forget(deliveries: DeliveryLog, delivery_id: str, holder: str) -> None:
    # If even this fails, the claim lapses with this invocation's time, and a redelivery takes it.
    with contextlib.suppress(ApiError):
        deliveries.forget(delivery_id, holder)


def _apply(
    event_type: str, found: tuple[str, str] | None, ports: Finisher, now: int, record: VideoRecord | None
) -> Received:
    if found is None:
        return Received(event_type, None, Outcome(finalised=False))
    owner, video_id = found
    # A record read a moment ago may have ended since: the ends below are conditional, so a stale one
    # costs an upstream read, never a second end.
    record = record or ports.videos.get(owner, video_id)
    if record is None or record.terminal:
        # Ended already; its event may still wait for the bus (a redelivery after a refused publish).
        publish_pending(video_id, ports.ender, now)
        return Received(event_type, video_id, Outcome(finalised=False))
    if record.being_finalised(now):
        # Another finaliser (the poller's StoreAssets) is storing the files and ends the job; if it
        # dies, its claim lapses and the poller's next look takes over. Nothing to ask the upstream.
        return Received(event_type, video_id, Outcome(finalised=False))
    # The upstream's own state decides, not the event: a late or out-of-order delivery must not end a
    # job otherwise than the upstream did.
    job = ports.upstream.via(record.route).retrieve(record.model, record.upstream_id)
    if job.status == "completed":
        # Storing asks the upstream for the files; one it cannot serve yet answers 409 (retryable).
        outcome = store_assets(owner, video_id, ports, now, record)
    elif job.status == "failed" and may_move(record, failure_of(job), ports.mover):
        # Another route takes the job over: the poller's next look moves it (and it alone moves jobs).
        outcome = Outcome(finalised=False)
    elif job.status == "failed":
        outcome = end_failed(owner, video_id, failure_of(job), ports, now, record)
    else:
        # Ahead of the upstream's own API: the upstream delivers again later (503), the poller goes on.
        raise UpstreamRetryableError(f"the upstream still reports the job {job.status}")
    return Received(event_type, video_id, outcome)
