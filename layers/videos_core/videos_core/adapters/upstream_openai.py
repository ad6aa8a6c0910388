"""The upstream: any OpenAI-compatible Videos API, called through the openai SDK.

Only the functions that call the upstream import this module (the SDK is the heaviest import in the
layer). Upstream errors become the contract's errors here. A repeatable call (a read, a delete) is
retried on 5xx answers, timeouts and failed connections; a create or a remix, which a repeat could
make twice, only when the request never left (the connection was not made), and it carries an
Idempotency-Key for the upstreams that honour one.
"""

from __future__ import annotations

import copy
import math
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import httpx2
import openai
from openai import OpenAI, omit
from openai.types import Video as OpenAIVideo

from videos_core.errors import (
    ApiError,
    InvalidRequest,
    InvalidVideoDuration,
    InvalidVideoPrompt,
    InvalidVideoSize,
    UpstreamErrorInfo,
    UpstreamRetryableError,
    VideoGenerationFailed,
    VideoModelNotAvailable,
    VideoQuotaExceeded,
)
from videos_core.models.api import VideoError
from videos_core.ports import Reference, UpstreamCreate, UpstreamDerive, UpstreamJob, UpstreamNotFoundError
from videos_core.settings import Settings

T = TypeVar("T")
RETRY_BASE_SECONDS = 0.4
CHUNK_BYTES = 1024 * 1024
DEFAULT_RETRY_AFTER = 5
_PARAM_ERRORS: dict[str | None, type[ApiError]] = {
    "prompt": InvalidVideoPrompt,
    "seconds": InvalidVideoDuration,
    "size": InvalidVideoSize,
    "model": VideoModelNotAvailable,
}


def _info(error: openai.APIStatusError) -> UpstreamErrorInfo:
    return UpstreamErrorInfo(type=str(error.type or "upstream_error"), code=error.code, message=error.message)


def _retry_after(error: openai.APIStatusError) -> int:
    try:
        return max(1, int(float(error.response.headers.get("retry-after", DEFAULT_RETRY_AFTER))))
    except ValueError:
        return DEFAULT_RETRY_AFTER


def translate(error: openai.APIStatusError) -> Exception:
    """The contract's error for what the upstream answered."""
    info = _info(error)
    status = error.status_code
    if status == 429:
        return VideoQuotaExceeded(
            f"The upstream is rate limiting: {error.message}", retry_after=_retry_after(error), upstream=info
        )
    if status == 404 and error.code == "model_not_found":
        return VideoModelNotAvailable(
            f"The upstream does not offer this model: {error.message}", upstream=info
        )
    if status == 404:
        return UpstreamNotFoundError(error.message)
    if error.code == "moderation_blocked":
        return InvalidVideoPrompt(f"The upstream refused the prompt: {error.message}", upstream=info)
    if status in (400, 422):
        kind = _PARAM_ERRORS.get(error.param, InvalidRequest)
        return kind(f"The upstream rejected the request: {error.message}", param=error.param, upstream=info)
    if status in (401, 403):
        return VideoGenerationFailed("The upstream refused this service's credentials.", upstream=info)
    if status >= 500 or status == 409:
        # 409: the upstream is not ready for this yet (content of a job it only just finished).
        return UpstreamRetryableError(f"The upstream failed: {error.message}", upstream=info)
    return VideoGenerationFailed(f"The upstream failed: {error.message}", upstream=info)


def _never_sent(error: openai.APIConnectionError) -> bool:
    """Whether the request failed before any byte of it could reach the upstream."""
    return isinstance(error.__cause__, (httpx2.ConnectError, httpx2.ConnectTimeout))


def _file(upload: Reference) -> tuple[str, bytes, str]:
    """A file as the SDK sends it in a form."""
    return upload.filename, upload.content, upload.content_type


def _idempotency(key: str | None) -> dict[str, str]:
    return {"Idempotency-Key": key} if key else {}


