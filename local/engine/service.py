"""The engine's jobs: created, walked to a terminal state off the request path, listed and deleted."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import av

from local.engine.callbacks import CallbackSender
from local.engine.characters import Characters
from local.engine.errors import EngineError, invalid, not_found
from local.engine.jobs import MODELS, Job, Scenario, new_video_id, scenarios_in
from local.engine.params import BaseParams, CreateParams, ListParams
from local.engine.render import SPRITESHEET_FILE, THUMBNAIL_FILE, VIDEO_FILE, RenderSpec
from local.engine.render_pool import RenderPool
from local.engine.stored_files import keep
from local.engine.webhooks import WebhookSender

log = logging.getLogger("videos_api.engine")
# A dialect's signature of a callback body: the headers that carry it.
Signer = Callable[[bytes], dict[str, str]]

RATE_LIMIT_RETRY_AFTER = 2
VARIANT_FILES = {
    "video": (VIDEO_FILE, "video/mp4"),
    "thumbnail": (THUMBNAIL_FILE, "image/jpeg"),
    "spritesheet": (SPRITESHEET_FILE, "image/jpeg"),
}


@dataclass(frozen=True)
class Base:
    """The video an edit or an extension starts from: what it gives the new one, and its MP4."""

    model: str
    size: str
    seconds: int
    path: str
    digest: str

    def spec(self, prompt: str, seconds: int, mode: Literal["edit", "extension"]) -> RenderSpec:
        width, height = (int(n) for n in self.size.split("x"))
        return RenderSpec(
            prompt,
            width,
            height,
            seconds,
            mode=mode,
            base_path=self.path,
            base_digest=self.digest,
            base_seconds=self.seconds,
        )


@dataclass(frozen=True)
class EngineConfig:
    data_dir: Path
    latency: float = 6.0
    api_key: str | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    render_workers: int = 2
    # Where renders are kept, by what determines them; engines may share one (renders are atomic).
    render_cache: Path | None = None
    # Where the Bedrock dialect writes its outputs: the local AWS endpoint (None: it writes none).
    s3_endpoint: str | None = None

    @property
    def renders_dir(self) -> Path:
        return self.render_cache or self.data_dir / "renders"


class Engine:
    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        # Where the Bedrock dialect writes its outputs: the config's, or a test stack's (`PUT /_s3`).
        self.s3_endpoint = config.s3_endpoint
        self.jobs: dict[str, Job] = {}
        self.characters = Characters(config.data_dir)
        self._seq = itertools.count()
        self.renderer = RenderPool(config.renders_dir, config.render_workers)
        self.webhooks = (
            WebhookSender(config.webhook_url, config.webhook_secret)
            if config.webhook_url and config.webhook_secret
            else None
        )
        self._background: set[asyncio.Task[None]] = set()
        # A job's callback (fal's and OpenRouter's dialects): its URL, its body once the job ends, and
        # how its dialect signs it.
        self.callbacks: dict[str, tuple[str, Callable[[Job], dict[str, Any]], Signer | None]] = {}
        self.callback_sender = CallbackSender()

    # Requests

    def create(self, params: CreateParams) -> Job:
        scenarios = scenarios_in(params.prompt, params.model)
        if Scenario.RATE_LIMIT in scenarios:
            raise EngineError(
                429,
                "Rate limit reached for video generation. Please try again later.",
                code="rate_limit_exceeded",
                error_type="requests",
                retry_after=RATE_LIMIT_RETRY_AFTER,
            )
        width, height = (int(n) for n in params.size.split("x"))
        reference_path, reference_digest = self._store_reference(params.reference)
        characters = tuple(self.characters.get(c) for c in params.characters)
        spec = RenderSpec(
            params.prompt,
            width,
            height,
            int(params.seconds),
            reference_path=reference_path,
            reference_digest=reference_digest,
            characters=tuple((c.path, c.digest) for c in characters),
        )
        return self._start(params.prompt, params.model, params.seconds, params.size, spec, scenarios, None)

    def remix(self, source_id: str, prompt: str) -> Job:
        source = self.get(source_id)
        if source.status != "completed":
            raise EngineError(
                409,
                f"Video '{source_id}' is not completed; only completed videos can be remixed.",
                code="video_not_ready",
                param="video_id",
            )
        spec = RenderSpec(
            prompt, source.spec.width, source.spec.height, source.spec.seconds, source=source.spec
        )
        return self._start(
            prompt,
            source.model,
            source.seconds,
            source.size,
            spec,
            scenarios_in(prompt, source.model),
            source.id,
        )

    def edit(self, params: BaseParams) -> Job:
        """A new video: the base's frames with the prompt laid over them (its size and length)."""
        base = self._base(params, "edited")
        spec = base.spec(params.prompt, base.seconds, "edit")
        seconds = str(base.seconds)
        return self._start(
            params.prompt, base.model, seconds, base.size, spec, scenarios_in(params.prompt, base.model), None
        )

    def extend(self, params: BaseParams) -> Job:
        """A new video: the base's frames, then a segment of `params.seconds` that carries them on;
        its `seconds` is the stitched total."""
        assert params.seconds is not None
        base = self._base(params, "extended")
        spec = base.spec(params.prompt, int(params.seconds), "extension")
        seconds = str(spec.total_seconds)
        return self._start(
            params.prompt, base.model, seconds, base.size, spec, scenarios_in(params.prompt, base.model), None
        )

    def _base(self, params: BaseParams, done_to: str) -> Base:
        if params.video_id is None:
            assert params.upload is not None
            return self._uploaded_base(params.upload)
        source = self.get(params.video_id)
        if source.status != "completed" or source.assets is None:
            raise EngineError(
                409,
                f"Video '{params.video_id}' is not completed; only completed videos can be {done_to}.",
                code="video_not_ready",
                param="video",
            )
        path = str(source.assets.directory / VIDEO_FILE)
        return Base(source.model, source.size, source.spec.total_seconds, path, source.spec.key())

    def _uploaded_base(self, upload: bytes) -> Base:
        """An uploaded MP4: kept by its digest, sized to the spec's size of its orientation."""
        path, digest = keep(self.config.data_dir / "bases", upload, ".mp4")
        try:
            with av.open(str(path)) as container:
                stream = container.streams.video[0]
                landscape = stream.width >= stream.height
                duration = (container.duration or 0) / av.time_base
        except (av.FFmpegError, IndexError) as e:
            path.unlink(missing_ok=True)
            raise invalid("video", "video is not a readable MP4 with a video track.") from e
        size = "1280x720" if landscape else "720x1280"
        return Base(MODELS[0], size, max(1, round(duration)), str(path), digest)

    def get(self, video_id: str) -> Job:
        job = self.jobs.get(video_id)
        if job is None:
            raise not_found(video_id)
        return job

    def read_status(self, video_id: str) -> Job:
        """A status request; a `[flaky]` job answers every other one (the first, third, …) with 500."""
        job = self.get(video_id)
        job.status_reads += 1
        if Scenario.FLAKY in job.scenarios and job.status_reads % 2 == 1:
            raise EngineError(
                500,
                "The server had an error while processing your request.",
                error_type="server_error",
                code="server_error",
            )
        return job

    def list(self, params: ListParams) -> tuple[list[Job], bool]:
        ordered = sorted(self.jobs.values(), key=lambda j: j.seq, reverse=params.order == "desc")
        start = 0
        if params.after is not None:
            ids = [job.id for job in ordered]
            if params.after not in ids:
                raise invalid("after", f"No video with id '{params.after}' to list after.")
            start = ids.index(params.after) + 1
        page = ordered[start : start + params.limit]
        return page, start + params.limit < len(ordered)

    def delete(self, video_id: str) -> None:
        job = self.jobs.pop(self.get(video_id).id)
        if job.task is not None:
            job.task.cancel()

    def asset(self, video_id: str, variant: str) -> tuple[Path, str]:
        job = self.get(video_id)
        if job.status != "completed" or job.assets is None:
            raise EngineError(
                409,
                f"Video '{video_id}' is not completed; its content is not available.",
                code="video_not_ready",
                param="video_id",
            )
        file_name, media_type = VARIANT_FILES[variant]
        return job.assets.directory / file_name, media_type

    # Lifecycle

    def _store_reference(self, reference: bytes | None) -> tuple[str | None, str | None]:
        if reference is None:
            return None, None
        path, digest = keep(self.config.data_dir / "references", reference)
        return str(path), digest

    def _start(
        self,
        prompt: str,
        model: str,
        seconds: str,
        size: str,
        spec: RenderSpec,
        scenarios: frozenset[Scenario],
        remixed_from: str | None,
    ) -> Job:
        job = Job(
            id=new_video_id(),
            seq=next(self._seq),
            model=model,
            seconds=seconds,
            size=size,
            prompt=prompt,
            spec=spec,
            latency=self.config.latency,
            scenarios=scenarios,
            remixed_from_video_id=remixed_from,
        )
        self.jobs[job.id] = job
        if Scenario.STALL not in scenarios:
            job.task = asyncio.get_running_loop().create_task(self._run(job))
        return job

    async def _run(self, job: Job) -> None:
        try:
            assets = None
            if not scenarios_fail(job.scenarios):
                assets = await self.renderer.render(job.spec)
            await asyncio.sleep(max(0.0, job.started + job.latency - time.monotonic()))
            if Scenario.MODERATION in job.scenarios:
                job.fail("moderation_blocked", "Your request was blocked by our moderation system.")
            elif Scenario.FAIL in job.scenarios or assets is None:
                job.fail("video_generation_failed", "Video generation failed.")
            else:
                job.complete(assets)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("render of %s failed", job.id)
            job.fail("video_generation_failed", "Video generation failed while rendering.")
        self._notify(job)

    def call_back(
        self, job: Job, url: str, body: Callable[[Job], dict[str, Any]], sign: Signer | None = None
    ) -> None:
        """Calls `url` with `body(job)` when the job ends, signed by `sign`; no OpenAI webhook is sent."""
        self.callbacks[job.id] = (url, body, sign)

    def announce_end(self, job: Job) -> None:
        """Announces the end of a job a dialect ended itself (a cancel), as its run would have."""
        self._notify(job)

    def _notify(self, job: Job) -> None:
        if job.id not in self.jobs:
            return
        callback = self.callbacks.pop(job.id, None)
        if callback is not None:
            url, body, sign = callback
            self.in_background(self.callback_sender.send(url, body(job), sign))
        elif self.webhooks is not None and job.openai_dialect:
            event = "video.completed" if job.status == "completed" else "video.failed"
            self.in_background(self.webhooks.send(event, job.id))

    def in_background(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """`work` run off the request path; cancelled if still running when the engine closes."""
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    async def aclose(self) -> None:
        tasks = [job.task for job in self.jobs.values() if job.task is not None] + list(self._background)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.renderer.close()
        await self.callback_sender.aclose()
        if self.webhooks is not None:
            await self.webhooks.aclose()


def scenarios_fail(scenarios: frozenset[Scenario]) -> bool:
    return bool(scenarios & {Scenario.FAIL, Scenario.MODERATION})
