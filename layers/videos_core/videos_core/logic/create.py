"""Creating, remixing, editing and extending videos: quota → upstream job → record (queued) →
workflow execution.

Whatever fails along the way, nothing is left half-made: the quota is given back, the upstream job
is taken back, and a record that exists ends failed (through the one atomic end). The upstream's
create is sent once: it is not repeatable (a repeat may buy a second video), so it carries an
idempotency key — the client's own Idempotency-Key, scoped to its owner, or the new video's id — and
an upstream failure is answered 503 for the client to retry, with the same key.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from videos_core import deadline
from videos_core.capabilities import Capabilities
from videos_core.catalog import Catalog, Entry
from videos_core.errors import (
    ApiError,
    InvalidRequest,
    ServiceUnavailable,
    UpstreamRetryableError,
    VideoExpired,
    VideoModelNotAvailable,
    VideoNotReady,
)
from videos_core.ids import new_video_id
from videos_core.images import data_url_image
from videos_core.logic.breaker import Breakers, Verdict
from videos_core.logic.characters import upstream_ids
from videos_core.logic.ending import Ender, persist
from videos_core.logic.failover import attempt_on, count_refusal, refused_attempt, refused_by_provider
from videos_core.logic.lookup import find_video
from videos_core.models.api import (
    DEFAULT_MODEL,
    MAX_UPLOAD_BYTES,
    CreateVideoRequest,
    EditVideoRequest,
    ExtendVideoRequest,
    RemixVideoRequest,
    VideoReference,
)
from videos_core.models.record import AttemptRecord, VideoRecord
from videos_core.mp4 import mp4_facts
from videos_core.observability import log_upstream_interaction, logger
from videos_core.outcomes import record_accepted
from videos_core.ports import (
    CharacterStore,
    Quotas,
    Reference,
    UploadStore,
    Upstream,
    UpstreamCreate,
    UpstreamDerive,
    UpstreamJob,
    UpstreamNotFoundError,
    VideoRepository,
    Workflow,
)
from videos_core.pricing import estimate_cost
from videos_core.settings import Settings


@dataclass(frozen=True)
class Launcher:
    """What starting a job needs."""

    settings: Settings
    catalog: Catalog
    upstream: Upstream
    videos: VideoRepository
    workflow: Workflow
    quotas: Quotas
    uploads: UploadStore
    characters: CharacterStore
    ender: Ender
    # The API's domain the request came to: where a provider that calls back reaches this service.
    domain: str | None = None
    # Where a route's provider calls back when a job ends (None: it does not, or cannot reach us).
    callback_url: Callable[[str | None, Entry, str], str | None] = lambda _domain, _entry, _video_id: None
    # The routes' breakers: a job that may go to more than one route skips an open one.
    breakers: Breakers | None = None


@dataclass(frozen=True)
class _Job:
    owner: str
    model: str
    # The routes that can take the job, in the order they are tried.
    routes: tuple[Entry, ...]
    seconds: str
    size: str
    prompt: str
    remixed_from: str | None
    endpoint: str
    request: dict[str, object]
    # The client's Idempotency-Key, if it sent one.
    client_key: str | None
    # What the upstream makes, where it is not the whole video (an extension's new segment).
    billed_seconds: int | None = None
    # Whether another route may take the job over once a provider accepted it (logic.failover).
    portable: bool = False
    # The completed video an edit or an extension starts from.
    derived_from: str | None = None


def upstream_key(owner: str, client_key: str | None, video_id: str) -> str:
    """The idempotency key the upstream's create carries: a client's retry with its own key (after a
    timeout, say) maps to the same upstream job; without one, the job's own id."""
    if client_key is None:
        return video_id
    return "vapi-" + hashlib.sha256(f"{owner}\n{client_key}".encode()).hexdigest()[:40]


