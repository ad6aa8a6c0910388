"""The job workflow's steps, shared by the state machine's tasks and the webhook receiver: check the
upstream (writing progress when it changes), store the files and complete, or end the job as failed.

Every ending goes through `logic.ending`: one transaction, so whichever of the poller and the webhook
gets there first ends the job, once; a step that finds the job already ended publishes its event if
it still waits in the outbox.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

from videos_core.backoff import informed_wait_seconds
from videos_core.catalog import Catalog, Entry
from videos_core.content_credentials import ContentCredentials, Provenance
from videos_core.errors import UpstreamFileUnusable, UpstreamRateLimited, UpstreamRetryableError
from videos_core.logic.breaker import Breakers, Failure
from videos_core.logic.ending import Ender, end_job, failed, publish, publish_pending
from videos_core.logic.failover import (
    CONTENT_FAILURES,
    Mover,
    cancel_abandoned,
    fail_over,
    overdue,
    pending,
    submit,
)
from videos_core.logic.history import budget_spent, floor_wait_seconds
from videos_core.models.api import Variant, VideoError
from videos_core.models.record import AssetRecord, VideoRecord
from videos_core.observability import logger
from videos_core.ports import (
    AssetWriter,
    Attempts,
    ConditionFailedError,
    Upstream,
    UpstreamJob,
    UpstreamNotFoundError,
    VariantNotOfferedError,
    VideoRepository,
)
from videos_core.settings import Settings
from videos_core.stills import make_stills
from videos_core.upstream_files import checked

VARIANTS: dict[Variant, str] = {
    "video": "video.mp4",
    "thumbnail": "thumbnail.jpg",
    "spritesheet": "spritesheet.jpg",
}
CONTENT_TYPES: dict[Variant, str] = {
    "video": "video/mp4",
    "thumbnail": "image/jpeg",
    "spritesheet": "image/jpeg",
}
# How long a finaliser's claim lasts before it must renew it (it renews while it copies): one that
# died frees the job for the next within this time. Never past the finaliser's own time limit.
FINALISE_LEASE_SECONDS = 30
# A check's status while another finaliser stores the files of a job the upstream completed: the
# state machine's Choice waits and checks again (its Default), rather than start StoreAssets beside it.
FINALISING = "finalising"
# How many times a finaliser downloads the files when the upstream serves one that is not what it
# should be (HTML, an empty body, a cut MP4): once more, as a provider may answer badly for a moment,
# then the job fails saying what came; a fault that stays is not retried for the job's whole life.
UNUSABLE_FILE_ATTEMPTS = 2
LOST = VideoError(code="video_generation_failed", message="The upstream lost the job.")
# Upstream error codes with a code of the contract's own.
_ERROR_CODES = {"moderation_blocked": "invalid_video_prompt"}


@dataclass(frozen=True)
class Finisher:
    """What the workflow's steps need; `time_limit` is when this invocation's own time ends
    (time.monotonic()), which bounds every lease it takes."""

    settings: Settings
    # The catalog as deployed, read when a step needs a route (a forced end never does).
    catalog: Callable[[], Catalog]
    videos: VideoRepository
    upstream: Upstream
    assets: AssetWriter
    ender: Ender
    attempts: Attempts
    # Where a route's provider calls back (the API's domain a job was made on, the route, the job).
    callback_url: Callable[[str | None, Entry, str], str | None]
    time_limit: float = math.inf
    breakers: Breakers | None = None
    # What signs each stored file's C2PA manifest (None where the stack's ContentCredentials is off),
    # made when a step first stores files: only the finalisers are configured for it.
    credentials: Callable[[], ContentCredentials | None] = lambda: None

    @property
    def mover(self) -> Mover:
        return Mover(
            self.settings, self.catalog, self.upstream, self.attempts, self.callback_url, self.breakers
        )

    def lease_until(self, now: int) -> int:
        return now + int(max(1, min(FINALISE_LEASE_SECONDS, self.time_limit - time.monotonic())))


@dataclass(frozen=True)
class Check:
    """One look at the upstream: what the state machine's Choice routes on."""

    status: str  # an upstream status, or "finalised" once the record has ended (or is gone)
    progress: int
    wait_seconds: int
    timed_out: bool
    error: dict[str, str] | None
    history: int  # an upper bound on the execution's history events so far


