"""Download links: presigned S3 URLs with the content type and file name baked in."""

from __future__ import annotations

from videos_core.errors import VideoExpired, VideoNotReady
from videos_core.logic.lookup import find_video
from videos_core.models.api import DownloadLink, Variant
from videos_core.ports import AssetStore, VideoRepository
from videos_core.settings import Settings

EXTENSIONS: dict[Variant, str] = {"video": "mp4", "thumbnail": "jpg", "spritesheet": "jpg"}


def download_link(
    owner: str,
    video_id: str,
    variant: Variant,
    *,
    videos: VideoRepository,
    assets: AssetStore,
    settings: Settings,
    now: int,
) -> DownloadLink:
    record = find_video(owner, video_id, videos)
    asset = record.assets.get(variant)
    if record.status != "completed" or asset is None:
        raise VideoNotReady(f"Video '{video_id}' is {record.status}; it can be downloaded once completed.")
    if record.expires_at is not None and now >= record.expires_at:
        raise VideoExpired(f"Video '{video_id}' expired at {record.expires_at}; its files are gone.")
    ttl = settings.download_url_ttl_seconds
    url = assets.presign(asset.key, asset.content_type, f"{video_id}.{EXTENSIONS[variant]}", ttl)
    return DownloadLink(url=url, expires_at=now + ttl, content_type=asset.content_type)
