"""xAI's video API, in plain REST (what its documentation's HTTP examples send; its SDK speaks gRPC).

Create: `POST {base}/v1/videos/generations` with a bearer key; the body is `model`, `prompt`,
`duration` (a number of seconds), `aspect_ratio` ("16:9") and `resolution` ("480p") and, from an
image, `image: {"url": <a data URI>}`. The answer is `{"request_id"}`. Status: `GET
{base}/v1/videos/{request_id}`: `pending` (with `progress` from 0 to 100), `done` with
`video: {url, duration, respect_moderation}` (the URL on xAI's storage, fetched without the key, valid
for a day; `respect_moderation: false` is a video withheld by moderation), `failed` with
`error: {code, message}`, or `expired` (a request kept past its lifetime: its video is gone). Errors
are `{"code", "error"}` (an incorrect key is a 400 there, which is this service's credentials, not the
caller's request). xAI documents no cancel.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import httpx2

from videos_core.adapters.upstream_calls import StreamedContent, status_error
from videos_core.adapters.upstream_rest import RestUpstream, job_id
from videos_core.catalog import Entry
from videos_core.errors import (
    InvalidRequest,
    UpstreamErrorInfo,
    UpstreamFileUnusable,
    UpstreamRetryableError,
)
from videos_core.models.api import VideoError
from videos_core.ports import UpstreamCreate, UpstreamJob, VariantNotOfferedError
from videos_core.providers.xai import IMAGE_RESOLUTIONS, RATIOS
from videos_core.sizes import named

# xAI's body fields as the contract's parameters, for a 400's `param`: xAI's messages name the field.
_PARAMS = {
    "duration": "seconds",
    "aspect_ratio": "size",
    "resolution": "size",
    "prompt": "prompt",
    "image": "input_reference",
    "model": "model",
}
_FIELD = re.compile(r"\b(" + "|".join(_PARAMS) + r")\b")
EXPIRED = "xAI's request expired (status `expired`): its video is no longer kept."


class XaiUpstream(RestUpstream):
    def auth_headers(self, entry: Entry) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_key(entry.api_key_parameter)}"}

    def error_info(self, body: Any, status: int) -> tuple[UpstreamErrorInfo, str | None]:
        """xAI's `{"code": "invalid-argument", "error": "…"}`; the first body field its message names."""
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, str):
            return super().error_info(body, status)
        code = body.get("code")
        info = UpstreamErrorInfo(
            type="invalid_request_error" if status in (400, 404, 422) else "upstream_error",
            code=code if isinstance(code, str) else None,
            message=error,
        )
        field = _FIELD.search(error)
        return info, _PARAMS[field.group(1)] if field and status in (400, 422) else None

    def _error(self, response: httpx2.Response) -> Exception:
        """xAI answers an incorrect key with a 400: it is the service's credentials that are wrong."""
        if response.status_code == 400:
            try:
                body = response.json()
            except ValueError:
                body = None
            info, _ = self.error_info(body, 400)
            if "api key" in info.message.lower():
                return status_error(401, info, None, response.headers)
        return super()._error(response)

    def create(self, request: UpstreamCreate) -> UpstreamJob:
        entry = self.route(request.model)
        aspect_ratio, resolution = named(request.size, request.model, RATIOS)
        body: dict[str, Any] = {
            "model": entry.upstream_model,
            "prompt": request.prompt,
            "duration": int(request.seconds),
            "aspect_ratio": aspect_ratio,
            "resolution": resolution,
        }
        if request.reference is not None:
            if resolution not in IMAGE_RESOLUTIONS:
                raise InvalidRequest(
                    f"Model '{request.model}' makes {resolution} videos from text only: "
                    f"give a smaller size with an input_reference.",
                    param="size",
                )
            data = base64.b64encode(request.reference.content).decode()
            body["image"] = {"url": f"data:{request.reference.content_type};base64,{data}"}
        url = f"{entry.base_url}/v1/videos/generations"
        answer = self.start(entry, url, body)
        return UpstreamJob(id=job_id(answer, "request_id"), status="queued", progress=0)

    def _deferred(self, model: str, request_id: str) -> tuple[Entry, dict[str, Any]]:
        """The request's state; an answer without a body (a 202) or without a status is pending."""
        entry = self.route(model)
        url = f"{entry.base_url}/v1/videos/{quote(request_id)}"
        answer = self.request(entry, "GET", url, repeatable=True)
        if answer is None:
            return entry, {"status": "pending"}
        if not isinstance(answer, dict):
            raise UpstreamRetryableError("The upstream answered with a malformed request state.")
        return entry, answer

    def retrieve(self, model: str, upstream_id: str) -> UpstreamJob:
        _, state = self._deferred(model, upstream_id)
        status = state.get("status")
        if status == "done":
            failure = _withheld(state)
            if failure is not None:
                return UpstreamJob(upstream_id, "failed", 0, failure)
            return UpstreamJob(id=upstream_id, status="completed", progress=100)
        if status == "failed":
            return UpstreamJob(upstream_id, "failed", 0, _failure(state))
        if status == "expired":
            return UpstreamJob(
                upstream_id, "failed", 0, VideoError(code="video_generation_failed", message=EXPIRED)
            )
        # pending, or a status xAI has added since (its SDK keeps polling those too).
        progress = _percent(state.get("progress"))
        return UpstreamJob(id=upstream_id, status="in_progress" if progress else "queued", progress=progress)

    def delete(self, model: str, upstream_id: str) -> None:
        """xAI documents no cancel: a request runs out, and its video expires on its own."""

    @contextmanager
    def open_content(self, model: str, upstream_id: str, variant: str) -> Iterator[StreamedContent]:
        """The request's `video.url`, read again with each status (it is temporary), and downloaded
        without the key (xAI's storage is another origin)."""
        if variant != "video":
            raise VariantNotOfferedError(variant)
        entry, state = self._deferred(model, upstream_id)
        if state.get("status") == "expired":
            raise UpstreamFileUnusable(EXPIRED)
        video = state.get("video")
        url = video.get("url") if isinstance(video, dict) else None
        if state.get("status") != "done" or not isinstance(url, str) or not url:
            raise UpstreamRetryableError("The upstream's request has no video to download.")
        with self.stream(entry, url) as content:
            yield content


def _percent(progress: Any) -> int:
    """xAI's progress (0 to 100) short of done."""
    if isinstance(progress, bool) or not isinstance(progress, (int, float)):
        return 0
    return max(0, min(99, round(progress)))


def _withheld(state: dict[str, Any]) -> VideoError | None:
    """A `done` request without its video: moderation withheld it, or xAI gave no URL."""
    video = state.get("video")
    video = video if isinstance(video, dict) else {}
    if video.get("respect_moderation") is False:
        return VideoError(
            code="moderation_blocked",
            message="xAI withheld the video: it did not pass content moderation (respect_moderation: false).",
        )
    if not isinstance(video.get("url"), str) or not video["url"]:
        return VideoError(
            code="video_generation_failed", message="xAI's request is done without a video URL."
        )
    return None


def _failure(state: dict[str, Any]) -> VideoError:
    error = state.get("error")
    error = error if isinstance(error, dict) else {}
    code = error.get("code")
    reason = str(error.get("message") or "xAI's request failed.")
    message = f"{reason} ({code})" if isinstance(code, str) and code else reason
    moderated = isinstance(code, str) and "moderation" in code.lower()
    return VideoError(code="moderation_blocked" if moderated else "video_generation_failed", message=message)
