"""Creating and remixing videos: quota → upstream job → record (queued) → workflow execution.

Whatever fails along the way, nothing is left half-made: the quota is given back, the upstream job
is taken back, and a record that exists ends failed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from videos_core.errors import VideoExpired, VideoGenerationFailed, VideoModelNotAvailable, VideoNotReady
from videos_core.ids import new_video_id
from videos_core.logic.lookup import find_video
from videos_core.models.api import CreateVideoRequest, RemixVideoRequest, VideoError
from videos_core.models.record import VideoRecord
from videos_core.observability import log_upstream_interaction, logger
from videos_core.ports import (
    Quotas,
    Reference,
    UploadStore,
    Upstream,
    UpstreamCreate,
    UpstreamJob,
    UpstreamNotFoundError,
    VideoRepository,
    Workflow,
)
from videos_core.pricing import estimate_cost
from videos_core.settings import Settings


@dataclass(frozen=True)
class Launcher:
    """What starting a job needs."""

    settings: Settings
    upstream: Upstream
    videos: VideoRepository
    workflow: Workflow
    quotas: Quotas
    uploads: UploadStore


@dataclass(frozen=True)
class _Job:
    owner: str
    model: str
    seconds: str
    size: str
    prompt: str
    remixed_from: str | None
    endpoint: str
    request: dict[str, object]


def create_video(
    owner: str, request: CreateVideoRequest, reference: Reference | None, ports: Launcher, now: int
) -> VideoRecord:
    settings = ports.settings
    if request.model not in settings.models:
        raise VideoModelNotAvailable(
            f"Model '{request.model}' is not available; use one of: {', '.join(settings.models)}.",
            param="model",
        )
    if request.input_reference is not None:
        reference = ports.uploads.reference(owner, request.input_reference.file_id)
    job = _Job(
        owner,
        request.model,
        request.seconds,
        request.size,
        request.prompt,
        None,
        "/v1/videos",
        request.model_dump(exclude={"input_reference"}) | {"input_reference": reference is not None},
    )
    upstream_create = UpstreamCreate(request.prompt, request.model, request.seconds, request.size, reference)
    return _start(job, lambda: ports.upstream.create(upstream_create), ports, now)


def remix_video(
    owner: str, source_id: str, request: RemixVideoRequest, ports: Launcher, now: int
) -> VideoRecord:
    source = find_video(owner, source_id, ports.videos)
    if source.status != "completed":
        raise VideoNotReady(f"Video '{source_id}' is {source.status}; only completed videos can be remixed.")
    if source.expires_at is not None and now >= source.expires_at:
        raise VideoExpired(f"Video '{source_id}' has expired and can no longer be remixed.")
    job = _Job(
        owner,
        source.model,
        source.seconds,
        source.size,
        request.prompt,
        source.video_id,
        f"/v1/videos/{source.upstream_id}/remix",
        request.model_dump(),
    )

    def remix_upstream() -> UpstreamJob:
        try:
            return ports.upstream.remix(source.model, source.upstream_id, request.prompt)
        except UpstreamNotFoundError as e:
            raise VideoExpired(f"The upstream no longer has video '{source_id}' to remix.") from e

    return _start(job, remix_upstream, ports, now)


def _start(job: _Job, call_upstream: Callable[[], UpstreamJob], ports: Launcher, now: int) -> VideoRecord:
    cost = estimate_cost(ports.settings.prices, job.model, job.size, int(job.seconds))
    ports.quotas.take(job.owner, cost, now)
    started = time.perf_counter()
    try:
        upstream_job = call_upstream()
    except Exception:
        ports.quotas.give_back(job.owner, cost, now)
        raise
    record = _new_record(job, upstream_job, cost, now)
    log_upstream_interaction(
        endpoint=job.endpoint,
        request=job.request,
        response={"id": upstream_job.id, "status": upstream_job.status, "progress": upstream_job.progress},
        started=started,
        ended=time.perf_counter(),
        video_id=record.video_id,
        cost_estimate=cost,
        model=job.model,
        duration_seconds=int(job.seconds),
    )
    return _launch(record, ports)


def _new_record(job: _Job, upstream_job: UpstreamJob, cost: Decimal, now: int) -> VideoRecord:
    return VideoRecord.model_validate(
        {
            "owner": job.owner,
            "video_id": new_video_id(),
            "upstream_id": upstream_job.id,
            "status": "queued",
            "progress": 0,
            "model": job.model,
            "seconds": job.seconds,
            "size": job.size,
            "prompt": job.prompt,
            "created_at": now,
            "remixed_from_video_id": job.remixed_from,
            "cost_estimate": cost,
        }
    )


def _launch(record: VideoRecord, ports: Launcher) -> VideoRecord:
    """Stores the record, then starts its execution; no failure leaves a job without an owner of its fate."""
    try:
        ports.videos.put_new(record)
    except Exception:
        # No record, so no one would ever collect the upstream job: take it back.
        _forget_upstream(record, ports)
        raise
    try:
        ports.workflow.start(record)
    except Exception as e:
        logger.exception("could not start the workflow of %s", record.video_id)
        error = VideoError(code="video_generation_failed", message="The job could not be started.")
        now = record.created_at
        ports.videos.fail(record.owner, record.video_id, error, now, now + ports.settings.retention_seconds)
        _forget_upstream(record, ports)
        raise VideoGenerationFailed("The job could not be started; it was marked failed.") from e
    return record


def _forget_upstream(record: VideoRecord, ports: Launcher) -> None:
    ports.quotas.give_back(record.owner, record.cost_estimate, record.created_at)
    try:
        ports.upstream.delete(record.model, record.upstream_id)
    except Exception:
        logger.warning("could not delete upstream job %s of %s", record.upstream_id, record.video_id)
