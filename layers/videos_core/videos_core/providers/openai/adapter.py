"""An OpenAI-compatible Videos API (OpenAI's, or a server that speaks it), through the openai SDK.

Only the functions that call the upstream import this module (the SDK is the heaviest import in the
layer). Upstream errors become the contract's errors here. A repeatable call is retried as
`upstream_calls` says; a create, a remix, an edit or an extension carries an Idempotency-Key for the
upstreams that honour one. A self-hosted server's route may name its `profile`: SGLang takes a
create only as JSON (the SDK sends a form, which vLLM-Omni requires), LiteLLM's proxy reports
statuses of its own (`processing`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import httpx2
import openai
from openai import OpenAI, omit
from openai.types import Video as OpenAIVideo

from videos_core.adapters.upstream_calls import (
    MAX_REDIRECTS,
    Bounded,
    StreamedContent,
    never_sent,
    status_error,
)
from videos_core.catalog import Entry
from videos_core.errors import UpstreamErrorInfo, UpstreamFileUnusable, UpstreamRetryableError
from videos_core.models.api import VideoError
from videos_core.ports import Reference, UpstreamCreate, UpstreamDerive, UpstreamJob, VariantNotOfferedError

T = TypeVar("T")
# Statuses of OpenAI-shaped servers that are not OpenAI's own, as the contract's.
_STATUSES = {
    "pending": "queued",
    "processing": "in_progress",
    "running": "in_progress",
    "succeeded": "completed",
}
# Servers that take a create only as JSON (the SDK's create sends a form, which vLLM-Omni requires).
_JSON_ONLY = {"sglang"}
# OpenAI's own models make a thumbnail and a spritesheet; a self-hosted server's, the video alone.
_MAKES_EVERY_VARIANT = {"sora-2", "sora-2-pro"}
_CUTS = (httpx2.TransportError, openai.APIConnectionError)


class _HttpClient(openai.DefaultHttpxClient):
    """The SDK's own client, closed when it is dropped as the SDK closes the one it makes itself."""

    def __del__(self) -> None:
        if not self.is_closed:
            with contextlib.suppress(Exception):
                self.close()


def translate(error: openai.APIStatusError) -> Exception:
    """The contract's error for what the upstream answered."""
    info = UpstreamErrorInfo(type=str(error.type or "upstream_error"), code=error.code, message=error.message)
    return status_error(error.status_code, info, error.param, error.response.headers)


def _upstream_model(model: str, entry: Entry) -> str:
    """The model as the upstream names it: the route's, or the name the client sent (a snapshot)."""
    return model if entry.upstream_model == entry.model else entry.upstream_model


def _file(upload: Reference) -> tuple[str, bytes, str]:
    """A file as the SDK sends it in a form."""
    return upload.filename, upload.content, upload.content_type


def _idempotency(key: str | None) -> dict[str, str]:
    return {"Idempotency-Key": key} if key else {}


def _job(video: OpenAIVideo) -> UpstreamJob:
    error = VideoError(code=video.error.code, message=video.error.message) if video.error else None
    status = _STATUSES.get(video.status, video.status)
    return UpstreamJob(id=video.id, status=status, progress=video.progress or 0, error=error)


class OpenAIUpstream(Bounded):
    def _client(self, model: str) -> tuple[OpenAI, Entry]:
        entry = self.route(model)
        key = f"{entry.base_url}\n{entry.api_key_parameter}"
        if key not in self.clients:
            self.clients[key] = OpenAI(
                base_url=entry.base_url,
                # Asked before every request (the SDK's key provider): a rotated key is used once read.
                api_key=lambda: self._api_key(entry.api_key_parameter),
                max_retries=0,
                timeout=self._settings.upstream_timeout_seconds,
                # A download's redirects as every adapter follows them: a loop ends at MAX_REDIRECTS.
                http_client=_HttpClient(max_redirects=MAX_REDIRECTS),
            )
        client: OpenAI = self.clients[key]
        return client, entry

    def _call(self, call: Callable[[float], T], *, repeatable: bool) -> T:
        """Calls the upstream (`call` takes the request's timeout). A repeatable call is retried on 5xx,
        timeouts and failed connections; one that is not, only when its request was never sent."""
        for attempt in range(self._attempts):
            last = attempt == self._attempts - 1
            try:
                return call(self._timeout())
            except openai.APITimeoutError as e:
                if last or not (repeatable or never_sent(e.__cause__)):
                    raise UpstreamRetryableError("The upstream did not answer in time.") from e
            except openai.APIConnectionError as e:
                if last or not (repeatable or never_sent(e.__cause__)):
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

    def create(self, request: UpstreamCreate) -> UpstreamJob:
        client, entry = self._client(request.model)
        reference = request.reference
        headers = _idempotency(request.idempotency_key)
        model = _upstream_model(request.model, entry)
        if entry.family in _JSON_ONLY:
            body = {
                "prompt": request.prompt,
                "model": model,
                "seconds": request.seconds,
                "size": request.size,
            }
            return self._call(
                lambda timeout: _job(
                    client.post(
                        "/videos",
                        body=body,
                        cast_to=OpenAIVideo,
                        options={"headers": headers, "timeout": timeout},
                    )
                ),
                repeatable=False,
            )
        # OpenAI's guide names characters in `characters`, which the SDK's create has no parameter for.
        characters = {"characters": [{"id": c} for c in request.characters]} if request.characters else None
        return self._call(
            lambda timeout: _job(
                client.videos.create(
                    prompt=request.prompt,
                    model=model,
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
        client, _ = self._client(model)
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
        client, _ = self._client(request.model)
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
        client, _ = self._client(model)
        made = self._call(
            lambda timeout: client.videos.create_character(name=name, video=_file(video), timeout=timeout),
            repeatable=False,
        )
        if made.id is None:
            raise UpstreamRetryableError("The upstream made a character without an id.")
        return made.id

    def delete(self, model: str, upstream_id: str) -> None:
        client, _ = self._client(model)
        self._call(lambda timeout: client.videos.delete(upstream_id, timeout=timeout), repeatable=True)

    def retrieve(self, model: str, upstream_id: str) -> UpstreamJob:
        client, _ = self._client(model)
        return self._call(
            lambda timeout: _job(client.videos.retrieve(upstream_id, timeout=timeout)), repeatable=True
        )

    @contextmanager
    def open_content(self, model: str, upstream_id: str, variant: str) -> Iterator[StreamedContent]:
        client, entry = self._client(model)
        if variant != "video" and entry.family not in _MAKES_EVERY_VARIANT:
            raise VariantNotOfferedError(variant)
        try:
            with client.videos.with_streaming_response.download_content(
                upstream_id,
                variant=variant,  # type: ignore[arg-type]
                timeout=self._timeout(),
            ) as response:
                yield StreamedContent(response, self._out_of_time, _CUTS)
        except openai.APIStatusError as e:
            raise translate(e) from e
        except openai.APIConnectionError as e:
            if isinstance(e.__cause__, httpx2.TooManyRedirects):
                raise UpstreamFileUnusable(
                    f"The provider's download redirects more than {MAX_REDIRECTS} times."
                ) from e
            raise UpstreamRetryableError("The upstream could not be reached for the download.") from e
