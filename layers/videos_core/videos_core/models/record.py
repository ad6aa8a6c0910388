"""The persisted job record (DynamoDB item) and its public view."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

from videos_core.models.api import Length, Size, Variant, Video, VideoError, VideoStatus, usd

TERMINAL_STATUSES: frozenset[str] = frozenset({"completed", "failed"})


class AssetRecord(BaseModel):
    key: str
    size: int
    content_type: str


class VideoRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    owner: str
    video_id: str
    upstream_id: str
    status: VideoStatus
    progress: int = 0
    model: str
    seconds: Length
    size: Size
    prompt: str
    created_at: int
    completed_at: int | None = None
    expires_at: int | None = None
    remixed_from_video_id: str | None = None
    error: VideoError | None = None
    cost_estimate: Decimal
    assets: dict[Variant, AssetRecord] = {}
    # DynamoDB TTL (epoch seconds): when the record goes with its assets.
    ttl: int | None = None
    # Who holds the right to store the files and complete the job, and until when (logic.workflow).
    finaliser: str | None = None
    finalise_until: int | None = None
    object: Literal["video"] = "video"

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def being_finalised(self, now: int) -> bool:
        """Whether a finaliser holds a live claim on the job (its files are being stored)."""
        return self.finaliser is not None and (self.finalise_until or 0) >= now

    def to_video(self) -> Video:
        return Video(
            id=self.video_id,
            status=self.status,
            progress=self.progress,
            model=self.model,
            seconds=self.seconds,
            size=self.size,
            prompt=self.prompt,
            created_at=self.created_at,
            completed_at=self.completed_at,
            expires_at=self.expires_at,
            remixed_from_video_id=self.remixed_from_video_id,
            error=self.error,
            estimated_cost_usd=usd(self.cost_estimate),
        )