def _job(video: OpenAIVideo) -> UpstreamJob:
    error = VideoError(code=video.error.code, message=video.error.message) if video.error else None
    return UpstreamJob(id=video.id, status=video.status, progress=video.progress or 0, error=error)


class _Content:
    """One variant's bytes as the upstream streams them; a cut or short body, or one still arriving at
    the caller's deadline, is a retryable error."""

    def __init__(self, response: Any, out_of_time: Callable[[], bool]) -> None:
        self._response = response
        self._out_of_time = out_of_time
        self.content_type: str = response.headers.get("content-type", "application/octet-stream")
        length = response.headers.get("content-length")
        self.length: int | None = int(length) if length and length.isdigit() else None

    def chunks(self) -> Iterator[bytes]:
        received = 0
        try:
            for chunk in self._response.iter_bytes(CHUNK_BYTES):
                received += len(chunk)
                yield chunk
                if self._out_of_time():
                    raise UpstreamRetryableError("The download did not end in the time this call had.")
        except (httpx2.TransportError, openai.APIConnectionError) as e:
            raise UpstreamRetryableError("The upstream cut the download short.") from e
        if self.length is not None and received != self.length:
            raise UpstreamRetryableError(f"The upstream sent {received} of {self.length} bytes.")


class OpenAIUpstream:
    """`api_key` is asked for the key when the upstream is first called: a step that never calls it
    (ending a job as failed) never reads the secret, and needs no permission to."""

    def __init__(
        self,
        settings: Settings,
        api_key: Callable[[], str],
        attempts: int = 3,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._api_key = api_key
        self._attempts = attempts
        self._sleep = sleep
        self._clock = clock
        self._deadline: float | None = None
        self._clients: dict[str, OpenAI] = {}

    def until(self, deadline: float) -> OpenAIUpstream:
        """This upstream, every call and retry of it over by `deadline` (on its clock): a caller with
        a time limit of its own gets a retryable error in time instead of being cut off."""
        bounded = copy.copy(self)
        bounded._deadline = deadline
        return bounded

    def _seconds_left(self) -> float:
        return math.inf if self._deadline is None else self._deadline - self._clock()

    def _timeout(self) -> float:
        """The next request's timeout: the configured one, or less when the deadline is nearer."""
        left = self._seconds_left()
        if left <= 0:
            raise UpstreamRetryableError("The upstream could not be asked in the time this call had.")
        return min(self._settings.upstream_timeout_seconds, left)

    def _client(self, model: str) -> OpenAI:
        url = self._settings.upstream_url(model)
        if url not in self._clients:
            self._clients[url] = OpenAI(
                base_url=url,
                api_key=self._api_key(),
                max_retries=0,
                timeout=self._settings.upstream_timeout_seconds,
            )
        return self._clients[url]

    def _call(self, call: Callable[[float], T], *, repeatable: bool) -> T:
        """Calls the upstream (`call` takes the request's timeout). A repeatable call is retried on 5xx,
        timeouts and failed connections; one that is not, only when its request was never sent."""
        for attempt in range(self._attempts):
            last = attempt == self._attempts - 1
            try:
                return call(self._timeout())
            except openai.APITimeoutError as e:
                if last or not (repeatable or _never_sent(e)):
                    raise UpstreamRetryableError("The upstream did not answer in time.") from e
            except openai.APIConnectionError as e:
                if last or not (repeatable or _never_sent(e)):
                    raise UpstreamRetryableError("The upstream could not be reached.") from e
            except openai.APIStatusError as e:
                if last or e.status_code < 500 or not repeatable:
                    raise translate(e) from e
            except (ValueError, openai.APIResponseValidationError) as e:
                # A body that is not the JSON the API promised (json's errors are ValueErrors).
                if last or not repeatable:
                    raise UpstreamRetryableError("The upstream answered with a malformed body.") from e
            self._pause_before_retry(attempt)
        raise AssertionError("unreachable")

    def _pause_before_retry(self, attempt: int) -> None:
        pause = RETRY_BASE_SECONDS * 2**attempt * (0.5 + random.random())  # noqa: S311 - jitter
        if pause >= self._seconds_left():
            raise UpstreamRetryableError("The upstream kept failing in the time this call had.")
        self._sleep(pause)

    def create(self, request: UpstreamCreate) -> UpstreamJob:
        client = self._client(request.model)
        reference = request.reference
        headers = _idempotency(request.idempotency_key)
        # OpenAI's guide names characters in `characters`, which the SDK's create has no parameter for.
        characters = {"characters": [{"id": c} for c in request.characters]} if request.characters else None
        return self._call(
            lambda timeout: _job(
                client.videos.create(
                    prompt=request.prompt,
                    model=request.model,
                    seconds=request.seconds,  # type: ignore[arg-type]
                    size=request.size,  # type: ignore[arg-type]
                    input_reference=_file(reference) if reference else omit,
                    extra_body=characters,
                    extra_headers=headers,
                    timeout=timeout,
                )
            ),
            repeatable=False,
        )

    def remix(
        self, model: str, upstream_id: str, prompt: str, idempotency_key: str | None = None
    ) -> UpstreamJob:
        client = self._client(model)
        headers = _idempotency(idempotency_key)
        return self._call(
            lambda timeout: _job(
                client.videos.remix(upstream_id, prompt=prompt, extra_headers=headers, timeout=timeout)
            ),
            repeatable=False,
        )

    def derive(self, request: UpstreamDerive) -> UpstreamJob:
        """POST /videos/edits or /videos/extensions: a video named by id goes in a JSON body (the SDK's
        `videos.edit` and `videos.extend` take only a file for `video`), an uploaded one as a form."""
        client = self._client(request.model)
        path = "/videos/edits" if request.kind == "edit" else "/videos/extensions"
        body: dict[str, object] = {"prompt": request.prompt}
        if request.seconds is not None:
            body["seconds"] = request.seconds
        headers = _idempotency(request.idempotency_key)
        base, files = request.base, None
        if isinstance(base, str):
            body["video"] = {"id": base}
        else:
            headers["Content-Type"] = "multipart/form-data"
            files = [("video", _file(base))]
        return self._call(
            lambda timeout: _job(
                client.post(
                    path,
                    body=body,
                    files=files,
                    cast_to=OpenAIVideo,
                    options={"headers": headers, "timeout": timeout},
                )
            ),
            repeatable=False,
        )

    def create_character(self, model: str, name: str, video: Reference) -> str:
        """POST /videos/characters: the upstream's id of the character it made."""
        client = self._client(model)
        made = self._call(
            lambda timeout: client.videos.create_character(name=name, video=_file(video), timeout=timeout),
            repeatable=False,
        )
        if made.id is None:
            raise UpstreamRetryableError("The upstream made a character without an id.")
        return made.id

    def delete(self, model: str, upstream_id: str) -> None:
        client = self._client(model)
        self._call(lambda timeout: client.videos.delete(upstream_id, timeout=timeout), repeatable=True)

    def retrieve(self, model: str, upstream_id: str) -> UpstreamJob:
        client = self._client(model)
        return self._call(
            lambda timeout: _job(client.videos.retrieve(upstream_id, timeout=timeout)), repeatable=True
        )

    @contextmanager
    def open_content(self, model: str, upstream_id: str, variant: str) -> Iterator[_Content]:
        client = self._client(model)
        try:
            with client.videos.with_streaming_response.download_content(
                upstream_id,
                variant=variant,  # type: ignore[arg-type]
                timeout=self._timeout(),
            ) as response:
                yield _Content(response, lambda: self._seconds_left() <= 0)
        except openai.APIStatusError as e:
            raise translate(e) from e
        except openai.APIConnectionError as e:
            raise UpstreamRetryableError("The upstream could not be reached for the download.") from e
