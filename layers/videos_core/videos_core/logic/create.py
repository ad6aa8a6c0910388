"""Creating and remixing videos: upstream job → record (queued) → workflow execution."""

from __future__ import annotations

import time

from videos_core.errors import VideoExpired, VideoGenerationFailed, VideoModelNotAvailable, VideoNotReady
from videos_core.ids import new_video_id
from videos_core.logic.lookup import find_video
from videos_core.models.api import CreateVideoRequest, RemixVideoRequest, VideoError
from videos_core.models.record import VideoRecord
from videos_core.observability import log_upstream_interaction, logger
from videos_core.ports import (
    Reference,
    Upstream,
    UpstreamCreate,
    UpstreamJob,
    UpstreamNotFoundError,
    VideoRepository,
    Workflow,
)
from videos_core.pricing import estimate_cost
from videos_core.settings import Settings


def create_video(
    owner: str,
    request: CreateVideoRequest,
    reference: Reference | None,
    *,
    settings: Settings,
    upstream: Upstream,
    videos: VideoRepository,
    workflow: Workflow,
    now: int,
) -> VideoRecord:
    if request.model not in settings.models:
        raise VideoModelNotAvailable(
            f"Model '{request.model}' is not available; use one of: {', '.join(settings.models)}.",
            param="model",
        )
    started = time.perf_counter()
    job = upstream.create(
        UpstreamCreate(request.prompt, request.model, request.seconds, request.size, reference)
    )
    record = _new_record(
        owner, job, request.model, request.seconds, request.size, request.prompt, None, settings, now
    )
    _log(
        record, "/v1/videos", request.model_dump() | {"input_reference": reference is not None}, job, started
    )
    return _launch(record, settings=settings, upstream=upstream, videos=videos, workflow=workflow)


def remix_video(
    owner: str,
    source_id: str,
    request: RemixVideoRequest,
    *,
    settings: Settings,
    upstream: Upstream,
    videos: VideoRepository,
    workflow: Workflow,
    now: int,
) -> VideoRecord:
    source = find_video(owner, source_id, videos)
    if source.status != "completed":
        raise VideoNotReady(f"Video '{source_id}' is {source.status}; only completed videos can be remixed.")
    if source.expires_at is not None and now >= source.expires_at:
        raise VideoExpired(f"Video '{source_id}' has expired and can no longer be remixed.")
    started = time.perf_counter()
    try:
        job = upstream.remix(source.model, source.upstream_id, request.prompt)
    except UpstreamNotFoundError as e:
        raise VideoExpired(f"The upstream no longer has video '{source_id}' to remix.") from e
    record = _new_record(
        owner, job, source.model, source.seconds, source.size, request.prompt, source.video_id, settings, now
    )
    _log(record, f"/v1/videos/{source.upstream_id}/remix", request.model_dump(), job, started)
    return _launch(record, settings=settings, upstream=upstream, videos=videos, workflow=workflow)


def _new_record(
    owner: str,
    job: UpstreamJob,
    model: str,
    seconds: str,
    size: str,
    prompt: str,
    remixed_from: str | None,
    settings: Settings,
    now: int,
) -> VideoRecord:
    return VideoRecord.model_validate(
        {
            "owner": owner,
            "video_id": new_video_id(),
            "upstream_id": job.id,
            "status": "queued",
            "progress": 0,
            "model": model,
            "seconds": seconds,
            "size": size,
            "prompt": prompt,
            "created_at": now,
            "remixed_from_video_id": remixed_from,
            "cost_estimate": estimate_cost(settings.prices, model, size, int(seconds)),
        }
    )


def _log(
    record: VideoRecord, endpoint: str, request: dict[str, object], job: UpstreamJob, started: float
) -> None:
    log_upstream_interaction(
        endpoint=endpoint,
        request=request,
        response={"id": job.id, "status": job.status, "progress": job.progress},
        started=started,
        ended=time.perf_counter(),
        video_id=record.video_id,
        cost_estimate=record.cost_estimate,
        model=record.model,
        duration_seconds=int(record.seconds),
    )


def _launch(
    record: VideoRecord,
    *,
    settings: Settings,
    upstream: Upstream,
    videos: VideoRepository,
    workflow: Workflow,
) -> VideoRecord:
    """Stores the record, then starts its execution; no failure leaves a job without an owner of its fate."""
    try:
        videos.put_new(record)
    except Exception:
        # No record, so no one would ever collect the upstream job: take it back.
        _forget_upstream(record, upstream)
        raise
    try:
        workflow.start(record)
    except Exception as e:
        logger.exception("could not start the workflow of %s", record.video_id)
        error = VideoError(code="video_generation_failed", message="The job could not be started.")
        now = record.created_at
        videos.fail(record.owner, record.video_id, error, now, now + settings.retention_seconds)
        _forget_upstream(record, upstream)
        raise VideoGenerationFailed("The job could not be started; it was marked failed.") from e
    return record


def _forget_upstream(record: VideoRecord, upstream: Upstream) -> None:
    try:
        upstream.delete(record.model, record.upstream_id)
    except Exception:
        logger.warning("could not delete upstream job %s of %s", record.upstream_id, record.video_id)
