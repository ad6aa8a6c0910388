"""The job workflow's steps, shared by the state machine's tasks and the webhook receiver:
check the upstream (writing progress), store the files and complete, or end the job as failed.

Ending a job is conditional, so whichever of the poller and the webhook gets there first ends
it, once: only the one that ends it announces it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from videos_core.backoff import wait_seconds
from videos_core.errors import UpstreamRetryableError, VideoQuotaExceeded
from videos_core.models.api import Variant, VideoError
from videos_core.models.record import AssetRecord, VideoRecord
from videos_core.observability import logger
from videos_core.ports import (
    AssetWriter,
    ConditionFailedError,
    Quotas,
    Upstream,
    UpstreamJob,
    UpstreamNotFoundError,
    VideoRepository,
)
from videos_core.settings import Settings

VARIANTS: dict[Variant, str] = {
    "video": "video.mp4",
    "thumbnail": "thumbnail.jpg",
    "spritesheet": "spritesheet.jpg",
}
CONTENT_TYPES: dict[Variant, str] = {
    "video": "video/mp4",
    "thumbnail": "image/jpeg",
    "spritesheet": "image/jpeg",
}
# How long a finaliser may take to store a job's files before another may take over.
FINALISE_LEASE_SECONDS = 900
# Upstream error codes with a code of the contract's own.
_ERROR_CODES = {"moderation_blocked": "invalid_video_prompt"}

COMPLETED = "Video Completed"
FAILED = "Video Failed"


@dataclass(frozen=True)
class Finisher:
    """What the workflow's steps need."""

    settings: Settings
    videos: VideoRepository
    upstream: Upstream
    assets: AssetWriter
    quotas: Quotas


@dataclass(frozen=True)
class Check:
    """One look at the upstream: what the state machine's Choice routes on."""

    status: str  # an upstream status, or "finalised" once the record has ended (or is gone)
    progress: int
    wait_seconds: int
    timed_out: bool
    error: dict[str, str] | None


@dataclass(frozen=True)
class Outcome:
    """Whether this step ended the job; if it did, the event that announces it."""

    finalised: bool
    event: dict[str, Any] | None = None
    record: VideoRecord | None = None


def check_status(owner: str, video_id: str, attempt: int, ports: Finisher, now: int) -> Check:
    videos, upstream, settings = ports.videos, ports.upstream, ports.settings
    record = videos.get(owner, video_id)
    if record is None or record.terminal:
        return Check("finalised", record.progress if record else 0, 0, False, None)
    try:
        job = upstream.retrieve(record.model, record.upstream_id)
    except VideoQuotaExceeded as e:
        raise UpstreamRetryableError(e.message, upstream=e.upstream) from e
    except UpstreamNotFoundError:
        error = {"code": "video_generation_failed", "message": "The upstream lost the job."}
        return Check("failed", record.progress, 0, False, error)
    wait = max(1, math.ceil(wait_seconds(attempt, settings.backoff_scale)))
    if job.status in ("queued", "in_progress"):
        videos.update_progress(owner, video_id, job.status, job.progress)
        timed_out = now - record.created_at >= settings.max_generation_seconds
        return Check(job.status, job.progress, wait, timed_out, None)
    if job.status == "failed":
        return Check("failed", job.progress, 0, False, failure_of(job).model_dump())
    return Check(job.status, job.progress, wait, False, None)


def failure_of(job: UpstreamJob) -> VideoError:
    """A failed upstream job's error, in the contract's codes."""
    upstream_error = job.error or VideoError(code="video_generation_failed", message="The upstream failed.")
    return VideoError(
        code=_ERROR_CODES.get(upstream_error.code, "video_generation_failed"), message=upstream_error.message
    )


def asset_prefix(record: VideoRecord) -> str:
    """Where a video's files go: under its id alone, since every presigned URL shows the key (an owner
    is a tenant's name, and stays out of them)."""
    return f"videos/{record.video_id}/"


def asset_key(record: VideoRecord, variant: Variant) -> str:
    return asset_prefix(record) + VARIANTS[variant]


def store_assets(owner: str, video_id: str, claimant: str, ports: Finisher, now: int) -> Outcome:
    """Copies every variant into S3, then completes the job: a completed job always has its files."""
    videos, settings = ports.videos, ports.settings
    record = videos.get(owner, video_id)
    if record is None or record.terminal:
        return Outcome(finalised=False)
    if not videos.claim_finalisation(owner, video_id, claimant, now, FINALISE_LEASE_SECONDS):
        logger.info("%s is being finalised by another", video_id)
        return Outcome(finalised=False)
    stored: dict[Variant, AssetRecord] = {}
    try:
        # An attempt that crashed mid-copy could not abort its upload; the claim is ours now.
        left = ports.assets.abort_uploads(asset_prefix(record))
        if left:
            logger.warning("aborted %d upload(s) a crashed attempt left for %s", left, video_id)
        for variant in VARIANTS:
            key = asset_key(record, variant)
            with ports.upstream.open_content(record.model, record.upstream_id, variant) as content:
                size = ports.assets.put_stream(key, content.chunks(), CONTENT_TYPES[variant])
            stored[variant] = AssetRecord(key=key, size=size, content_type=CONTENT_TYPES[variant])
        expires_at = now + settings.retention_seconds
        completed = record.model_copy(
            update={
                "status": "completed",
                "progress": 100,
                "completed_at": now,
                "expires_at": expires_at,
                "assets": stored,
                "ttl": expires_at,
            }
        )
        videos.complete(completed, claimant)
    except ConditionFailedError:
        # Deleted while its files were being copied: take the copies back. (If the record is still
        # there, another finaliser took over this job's claim and writes the same keys: leave them.)
        if videos.get(owner, video_id) is None:
            ports.assets.delete([asset.key for asset in stored.values()])
        return Outcome(finalised=False)
    except BaseException:
        # Let the next attempt (this one retried, or the other finaliser) start afresh at once.
        videos.release_finalisation(owner, video_id, claimant)
        raise
    ports.quotas.release(owner)
    return Outcome(True, event_detail(completed, settings.assets_bucket), completed)


def end_failed(owner: str, video_id: str, error: VideoError, ports: Finisher, now: int) -> Outcome:
    settings = ports.settings
    record = ports.videos.fail(owner, video_id, error, now, now + settings.retention_seconds)
    if record is None:
        return Outcome(finalised=False)
    ports.quotas.release(owner)
    if not settings.bill_failed_jobs:
        ports.quotas.refund(owner, record.cost_estimate, record.created_at)
    return Outcome(True, event_detail(record, settings.assets_bucket), record)


def event_detail(record: VideoRecord, bucket: str) -> dict[str, Any]:
    """The detail of `Video Completed` / `Video Failed` (schema: events/video-event.schema.json). It
    carries no prompt: the detail passes through the state machine's execution history and the bus's
    targets, and a prompt is the owner's content, kept in the table alone."""
    generation = (record.completed_at - record.created_at) if record.completed_at is not None else None
    return {
        "video": record.to_video().model_dump(mode="json", exclude={"prompt"}),
        "owner": record.owner,
        "s3": {variant: {"bucket": bucket} | asset.model_dump() for variant, asset in record.assets.items()},
        "estimated_cost_usd": float(record.cost_estimate),
        "generation_seconds": generation,
    }
