"""What every upstream adapter shares: calls bounded by a deadline and retried with backoff, the
contract's error for an upstream's status, and a download streamed in chunks.

A repeatable call (a read, a delete) is retried on 5xx answers, timeouts and failed connections; a
create, which a repeat could make twice, only when the request never left.

A download may be redirected (the Gemini API answers a file's download with a redirect to where its
bytes are): at most MAX_REDIRECTS hops, each to an https address (http to this machine only, as a
route's base_url), the key sent to the provider's own origin alone.
"""

from __future__ import annotations

import copy
import math
import random
import time
from collections.abc import Callable, Iterator
from typing import Any, Self, TypeVar
from urllib.parse import urlsplit

import httpx2

from videos_core.catalog import Catalog, Entry, is_loopback
from videos_core.errors import (
    ApiError,
    InvalidRequest,
    InvalidVideoDuration,
    InvalidVideoPrompt,
    InvalidVideoSize,
    UpstreamErrorInfo,
    UpstreamFileUnusable,
    UpstreamRateLimited,
    UpstreamRetryableError,
    VideoGenerationFailed,
    VideoModelNotAvailable,
)
from videos_core.ports import Reference, UpstreamDerive, UpstreamJob, UpstreamNotFoundError
from videos_core.settings import Settings

T = TypeVar("T")
RETRY_BASE_SECONDS = 0.4
CHUNK_BYTES = 1024 * 1024
DEFAULT_RETRY_AFTER = 5
MAX_REDIRECTS = 5
_PARAM_ERRORS: dict[str | None, type[ApiError]] = {
    "prompt": InvalidVideoPrompt,
    "seconds": InvalidVideoDuration,
    "size": InvalidVideoSize,
    "model": VideoModelNotAvailable,
}


def retry_after(headers: Any) -> int:
    try:
        return max(1, int(float(headers.get("retry-after", DEFAULT_RETRY_AFTER))))
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER


def status_error(status: int, info: UpstreamErrorInfo, param: str | None, headers: Any) -> Exception:
    """The contract's error for what an upstream answered."""
    message = info.message
    if status == 429:
        return UpstreamRateLimited(
            f"The video provider is rate limiting this service: {message}",
            retry_after=retry_after(headers),
            upstream=info,
        )
    if status == 404 and info.code == "model_not_found":
        return VideoModelNotAvailable(f"The upstream does not offer this model: {message}", upstream=info)
    if status == 404:
        return UpstreamNotFoundError(message)
    if info.code == "moderation_blocked":
        return InvalidVideoPrompt(f"The upstream refused the prompt: {message}", upstream=info)
    if status in (400, 422):
        kind = _PARAM_ERRORS.get(param, InvalidRequest)
        return kind(f"The upstream rejected the request: {message}", param=param, upstream=info)
    if status in (401, 403):
        return VideoGenerationFailed("The upstream refused this service's credentials.", upstream=info)
    if status >= 500 or status == 409:
        # 409: the upstream is not ready for this yet (content of a job it only just finished).
        return UpstreamRetryableError(f"The upstream failed: {message}", upstream=info)
    return VideoGenerationFailed(f"The upstream failed: {message}", upstream=info)


def never_sent(error: BaseException | None) -> bool:
    """Whether a request failed before any byte of it could reach the upstream."""
    return isinstance(error, (httpx2.ConnectError, httpx2.ConnectTimeout))


def download_hop(url: str) -> str:
    """`url`, when a download may go there: https, or http to this machine; UpstreamFileUnusable
    naming the address's scheme and host (never its query: a signed URL's token) otherwise."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host and (parts.scheme == "https" or (parts.scheme == "http" and is_loopback(host))):
        return url
    where = f"{parts.scheme}://{host}"
    raise UpstreamFileUnusable(f"The provider's download leads to {where}, which is not https.")


def same_origin(url: str, other: str) -> bool:
    a, b = urlsplit(url), urlsplit(other)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)


def check_followed(response: Any) -> None:
    """Holds redirects an HTTP client followed by itself (the openai SDK's does, dropping the
    Authorization header when it leaves the provider's origin) to the rules of this service's own
    following, before any of the body is read."""
    final = getattr(response, "http_response", response)
    history = list(getattr(final, "history", None) or [])
    if len(history) > MAX_REDIRECTS:
        raise UpstreamFileUnusable(f"The provider's download redirects more than {MAX_REDIRECTS} times.")
    for hop in [*history, final]:
        download_hop(str(hop.url))


class StreamedContent:
    """One variant's bytes as the upstream streams them; a cut or short body, or one still arriving at
    the caller's deadline, is a retryable error."""

    def __init__(
        self,
        response: Any,
        out_of_time: Callable[[], bool],
        cuts: tuple[type[BaseException], ...] = (httpx2.TransportError,),
    ) -> None:
        check_followed(response)
        self._response = response
        self._out_of_time = out_of_time
        self._cuts = cuts
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
        except self._cuts as e:
            raise UpstreamRetryableError("The upstream cut the download short.") from e
        if self.length is not None and received != self.length:
            raise UpstreamRetryableError(f"The upstream sent {received} of {self.length} bytes.")


class Bounded:
    """An upstream adapter's calls, each over by the deadline its caller set (`until`). `api_key` is
    asked for a route's key (by its SSM parameter) whenever that route is called (it is kept for its max
    age): a step that never calls the upstream never reads a secret, and needs no permission to."""

    def __init__(
        self,
        settings: Settings,
        catalog: Callable[[], Catalog],
        api_key: Callable[[str], str],
        attempts: int = 3,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        # The catalog as deployed now: a route changed in the store applies to the next call.
        self._catalog = catalog
        self._api_key = api_key
        self._attempts = attempts
        self._sleep = sleep
        self._clock = clock
        self._deadline: float | None = None
        # HTTP clients by what they reach, shared by the bounded copies of this adapter (`until`).
        self.clients: dict[str, Any] = {}

    def until(self, deadline: float) -> Self:
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

    def _out_of_time(self) -> bool:
        return self._seconds_left() <= 0

    def close(self) -> None:
        """Closes the HTTP clients this adapter opened."""
        for client in self.clients.values():
            client.close()
        self.clients.clear()

    def route(self, model: str) -> Entry:
        return self._catalog().route(model)

    def stored_video(self, model: str, upstream_id: str) -> str | None:  # noqa: ARG002 - for the others
        """Where in this stack's bucket the provider wrote the video itself (a copy within S3 then takes
        it); None for the providers whose files are downloaded (`open_content`)."""
        return None

    # What a provider may not offer (the catalog says so first: these answer a route that claims
    # otherwise).

    def remix(  # the signature of a provider's own remix
        self,
        model: str,
        upstream_id: str,  # noqa: ARG002
        prompt: str,  # noqa: ARG002
        idempotency_key: str | None = None,  # noqa: ARG002
    ) -> UpstreamJob:
        raise _not_offered(model, "remix")

    def derive(self, request: UpstreamDerive) -> UpstreamJob:
        raise _not_offered(request.model, "edits")

    def create_character(self, model: str, name: str, video: Reference) -> str:  # noqa: ARG002
        raise _not_offered(model, "characters")

    def _pause_before_retry(self, attempt: int) -> None:
        pause = RETRY_BASE_SECONDS * 2**attempt * (0.5 + random.random())  # noqa: S311 - jitter
        if pause >= self._seconds_left():
            raise UpstreamRetryableError("The upstream kept failing in the time this call had.")
        self._sleep(pause)


def _not_offered(model: str, operation: str) -> Exception:
    return InvalidRequest(f"Model '{model}' does not support {operation}.", param="model")
