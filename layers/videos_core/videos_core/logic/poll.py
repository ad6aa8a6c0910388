"""Polling: hold the request on the record until the job ends, within API Gateway's 30 s limit.

The client's `maxWaitMs` counts from the job's creation, so polling again with the same value
ends, at the latest, in `504 video_generation_timeout` once that much time has passed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from videos_core.errors import VideoGenerationTimeout
from videos_core.logic.lookup import find_video
from videos_core.models.api import MAX_WAIT_MS, PollQuery, Video
from videos_core.models.record import VideoRecord
from videos_core.ports import VideoRepository
from videos_core.settings import Settings

RETRY_AFTER_SECONDS = 1


@dataclass(frozen=True)
class PollOutcome:
    video: Video
    finished: bool


def poll_video(
    owner: str,
    video_id: str,
    query: PollQuery,
    *,
    videos: VideoRepository,
    settings: Settings,
    time_left: float,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> PollOutcome:
    record = find_video(owner, video_id, videos)
    deadline = record.created_at + query.maxWaitMs / 1000
    # Held no longer than the invocation may still run: an answer cut off by the function's own time
    # limit would reach the client as a 5xx.
    hold_until = min(clock() + min(settings.poll_hold_seconds, time_left), deadline)
    while not record.terminal and clock() < hold_until:
        sleep(min(settings.poll_interval_seconds, max(0.0, hold_until - clock())))
        record = find_video(owner, video_id, videos)
    if record.terminal:
        return PollOutcome(record.to_video(), finished=True)
    if clock() >= deadline:
        raise VideoGenerationTimeout(_still_running(record, query, clock()), param="maxWaitMs")
    return PollOutcome(record.to_video(), finished=False)


def _still_running(record: VideoRecord, query: PollQuery, now: float) -> str:
    """What a poll whose wait ran out tells the client: the job is healthy, and how to keep waiting."""
    waited_ms = int(now - record.created_at) * 1000
    longer = (
        f"poll again with a maxWaitMs above {waited_ms} (it counts from the creation), or "
        if waited_ms < MAX_WAIT_MS
        else ""
    )
    return (
        f"Video '{record.video_id}' is still {record.status} ({record.progress}%) after maxWaitMs="
        f"{query.maxWaitMs} from its creation; nothing failed. To keep waiting, {longer}read it with "
        f"GET /api/videos/{record.video_id}."
    )