@dataclass(frozen=True)
class Outcome:
    """Whether this step ended the job, and the record as it ended."""

    finalised: bool
    record: VideoRecord | None = None


def check_status(
    owner: str, video_id: str, attempt: int, history: int, retries: int, ports: Finisher, now: int
) -> Check:
    videos, settings = ports.videos, ports.settings
    spent = budget_spent(history, retries)
    record = videos.get(owner, video_id)
    if record is None or record.terminal:
        publish_pending(video_id, ports.ender, now)
        return Check("finalised", record.progress if record else 0, 0, False, None, spent.events)
    elapsed = now - record.created_at
    record, job = _look(record, ports, now)
    if job.status == "failed":
        error = failure_of(job)
        return Check("failed", job.progress, 0, False, error.model_dump(), spent.events)
    wait = max(
        1,
        math.ceil(
            max(
                informed_wait_seconds(attempt, settings.backoff_scale, job.progress, elapsed),
                floor_wait_seconds(settings.max_generation_seconds),
            )
        ),
    )
    if job.status == "completed":
        if record.being_finalised(now):
            # The webhook (or an earlier StoreAssets) is storing the files: the loop waits and looks again.
            return Check(FINALISING, job.progress, wait, False, None, spent.events)
        # StoreAssets next; if another claims the job first, the loop waits `wait` and looks again.
        return Check("completed", job.progress, wait, False, None, spent.storing().events)
    # Every other status — queued, in_progress, or one this service does not know — is still running.
    if (job.status, job.progress) != (record.status, record.progress):
        videos.update_progress(owner, video_id, job.status, job.progress)
    timed_out = elapsed >= settings.max_generation_seconds or spent.exhausted
    return Check(job.status, job.progress, wait, timed_out, None, spent.events)


def _look(record: VideoRecord, ports: Finisher, now: int) -> tuple[VideoRecord, UpstreamJob]:
    """The job's upstream state; a job its provider failed for a reason not the prompt's, or that ran
    past its route's deadline, is first moved to its next route where one takes it."""
    if pending(record):
        # A move to another route that a crash cut short: its provider is asked again, with the same key.
        record = submit(record, ports.mover, now) or record
    try:
        job = ports.upstream.via(record.route).retrieve(record.model, record.upstream_id)
    except UpstreamRateLimited as e:
        raise UpstreamRetryableError(e.message, upstream=e.upstream) from e
    except UpstreamNotFoundError:
        job = UpstreamJob(record.upstream_id, "failed", record.progress, LOST)
    if job.status == "failed":
        _count_failure(record, failure_of(job), "failed", ports, now)
        moved = _moved(record, failure_of(job), ports, now)
    elif job.status != "completed" and (late := overdue(record, ports.mover, now)) is not None:
        # Past its route's deadline: moved if another route takes it, else it goes on where it is.
        _count_failure(record, late, "timed_out", ports, now)
        moved = _moved(record, late, ports, now)
    else:
        moved = None
    return (record, job) if moved is None else (moved, UpstreamJob(moved.upstream_id, moved.status, 0))


def _count_failure(
    record: VideoRecord, error: VideoError, reason: Failure, ports: Finisher, now: int
) -> None:
    """Counts a failure that is the route's (not the prompt's) against its breaker, for a model with
    routes to choose from."""
    if ports.breakers is None or error.code in CONTENT_FAILURES:
        return
    catalog = ports.catalog()
    entry = catalog.entry(record.model, record.route)
    if entry is not None and len(catalog.routes(record.model)) > 1:
        ports.breakers.failed(entry, "closed", reason, now)


def _moved(record: VideoRecord, error: VideoError, ports: Finisher, now: int) -> VideoRecord | None:
    """The job moved to its next route (the attempts it left running asked to stop), or None when it
    ends with `error`: no route took it."""
    after = fail_over(record, error, ports.mover, now)
    if after is None or after.upstream_id == record.upstream_id:
        return None
    return cancel_abandoned(after, ports.mover)


