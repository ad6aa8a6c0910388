"""Reading videos: one, or a page of the owner's, always from the record (never the upstream)."""

from __future__ import annotations

from videos_core.errors import InvalidRequest
from videos_core.ids import is_video_id
from videos_core.logic.lookup import find_video
from videos_core.models.api import ListQuery, Video, VideoList, list_page
from videos_core.ports import VideoRepository


def get_video(owner: str, video_id: str, videos: VideoRepository) -> Video:
    return find_video(owner, video_id, videos).to_video()


def list_videos(owner: str, query: ListQuery, videos: VideoRepository) -> VideoList:
    if query.after is not None and not is_video_id(query.after):
        raise InvalidRequest(f"'after' must be a video id, not '{query.after}'.", param="after")
    page = videos.list(owner, query.limit, query.order, query.after)
    data = [record.to_video() for record in page.records]
    return list_page(VideoList, data, page.has_more)
