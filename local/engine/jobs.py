"""Video jobs of the engine: their time model, their scenarios and their OpenAI-shaped view."""

from __future__ import annotations

import asyncio
import math
import re
import secrets
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from local.engine.render import RenderResult, RenderSpec

# The models and dated snapshots OpenAI's published spec lists.
MODELS = ("sora-2", "sora-2-pro", "sora-2-2025-10-06", "sora-2-pro-2025-10-06", "sora-2-2025-12-08")
SECONDS = ("4", "8", "12")
SIZES = ("720x1280", "1280x720", "1024x1792", "1792x1024")

# How long an upstream keeps a finished video downloadable (OpenAI: one hour).
ASSET_LIFETIME_SECONDS = 3600
# The share of a job's latency it spends queued before progress starts rising.
QUEUED_SHARE = 0.1
# A stalled job's progress rises to this and stays there.
STALL_PROGRESS = 42


class Scenario(StrEnum):
    """Behaviours a prompt can ask for by containing `[name]`, like a payment provider's test cards;
    `[name:model]` asks for it only of jobs of that model (one route's provider of several)."""

    FAIL = "fail"
    MODERATION = "moderation"
    RATE_LIMIT = "rate-limit"
    STALL = "stall"
    FLAKY = "flaky"


_SCENARIO_TAG = re.compile(
    r"\[(" + "|".join(re.escape(s.value) for s in Scenario) + r")(?::([A-Za-z0-9._/-]+))?\]", re.IGNORECASE
)


def scenarios_in(prompt: str, model: str | None = None) -> frozenset[Scenario]:
    """The scenarios a prompt asks of a job of `model`."""
    return frozenset(
        Scenario(tag.lower()) for tag, only in _SCENARIO_TAG.findall(prompt) if not only or only == model
    )


def new_video_id() -> str:
    return "video_" + secrets.token_hex(24)


@dataclass
class Job:
    id: str
    seq: int
    model: str
    seconds: str
    size: str
    prompt: str
    spec: RenderSpec
    latency: float
    scenarios: frozenset[Scenario]
    remixed_from_video_id: str | None = None
    created_at: int = field(default_factory=lambda: int(time.time()))
    started: float = field(default_factory=time.monotonic)
    status: str | None = None  # set once terminal: "completed" or "failed"
    final_progress: int = 0
    completed_at: int | None = None
    expires_at: int | None = None
    error: dict[str, str] | None = None
    assets: RenderResult | None = None
    status_reads: int = 0
    # Made through OpenAI's API, which announces its end by webhook (the other dialects do not).
    openai_dialect: bool = True
    task: asyncio.Task[None] | None = None

    @property
    def terminal(self) -> bool:
        return self.status is not None

    def elapsed_share(self) -> float:
        return (time.monotonic() - self.started) / self.latency if self.latency > 0 else 1.0

    def live_status(self) -> tuple[str, int]:
        """Status and progress now: queued first, then progress rising with time, then the outcome."""
        if self.status is not None:
            return self.status, self.final_progress
        share = self.elapsed_share()
        if share < QUEUED_SHARE:
            return "queued", 0
        progress = min(99, math.floor((share - QUEUED_SHARE) / (1 - QUEUED_SHARE) * 100))
        if Scenario.STALL in self.scenarios:
            progress = min(progress, STALL_PROGRESS)
        return "in_progress", max(progress, 1)

    def complete(self, assets: RenderResult) -> None:
        now = int(time.time())
        self.status, self.final_progress, self.assets = "completed", 100, assets
        self.completed_at, self.expires_at = now, now + ASSET_LIFETIME_SECONDS

    def fail(self, code: str, message: str) -> None:
        self.final_progress = self.live_status()[1]
        self.status, self.error = "failed", {"code": code, "message": message}
        self.completed_at = int(time.time())

    def view(self) -> dict[str, Any]:
        status, progress = self.live_status()
        return {
            "id": self.id,
            "object": "video",
            "status": status,
            "progress": progress,
            "model": self.model,
            "seconds": self.seconds,
            "size": self.size,
            "prompt": self.prompt,
            "created_at": self.created_at,
            "completed_at": self.completed_at,
            "expires_at": self.expires_at,
            "remixed_from_video_id": self.remixed_from_video_id,
            "error": self.error,
        }