def failure_of(job: UpstreamJob) -> VideoError:
    """A failed upstream job's error, in the contract's codes."""
    upstream_error = job.error or VideoError(code="video_generation_failed", message="The upstream failed.")
    return VideoError(
        code=_ERROR_CODES.get(upstream_error.code, "video_generation_failed"), message=upstream_error.message
    )


def asset_prefix(record: VideoRecord) -> str:
    """Where a video's files go: under its id alone, since every presigned URL shows the key (an owner
    is a tenant's name, and stays out of them)."""
    return f"videos/{record.video_id}/"


def asset_key(record: VideoRecord, variant: Variant) -> str:
    return asset_prefix(record) + VARIANTS[variant]


class _Claim:
    """The right to store one job's files and complete it, under this invocation's name: taken for
    FINALISE_LEASE_SECONDS at a time and renewed while the copy goes on, so a retried attempt never
    runs beside the one it replaces, and one that died frees the job within the lease."""

    def __init__(self, record: VideoRecord, ports: Finisher) -> None:
        self._record, self._ports = record, ports
        self.claimant = ports.ender.holder
        self._until = 0

    def take(self, now: int) -> int | None:
        """The claim's number among the job's claims (1: the first), or None when another holds it."""
        self._until = self._ports.lease_until(now)
        record = self._record
        return self._ports.videos.claim_finalisation(
            record.owner, record.video_id, self.claimant, now, self._until
        )

    def keep(self) -> None:
        now = int(time.time())
        if self._until - now > FINALISE_LEASE_SECONDS / 2:
            return
        self._until = self._ports.lease_until(now)
        record = self._record
        if not self._ports.videos.renew_finalisation(
            record.owner, record.video_id, self.claimant, self._until
        ):
            raise ConditionFailedError(f"the claim on {record.video_id} was lost")

    def release(self) -> None:
        record = self._record
        self._ports.videos.release_finalisation(record.owner, record.video_id, self.claimant)


def store_assets(
    owner: str, video_id: str, ports: Finisher, now: int, record: VideoRecord | None = None
) -> Outcome:
    """Copies every variant into S3, then completes the job: a completed job always has its files.
    A job whose upstream serves a file that is not what it should be ends failed instead, saying
    what came. `record` is the job's record when the caller has just read it."""
    record = record or ports.videos.get(owner, video_id)
    if record is None or record.terminal:
        publish_pending(video_id, ports.ender, now)
        return Outcome(finalised=False)
    claim = _Claim(record, ports)
    number = claim.take(now)
    if number is None:
        logger.info("%s is being finalised by another", video_id)
        return Outcome(finalised=False)
    stored: dict[Variant, AssetRecord] = {}
    try:
        if number > 1:
            # An attempt before this one may have died mid-copy, unable to abort its uploads.
            left = ports.assets.abort_uploads(asset_prefix(record))
            if left:
                logger.warning("aborted %d upload(s) a dead attempt left for %s", left, video_id)
        unusable = _copy_usable_files(record, ports, claim, stored)
        if unusable is None:
            expires_at = now + ports.settings.retention_seconds
            ended = record.model_copy(
                update={
                    "status": "completed",
                    "progress": 100,
                    "completed_at": now,
                    "expires_at": expires_at,
                    "assets": stored,
                    "ttl": expires_at,
                }
            )
        else:
            ended = failed(record, unusable, now, ports.settings.retention_seconds)
        pending = end_job(ended, ports.ender, now, claimant=claim.claimant)
        if pending is None:
            raise ConditionFailedError(f"{video_id} is no longer this finaliser's to complete")
    except ConditionFailedError:
        # Deleted while its files were being copied: take the copies back. (If the record is still
        # there, another finaliser took over this job's claim and writes the same keys: leave them.)
        if ports.videos.get(owner, video_id) is None:
            ports.assets.delete([asset.key for asset in stored.values()])
        return Outcome(finalised=False)
    except BaseException:
        # Let the next attempt (this one retried, or the other finaliser) start afresh at once.
        claim.release()
        raise
    publish(pending, ports.ender)
    return Outcome(True, ended)