def create_video(
    owner: str,
    request: CreateVideoRequest,
    reference: Reference | None,
    ports: Launcher,
    now: int,
    client_key: str | None = None,
) -> VideoRecord:
    capabilities = capabilities_of(request.model, ports.catalog)
    seconds = request.seconds or capabilities.seconds[0]
    size = request.size or capabilities.sizes[0]
    has_reference = reference is not None or request.input_reference is not None
    if request.characters:
        # A character is made on the model's first route, and only that route knows it.
        capabilities.allows(request.model, "characters", "characters")
        capabilities.check(request.model, seconds, size, request.prompt, has_reference)
        routes: tuple[Entry, ...] = (ports.catalog.route(request.model),)
    else:
        routes = routes_taking(request.model, ports.catalog, seconds, size, request.prompt, has_reference)
    given = request.input_reference
    if given is not None and given.file_id is not None:
        reference = ports.uploads.reference(owner, given.file_id)
    elif given is not None and given.image_url is not None:
        reference = data_url_image(given.image_url, MAX_UPLOAD_BYTES)
    characters = upstream_ids(owner, request.characters, ports.characters)
    job = _Job(
        owner,
        request.model,
        routes,
        seconds,
        size,
        request.prompt,
        None,
        "/v1/videos",
        request.model_dump(exclude={"input_reference"}) | {"input_reference": reference is not None},
        client_key,
        portable=not has_reference and not request.characters,
    )

    def create_upstream(key: str, video_id: str, entry: Entry) -> UpstreamJob:
        create = UpstreamCreate(
            request.prompt,
            request.model,
            seconds,
            size,
            reference,
            characters=characters,
            idempotency_key=key,
            callback_url=ports.callback_url(ports.domain, entry, video_id),
        )
        return ports.upstream.via(entry.route).create(create)

    return _start(job, create_upstream, ports, now)


def capabilities_of(model: str, catalog: Catalog) -> Capabilities:
    """The model's capabilities; a model not in the catalog is a 404."""
    entry = catalog.entry(model)
    if entry is None:
        raise VideoModelNotAvailable(
            f"Model '{model}' is not available; use one of: {', '.join(catalog.models)} "
            "(GET /v1/videos/models lists them).",
            param="model",
        )
    return entry.capabilities


def routes_taking(
    model: str, catalog: Catalog, seconds: str, size: str, prompt: str, reference: bool
) -> tuple[Entry, ...]:
    """The model's routes that can make this video, in order; when none can, the first route's
    refusal (a 400 before any call)."""
    able = []
    refusal: ApiError | None = None
    for entry in catalog.routes(model):
        try:
            entry.capabilities.check(model, seconds, size, prompt, reference)
        except ApiError as e:
            refusal = refusal or e
            continue
        able.append(entry)
    if not able:
        assert refusal is not None
        raise refusal
    return tuple(able)


def route_of(record: VideoRecord, catalog: Catalog) -> Entry:
    """The route that has a job (a remix, edit or extension goes to the route that made its source)."""
    entry = catalog.entry(record.model, record.route)
    if entry is None:
        raise VideoExpired(f"Video '{record.video_id}' was made on a route that is no longer deployed.")
    return entry


def remix_video(
    owner: str,
    source_id: str,
    request: RemixVideoRequest,
    ports: Launcher,
    now: int,
    client_key: str | None = None,
) -> VideoRecord:
    source = _completed_source(owner, source_id, ports, now, "remixed")
    route = route_of(source, ports.catalog)
    route.capabilities.allows(source.model, "remix")
    job = _Job(
        owner,
        source.model,
        (route,),
        source.seconds,
        source.size,
        request.prompt,
        source.video_id,
        f"/v1/videos/{source.upstream_id}/remix",
        request.model_dump(),
        client_key,
    )

    def remix_upstream(key: str, _: str, entry: Entry) -> UpstreamJob:
        try:
            return ports.upstream.via(entry.route).remix(
                source.model, source.upstream_id, request.prompt, key
            )
        except UpstreamNotFoundError as e:
            raise VideoExpired(f"The upstream no longer has video '{source_id}' to remix.") from e

    return _start(job, remix_upstream, ports, now)


@dataclass(frozen=True)
class _Base:
    """What an edit or an extension starts from: a completed video of the caller's, or an upload."""

    model: str
    route: Entry
    seconds: int
    size: str
    upstream: str | Reference  # the upstream's id of the video, or the uploaded MP4
    name: str
    video_id: str | None  # the completed video's, None for an upload


def edit_video(
    owner: str,
    request: EditVideoRequest,
    upload: Reference | None,
    ports: Launcher,
    now: int,
    client_key: str | None = None,
) -> VideoRecord:
    """A video re-made with a new prompt: its model, size and length, priced as a new one."""
    base = _base_of(owner, request.video, upload, ports, now, "edited")
    job = _Job(
        owner,
        base.model,
        (base.route,),
        str(base.seconds),
        base.size,
        request.prompt,
        None,
        "/v1/videos/edits",
        request.model_dump() | {"video": base.name},
        client_key,
        derived_from=base.video_id,
    )
    return _start(job, _derive(base, "edit", request.prompt, None, ports), ports, now)


