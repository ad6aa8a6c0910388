"""Finding one owner's video: malformed, unknown and other owners' ids all answer the same 404."""

from __future__ import annotations

from videos_core.errors import VideoNotFound
from videos_core.ids import is_video_id
from videos_core.models.record import VideoRecord
from videos_core.ports import VideoRepository


def find_video(owner: str, video_id: str, videos: VideoRepository) -> VideoRecord:
    record = videos.get(owner, video_id) if is_video_id(video_id) else None
    if record is None:
        raise VideoNotFound(f"No video with id '{video_id}'.", param="video_id")
    return record