def _copy_usable_files(
    record: VideoRecord, ports: Finisher, claim: _Claim, stored: dict[Variant, AssetRecord]
) -> VideoError | None:
    """Copies the files as `_copy_files` does, downloading them again when the upstream served one
    that is not what it should be; after UNUSABLE_FILE_ATTEMPTS, the error the job ends with (and
    nothing of it left in the bucket)."""
    for attempt in range(1, UNUSABLE_FILE_ATTEMPTS + 1):
        try:
            _copy_files(record, ports, claim, stored)
            return None
        except UpstreamFileUnusable as e:
            logger.warning("%s: %s (attempt %d of %d)", record.video_id, e, attempt, UNUSABLE_FILE_ATTEMPTS)
            unusable = VideoError(code="video_generation_failed", message=e.message)
    ports.assets.delete([asset.key for asset in stored.values()])
    stored.clear()
    return unusable


def _copy_files(
    record: VideoRecord, ports: Finisher, claim: _Claim, stored: dict[Variant, AssetRecord]
) -> None:
    """Streams each variant from the upstream into S3. The variants the upstream does not make (most
    providers give the video only) are made from the video, kept on local disk while it is copied:
    so those are asked for first, and the video last. A video the provider wrote into the bucket
    itself is copied there by S3."""
    source = ports.upstream.via(record.route).stored_video(record.model, record.upstream_id)
    credentials = ports.credentials()
    if credentials is not None:
        _copy_signed(record, source, credentials, ports, claim, stored)
        claim.keep()
        return
    if source is not None:
        _copy_within_bucket(record, source, ports, claim, stored)
        claim.keep()
        return
    missing: list[Variant] = []
    for variant in ("thumbnail", "spritesheet"):
        try:
            stored[variant] = _copy(record, variant, ports, claim)
        except VariantNotOfferedError:
            missing.append(variant)
    if not missing:
        stored["video"] = _copy(record, "video", ports, claim)
    else:
        with tempfile.NamedTemporaryFile(suffix=".mp4") as video:
            stored["video"] = _copy(record, "video", ports, claim, kept_in=video)
            video.flush()
            stills = make_stills(video.name)
        made = {"thumbnail": stills.thumbnail, "spritesheet": stills.spritesheet}
        for variant in missing:
            stored[variant] = _put(record, variant, iter([made[variant]]), ports, claim)
    claim.keep()


def _copy_signed(
    record: VideoRecord,
    source: str | None,
    credentials: ContentCredentials,
    ports: Finisher,
    claim: _Claim,
    stored: dict[Variant, AssetRecord],
) -> None:
    """Every file kept on local disk (the video as `_copy_files` keeps it for its stills), each signed
    there into a copy carrying its C2PA manifest, and that copy streamed into S3: no file is stored
    unsigned. A signature that fails raises, and the state machine retries the step as it retries a copy."""
    with tempfile.TemporaryDirectory() as scratch:
        files = _kept_files(record, source, ports, claim, Path(scratch))
        parent = _source_video(record, ports, claim, Path(scratch))
        provenance = _provenance(record)
        for variant, path in files.items():
            signed = path.with_name("signed-" + path.name)
            title = replace(provenance, title=VARIANTS[variant])
            credentials.sign_file(path, signed, CONTENT_TYPES[variant], title, parent)
            path.unlink()
            with signed.open("rb") as file:
                stored[variant] = _put(record, variant, _file_chunks(file), ports, claim)


def _kept_files(
    record: VideoRecord, source: str | None, ports: Finisher, claim: _Claim, scratch: Path
) -> dict[Variant, Path]:
    """The job's files in `scratch`: those the upstream offers, downloaded (or the video the provider
    wrote into the bucket, read there), and the stills it does not offer, made from the video."""
    files: dict[Variant, Path] = {variant: scratch / name for variant, name in VARIANTS.items()}
    missing: list[Variant] = []
    if source is not None:
        _write(checked("video", ports.assets.read(source)), files["video"], claim)
        missing = ["thumbnail", "spritesheet"]
    else:
        upstream = ports.upstream.via(record.route)
        for variant in ("thumbnail", "spritesheet", "video"):
            try:
                with upstream.open_content(record.model, record.upstream_id, variant) as content:
                    _write(checked(variant, content.chunks()), files[variant], claim)
            except VariantNotOfferedError:
                missing.append(variant)
    if missing:
        stills = make_stills(str(files["video"]))
        made = {"thumbnail": stills.thumbnail, "spritesheet": stills.spritesheet}
        for variant in missing:
            files[variant].write_bytes(made[variant])
    return files