def extend_video(
    owner: str,
    request: ExtendVideoRequest,
    upload: Reference | None,
    ports: Launcher,
    now: int,
    client_key: str | None = None,
) -> VideoRecord:
    """A video carried on by a new segment: its `seconds` is the stitched total, its price the new
    segment's."""
    base = _base_of(owner, request.video, upload, ports, now, "extended")
    job = _Job(
        owner,
        base.model,
        (base.route,),
        str(base.seconds + int(request.seconds)),
        base.size,
        request.prompt,
        None,
        "/v1/videos/extensions",
        request.model_dump() | {"video": base.name},
        client_key,
        billed_seconds=int(request.seconds),
        derived_from=base.video_id,
    )
    return _start(job, _derive(base, "extension", request.prompt, request.seconds, ports), ports, now)


def _base_of(
    owner: str,
    video: VideoReference | None,
    upload: Reference | None,
    ports: Launcher,
    now: int,
    done_to: str,
) -> _Base:
    if (video is None) == (upload is None):
        raise InvalidRequest(
            'Name the video ({"id": …}) or upload it as the form\'s video file, one of the two.',
            param="video",
        )
    if video is not None and video.id.startswith("file_"):  # a video uploaded with POST /v1/uploads
        upload = ports.uploads.video(owner, video.id)
    elif video is not None:
        source = _completed_source(owner, video.id, ports, now, done_to)
        route = route_of(source, ports.catalog)
        route.capabilities.allows(source.model, "edits")
        return _Base(
            source.model,
            route,
            int(source.seconds),
            source.size,
            source.upstream_id,
            source.video_id,
            source.video_id,
        )
    assert upload is not None
    # An uploaded video is edited or extended as OpenAI's default model does it, on its first route.
    capabilities_of(DEFAULT_MODEL, ports.catalog).allows(DEFAULT_MODEL, "edits")
    facts = mp4_facts(upload.content)
    size = "1280x720" if facts.width >= facts.height else "720x1280"
    first = ports.catalog.route(DEFAULT_MODEL)
    return _Base(DEFAULT_MODEL, first, max(1, round(facts.seconds)), size, upload, upload.filename, None)


def _completed_source(owner: str, video_id: str, ports: Launcher, now: int, done_to: str) -> VideoRecord:
    """The caller's completed video a new one starts from (another owner's is not found)."""
    source = find_video(owner, video_id, ports.videos)
    if source.status != "completed":
        raise VideoNotReady(f"Video '{video_id}' is {source.status}; only completed videos can be {done_to}.")
    if source.expires_at is not None and now >= source.expires_at:
        raise VideoExpired(f"Video '{video_id}' has expired and can no longer be {done_to}.")
    return source


def _derive(
    base: _Base, kind: Literal["edit", "extension"], prompt: str, seconds: str | None, ports: Launcher
) -> Callable[[str, str, Entry], UpstreamJob]:
    def derive_upstream(key: str, _: str, entry: Entry) -> UpstreamJob:
        request = UpstreamDerive(kind, base.model, base.upstream, prompt, seconds, key)
        try:
            return ports.upstream.via(entry.route).derive(request)
        except UpstreamNotFoundError as e:
            raise VideoExpired(f"The upstream no longer has video '{base.name}'.") from e

    return derive_upstream


def _start(
    job: _Job, call_upstream: Callable[[str, str, Entry], UpstreamJob], ports: Launcher, now: int
) -> VideoRecord:
    """Starts the job on the first of its routes that takes it: `call_upstream(idempotency key, video
    id, route)` asks that route's provider. A refusal that is the provider's (a rate limit, a failure
    of its own, a timeout, a bad key) sends the same request to the next route, the price of each
    taken from the daily budget before it is asked and given back when refused; the request's own
    refusal (a 400, its content) is answered at once."""
    seconds = job.billed_seconds or int(job.seconds)
    video_id = new_video_id()
    key = upstream_key(job.owner, job.client_key, video_id)
    # A model's one route has no breaker to consult: no other route could be asked instead.
    breakers = ports.breakers if job.routes[1:] else None
    plan = _admitted(job.routes[: ports.settings.max_attempts_per_job], breakers, now)
    attempts: list[AttemptRecord] = []
    following: tuple[Entry, Verdict] | None = next(plan)
    while following is not None:
        entry, verdict = following
        cost = estimate_cost(entry.prices, job.size, seconds)
        ports.quotas.take(job.owner, video_id, cost, now)
        started = time.perf_counter()
        try:
            upstream_job = call_upstream(key, video_id, entry)
        except BaseException as e:
            _give_back(job.owner, video_id, cost, now, ports)
            count_refusal(breakers, entry, verdict, e, now)
            following = next(plan, None) if refused_by_provider(e) and deadline.seconds_left() > 1 else None
            if following is not None:
                logger.warning("route %s of %s refused %s: %s", entry.route, job.model, video_id, e)
                attempts.append(refused_attempt(entry, cost, e, now))
                continue
            answer = _answer(e)
            if answer is e:
                raise
            raise answer from e
        ended = time.perf_counter()
        record_accepted(entry, ended - started)
        if breakers is not None:
            breakers.accepted(entry, verdict, now)
        attempts.append(attempt_on(entry, upstream_job.id, cost, now))
        record = _new_record(job, video_id, upstream_job, cost, now, attempts, ports.domain)
        log_upstream_interaction(
            endpoint=job.endpoint,
            request=job.request,
            response={
                "id": upstream_job.id,
                "status": upstream_job.status,
                "progress": upstream_job.progress,
            },
            started=started,
            ended=ended,
            video_id=record.video_id,
            cost_estimate=cost,
            model=job.model,
            duration_seconds=seconds,
        )
        return _launch(record, ports, now)
    raise AssertionError("a job has at least one route")


