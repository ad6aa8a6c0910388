"""Deleting a video: its execution stops first, then the upstream copy, the files and the record go."""

from __future__ import annotations

from videos_core.errors import ApiError
from videos_core.logic.lookup import find_video
from videos_core.models.api import DeletedVideo
from videos_core.observability import logger
from videos_core.ports import AssetStore, Quotas, Upstream, UpstreamNotFoundError, VideoRepository, Workflow


def delete_video(
    owner: str,
    video_id: str,
    *,
    videos: VideoRepository,
    assets: AssetStore,
    workflow: Workflow,
    upstream: Upstream,
    quotas: Quotas,
) -> DeletedVideo:
    record = find_video(owner, video_id, videos)
    if not record.terminal:
        workflow.stop(video_id)
    try:
        upstream.delete(record.model, record.upstream_id)
    except UpstreamNotFoundError:
        pass
    except ApiError as e:
        # The upstream keeps its copy only briefly anyway; the caller's copy goes regardless.
        logger.warning("upstream copy of %s not deleted: %s", video_id, e.message)
    assets.delete([asset.key for asset in record.assets.values()])
    deleted = videos.delete(owner, video_id)
    if deleted is not None and not deleted.terminal:
        # The job ended here, not in the workflow (which may have completed it meanwhile and freed
        # the slot itself): judged on the record as the delete removed it, the slot is freed once.
        quotas.release(owner)
    return DeletedVideo(id=video_id)
