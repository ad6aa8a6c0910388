"""Ending a job, whoever ends it (the poller, the webhook, a delete, the time cap, the reconciler):
one transaction makes the record terminal, frees the owner's slot, refunds the spend unless billed
and puts the job's event in the outbox. The one that ended the job publishes the event at once;
if the bus refuses it, the event waits in the outbox, and the next step that finds the job ended
(the state machine's, a redelivered webhook, the reconciler) publishes it."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from aws_lambda_powertools.metrics import MetricUnit

from videos_core import deadline
from videos_core.errors import ApiError, ServiceUnavailable
from videos_core.models.api import VideoError
from videos_core.models.record import VideoRecord
from videos_core.observability import logger, metrics
from videos_core.outcomes import record_attempt, record_ended
from videos_core.ports import EventPublisher, JobEnd, JobEnds, Outbox, PendingEvent

COMPLETED = "Video Completed"
FAILED = "Video Failed"
# How long the one that ended a job has to publish its event before another may.
PUBLISH_LEASE_SECONDS = 30
# A write that must not be left undone (the outbox cleared after a publish: left, the event would go
# out twice) is tried this many times, past the AWS client's own retries, with a growing pause: some
# 25 s in all, within PUBLISH_LEASE_SECONDS, so no other publisher takes the event meanwhile.
PERSIST_ATTEMPTS = 8
PERSIST_PAUSE_SECONDS = 0.2

T = TypeVar("T")


def persist(write: Callable[[], T]) -> T:
    """`write()`, tried again while the store is busy (ServiceUnavailable), within the invocation's time."""
    for attempt in range(PERSIST_ATTEMPTS):
        try:
            return write()
        except ServiceUnavailable:
            pause = PERSIST_PAUSE_SECONDS * 2**attempt
            if attempt == PERSIST_ATTEMPTS - 1 or pause >= deadline.seconds_left():
                raise
            time.sleep(pause)
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Ender:
    """What ending a job needs; `holder` names this invocation (the lease on the event is its)."""

    ends: JobEnds
    outbox: Outbox
    events: EventPublisher
    bucket: str
    holder: str
    bill_failed_jobs: bool


def event_detail(record: VideoRecord, bucket: str) -> dict[str, Any]:
    """The detail of `Video Completed` / `Video Failed` (schema: events/video-event.schema.json). It
    carries no prompt: the detail passes through the bus's targets, and a prompt is the owner's
    content, kept in the table alone."""
    generation = (record.completed_at - record.created_at) if record.completed_at is not None else None
    video = record.to_video()
    # A job's attempts, where it kept them (the state machine's forced end writes none).
    unknown = {name for name in ("provider", "attempts") if getattr(video, name) is None}
    return {
        "video": video.model_dump(mode="json", exclude={"prompt"} | unknown),
        "owner": record.owner,
        "s3": {variant: {"bucket": bucket} | asset.model_dump() for variant, asset in record.assets.items()},
        "estimated_cost_usd": float(record.price),
        "generation_seconds": generation,
    }


def failed(record: VideoRecord, error: VideoError, now: int, retention_seconds: int) -> VideoRecord:
    return record.model_copy(
        update={"status": "failed", "error": error, "completed_at": now, "ttl": now + retention_seconds}
    )


def end_job(
    record: VideoRecord, ender: Ender, now: int, *, claimant: str | None = None, removed: bool = False
) -> PendingEvent | None:
    """Ends the job as `record` says (terminal; or removed, as it was), its event in the outbox for
    `publish`; None when it had already ended (nothing is written then)."""
    completed = record.status == "completed"
    if not removed:
        record = record.settled(ender.bill_failed_jobs)
    end = JobEnd(
        record=record,
        detail_type=COMPLETED if completed else FAILED,
        detail=event_detail(record, ender.bucket),
        refund=not completed and not ender.bill_failed_jobs,
        holder=ender.holder,
        lease_until=now + PUBLISH_LEASE_SECONDS,
        claimant=claimant,
        removed=removed,
    )
    if not ender.ends.end(end, now):
        return None
    record_ended(record, ender.bill_failed_jobs)
    if record.holder is not None and not removed:
        record_attempt(record.model, record.holder)
    return PendingEvent(record.video_id, end.detail_type, end.detail)


def publish_pending(video_id: str, ender: Ender, now: int) -> None:
    """Publishes the job's event if it still waits in the outbox with no live holder;
    ServiceUnavailable (retryable) when the bus refuses it again."""
    pending = ender.outbox.claim(video_id, ender.holder, now, now + PUBLISH_LEASE_SECONDS)
    if pending is not None:
        publish(pending, ender)


def publish(pending: PendingEvent, ender: Ender) -> None:
    """Puts the event of a job this invocation ended (or claimed) on the bus, then out of the outbox;
    when the bus refuses it, the lease is given up at once for the next one to try."""
    try:
        ender.events.publish(pending.detail_type, pending.detail)
    except ApiError:
        metrics.add_metric("EventsDeferred", MetricUnit.Count, 1)
        logger.warning("the event of %s waits in the outbox", pending.video_id)
        with contextlib.suppress(ApiError):
            ender.outbox.release(pending.video_id, ender.holder)
        raise
    persist(lambda: ender.outbox.done(pending.video_id))