def _admitted(
    routes: tuple[Entry, ...], breakers: Breakers | None, now: int
) -> Iterator[tuple[Entry, Verdict]]:
    """The routes a job is asked of, in order, each when it comes to be asked (so a probe is claimed
    only for a route that will be asked): those whose breakers admit it; when none does, the first."""
    if breakers is None or len(routes) < 2:
        yield from ((entry, "closed") for entry in routes)
        return
    admitted = False
    for entry in routes:
        verdict = breakers.admit(entry, now)
        if verdict != "open":
            admitted = True
            yield entry, verdict
    if not admitted:
        yield routes[0], "open"


def _answer(error: BaseException) -> BaseException:
    """What the client is answered when no route took the job."""
    if isinstance(error, UpstreamRetryableError):
        return ServiceUnavailable(
            f"{error.message} Nothing was started here; retry (with the same Idempotency-Key).",
            retry_after=2,
            upstream=error.upstream,
        )
    if isinstance(error, UpstreamNotFoundError):
        return ServiceUnavailable("The upstream lost the job being started; retry.", retry_after=2)
    return error


def _give_back(owner: str, video_id: str, cost: Decimal, now: int, ports: Launcher) -> None:
    try:
        persist(lambda: ports.quotas.give_back(owner, video_id, cost, now))
    except ApiError:
        # The reconciler frees a slot whose job has no record (its spend stays counted).
        logger.exception("could not give back the quota taken for %s", video_id)


def _new_record(
    job: _Job,
    video_id: str,
    upstream_job: UpstreamJob,
    cost: Decimal,
    now: int,
    attempts: list[AttemptRecord],
    domain: str | None,
) -> VideoRecord:
    return VideoRecord.model_validate(
        {
            "owner": job.owner,
            "video_id": video_id,
            "upstream_id": upstream_job.id,
            "status": "queued",
            "progress": 0,
            "model": job.model,
            "seconds": job.seconds,
            "size": job.size,
            "prompt": job.prompt,
            "created_at": now,
            "remixed_from_video_id": job.remixed_from,
            "derived_from_video_id": job.derived_from,
            "cost_estimate": cost,
            "route": attempts[-1].route,
            "attempts": attempts,
            "api_domain": domain,
            "portable": job.portable,
        }
    )


def _launch(record: VideoRecord, ports: Launcher, now: int) -> VideoRecord:
    """Stores the record, then starts its execution; no failure leaves a job without an owner of its fate."""
    try:
        ports.videos.put_new(record)
    except BaseException:
        # No record, so no one would ever collect the upstream job: take it back.
        _give_back(record.owner, record.video_id, record.cost_estimate, now, ports)
        _delete_upstream(record, ports)
        raise
    try:
        ports.workflow.start(record)
    except Exception as e:
        logger.exception("could not start the workflow of %s", record.video_id)
        # Taken back whole: the client is answered an error, so no job of theirs may stay behind. (If
        # even this fails, the reconciler ends the record: its execution does not exist.)
        with contextlib.suppress(ApiError):
            persist(lambda: ports.ender.ends.withdraw(record))
        _delete_upstream(record, ports)
        raise ServiceUnavailable(
            "The job could not be started; nothing was kept. Retry.", retry_after=2
        ) from e
    return record


def _delete_upstream(record: VideoRecord, ports: Launcher) -> None:
    try:
        ports.upstream.via(record.route).delete(record.model, record.upstream_id)
    except Exception:
        logger.warning("could not delete upstream job %s of %s", record.upstream_id, record.video_id)
