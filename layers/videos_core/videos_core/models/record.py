"""The persisted job record (DynamoDB item) and its public view."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

from videos_core.models.api import (
    Attempt,
    AttemptOutcome,
    Length,
    Size,
    Variant,
    Video,
    VideoError,
    VideoStatus,
    usd,
)

TERMINAL_STATUSES: frozenset[str] = frozenset({"completed", "failed"})


class AssetRecord(BaseModel):
    key: str
    size: int
    content_type: str


class AttemptRecord(BaseModel):
    """One try of the job on a route (models.api.Attempt), with its cost as a number."""

    model_config = ConfigDict(extra="ignore")

    route: str
    provider: str
    upstream_id: str | None = None
    outcome: AttemptOutcome
    reason: str | None = None
    cost: Decimal
    charged: bool
    started_at: int

    def to_attempt(self) -> Attempt:
        return Attempt(
            route=self.route,
            provider=self.provider,
            upstream_id=self.upstream_id,
            outcome=self.outcome,
            reason=self.reason,
            cost_usd=usd(self.cost),
            charged=self.charged,
        )


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
    # The completed video an edit or an extension was made from (None for one of an uploaded MP4).
    derived_from_video_id: str | None = None
    error: VideoError | None = None
    # The running attempt's price: what the daily budget gets back if the job fails (unless billed).
    cost_estimate: Decimal
    # The route that has the job (None: the model's first, for a job made before routes had names),
    # and every attempt made, the running one last.
    route: str | None = None
    attempts: list[AttemptRecord] = []
    # The API's domain the job was created on: where a provider that calls back reaches it.
    api_domain: str | None = None
    # Whether the job may move to another route after its provider accepted it: one made from a
    # prompt alone (logic.failover).
    portable: bool = False
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

    # Which attempt has the job is its upstream id's; `cost_estimate` stands for it, or for the attempt
    # a move has charged before its provider was asked (logic.failover).
    @property
    def source_video_id(self) -> str | None:
        """The stored video this one was made from (a remix's, an edit's or an extension's): its
        manifest is the parent ingredient of this one's."""
        return self.remixed_from_video_id or self.derived_from_video_id

    @property
    def holder(self) -> AttemptRecord | None:
        """The attempt whose upstream job this is."""
        return next((a for a in reversed(self.attempts) if a.upstream_id == self.upstream_id), None)

    @property
    def price(self) -> Decimal:
        """What the job costs: `cost_estimate`, and the attempts it left behind still charged
        (abandoned while running, their cancel not taken)."""
        last = self.attempts[-1] if self.attempts else None
        priced = (
            last
            if last is not None and last.upstream_id is None and last.outcome == "running"
            else self.holder
        )
        left = (attempt.cost for attempt in self.attempts if attempt.charged and attempt is not priced)
        return self.cost_estimate + sum(left, Decimal(0))

    def settled(self, billed: bool) -> VideoRecord:
        """The ended job with the attempt that had it ended as the job did."""
        holder = self.holder
        if holder is None or holder.outcome != "running" or not self.terminal:
            return self
        completed = self.status == "completed"
        ended = holder.model_copy(
            update={
                "outcome": "completed" if completed else "failed",
                "reason": self.error.message if self.error else None,
                "charged": completed or billed,
            }
        )
        return self.model_copy(update={"attempts": [ended if a is holder else a for a in self.attempts]})

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
            estimated_cost_usd=usd(self.price),
            provider=self.attempts[-1].provider if self.attempts else None,
            attempts=[attempt.to_attempt() for attempt in self.attempts] or None,
        )
