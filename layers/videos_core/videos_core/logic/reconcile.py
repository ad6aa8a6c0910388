"""The reconciler: what no step of a job's own is left to do, found and done on a schedule.

- A record still running whose execution is no longer running (stopped, failed, timed out, never
  started, or gone) ends failed, through the one atomic end.
- A slot no running job holds (its job has no record, or has ended) is freed.
- An ended job's event that waits in the outbox with no live holder is published.

Young jobs (younger than `after_seconds`, longer than any create takes) are left alone: a create may
still be between taking its slot and starting its execution.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from videos_core.errors import ApiError
from videos_core.ids import created_at
from videos_core.logic.ending import Ender, end_job, failed, publish, publish_pending
from videos_core.models.api import VideoError
from videos_core.observability import logger
from videos_core.ports import Outbox, Quotas, VideoRepository, Workflow

ORPHANED = VideoError(
    code="video_generation_failed",
    message="The job's workflow ended before the job did; it was ended for it.",
)


@dataclass
class Reconciled:
    ended: int = 0
    freed: int = 0
    published: int = 0
    # Left for the next pass: jobs it could not reconcile, events the bus refused again.
    failures: int = 0
    still_pending: int = 0


@dataclass(frozen=True)
class Reconciler:
    quotas: Quotas
    videos: VideoRepository
    workflow: Workflow
    outbox: Outbox
    ender: Ender
    retention_seconds: int
    after_seconds: int


def reconcile(ports: Reconciler, now: int) -> Reconciled:
    """One pass; an item that fails is counted and left for the next pass."""
    done = Reconciled()
    for owner, video_id in list(ports.quotas.slots()):
        try:
            _slot(owner, video_id, ports, now, done)
        except ApiError as e:
            logger.warning("could not reconcile %s: %s", video_id, e.message)
            done.failures += 1
    for video_id in ports.outbox.lapsed(now):
        try:
            publish_pending(video_id, ports.ender, now)
            done.published += 1
        except ApiError as e:
            logger.warning("the event of %s still waits: %s", video_id, e.message)
            done.still_pending += 1
    return done


def _slot(owner: str, video_id: str, ports: Reconciler, now: int, done: Reconciled) -> None:
    if now - created_at(video_id) < ports.after_seconds:
        return
    record = ports.videos.get(owner, video_id)
    if record is None or record.terminal:
        ports.quotas.free(owner, video_id)
        done.freed += 1
        return
    if ports.workflow.status(video_id) == "RUNNING":
        return
    pending = end_job(failed(record, ORPHANED, now, ports.retention_seconds), ports.ender, now)
    if pending is not None:
        done.ended += 1
        with contextlib.suppress(ApiError):  # it waits in the outbox for the next pass
            publish(pending, ports.ender)