def _source_video(record: VideoRecord, ports: Finisher, claim: _Claim, scratch: Path) -> Path | None:
    """The stored video a remix, edit or extension was made from, whose manifest is its parent; None when
    the job has no source, or its source's files are gone (expired or deleted: the job's video is signed
    without its parent)."""
    source_id = record.source_video_id
    if source_id is None:
        return None
    source = ports.videos.get(record.owner, source_id)
    stored = source.assets.get("video") if source is not None else None
    if stored is None:
        logger.warning("%s: its source %s is gone", record.video_id, source_id)
        return None
    path = scratch / "source.mp4"
    _write(ports.assets.read(stored.key), path, claim)
    return path


def _provenance(record: VideoRecord) -> Provenance:
    holder = record.holder
    provider = holder.provider if holder is not None else record.route or "unknown"
    return Provenance(record.video_id, provider, record.model, VARIANTS["video"], int(time.time()))


def _write(chunks: Iterable[bytes], path: Path, claim: _Claim) -> None:
    with path.open("wb") as file:
        for chunk in chunks:
            file.write(chunk)
            claim.keep()


def _file_chunks(file: IO[bytes], size: int = 1024 * 1024) -> Iterator[bytes]:
    while chunk := file.read(size):
        yield chunk


def _copy_within_bucket(
    record: VideoRecord, source: str, ports: Finisher, claim: _Claim, stored: dict[Variant, AssetRecord]
) -> None:
    """The video the provider wrote at `source` in the bucket: read once, to check it and make its
    stills (a file that is not what it should be is not copied), then copied by S3 itself."""
    with tempfile.NamedTemporaryFile(suffix=".mp4") as video:
        for chunk in checked("video", ports.assets.read(source)):
            video.write(chunk)
        video.flush()
        stills = make_stills(video.name)
    made: dict[Variant, bytes] = {"thumbnail": stills.thumbnail, "spritesheet": stills.spritesheet}
    for variant, still in made.items():
        stored[variant] = _put(record, variant, iter([still]), ports, claim)
    key = asset_key(record, "video")
    claim.keep()
    size = ports.assets.copy_within(source, key, CONTENT_TYPES["video"])
    stored["video"] = AssetRecord(key=key, size=size, content_type=CONTENT_TYPES["video"])


def _copy(
    record: VideoRecord, variant: Variant, ports: Finisher, claim: _Claim, kept_in: IO[bytes] | None = None
) -> AssetRecord:
    """One variant streamed from the upstream into S3 (and into `kept_in`, when given)."""
    with ports.upstream.via(record.route).open_content(record.model, record.upstream_id, variant) as content:
        chunks = checked(variant, content.chunks())
        return _put(record, variant, chunks if kept_in is None else _kept(chunks, kept_in), ports, claim)


def _put(
    record: VideoRecord, variant: Variant, chunks: Iterator[bytes], ports: Finisher, claim: _Claim
) -> AssetRecord:
    key = asset_key(record, variant)
    size = ports.assets.put_stream(key, chunks, CONTENT_TYPES[variant], claim.keep)
    return AssetRecord(key=key, size=size, content_type=CONTENT_TYPES[variant])


def _kept(chunks: Iterator[bytes], into: IO[bytes]) -> Iterator[bytes]:
    for chunk in chunks:
        into.write(chunk)
        yield chunk


def end_failed(
    owner: str, video_id: str, error: VideoError, ports: Finisher, now: int, record: VideoRecord | None = None
) -> Outcome:
    """Ends the job as failed with `error`; `record` as for store_assets."""
    record = record or ports.videos.get(owner, video_id)
    pending = None
    if record is not None and not record.terminal:
        record = failed(record, error, now, ports.settings.retention_seconds)
        pending = end_job(record, ports.ender, now)
    if pending is None:
        publish_pending(video_id, ports.ender, now)
        return Outcome(finalised=False)
    publish(pending, ports.ender)
    return Outcome(True, record)
