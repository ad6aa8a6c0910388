"""Deleting a video. A running job ends first, through the one atomic end (the record removed, the
slot freed, the spend refunded unless billed, a `Video Failed` event): whatever happens after, the
job is over. Then, each best effort and bounded by the function's time, its execution is stopped
(it would end itself at its next check anyway) and the upstream's copy deleted. A job that had
ended loses its files, then its record."""

from __future__ import annotations

import contextlib

from videos_core.errors import ApiError
from videos_core.logic.ending import Ender, end_job, failed, publish
from videos_core.logic.lookup import find_video
from videos_core.models.api import DeletedVideo, VideoError
from videos_core.models.record import VideoRecord
from videos_core.observability import logger
from videos_core.ports import AssetStore, Upstream, UpstreamNotFoundError, VideoRepository, Workflow

DELETED = VideoError(code="video_deleted", message="The video was deleted before it finished.")


def delete_video(
    owner: str,
    video_id: str,
    *,
    videos: VideoRepository,
    assets: AssetStore,
    workflow: Workflow,
    upstream: Upstream,
    ender: Ender,
    retention_seconds: int,
    now: int,
) -> DeletedVideo:
    record = find_video(owner, video_id, videos)
    if not record.terminal:
        pending = end_job(failed(record, DELETED, now, retention_seconds), ender, now, removed=True)
        if pending is not None:
            with contextlib.suppress(ApiError):
                publish(pending, ender)  # or the execution's next check publishes it
            with contextlib.suppress(ApiError):
                workflow.stop(video_id)
            _delete_upstream(record, upstream)
            return DeletedVideo(id=video_id)
        # It ended meanwhile: delete it as an ended job.
        record = find_video(owner, video_id, videos)
    _delete_upstream(record, upstream)
    assets.delete([asset.key for asset in record.assets.values()])
    videos.delete_ended(owner, video_id)
    return DeletedVideo(id=video_id)


def _delete_upstream(record: VideoRecord, upstream: Upstream) -> None:
    try:
        upstream.via(record.route).delete(record.model, record.upstream_id)
    except UpstreamNotFoundError:
        pass
    except ApiError as e:
        # The upstream keeps its copy only briefly anyway; the caller's copy goes regardless.
        logger.warning("upstream copy of %s not deleted: %s", record.video_id, e.message)
