"""Luma's Dream Machine API, in plain REST (what its official SDK, lumaai, sends).

Create: `POST {base}/dream-machine/v1/generations/video` with a bearer key; the body is `model`,
`prompt`, `aspect_ratio` ("16:9"), `resolution` ("720p", or "4k" for 2160p), `duration` ("5s") and,
when the job is to be called back, `callback_url`. The answer is the generation, `{"id", "state":
"queued", …}`. Status: `GET {base}/dream-machine/v1/generations/{id}`: queued, dreaming (Luma reports
no progress), completed with `assets.video` (a URL on Luma's storage, fetched without the key),
failed with `failure_reason` (its moderation's: "Contains blacklisted words", "Advanced prompt
moderation failed", "Frame moderation failed"). Delete: `DELETE {base}/dream-machine/v1/generations/{id}`
(204), which removes the generation. Errors are `{"detail": "…"}` ("Prompt is too long, maximum
length is 5000 characters").
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

from videos_core.adapters.upstream_calls import StreamedContent
from videos_core.adapters.upstream_rest import RestUpstream, job_id
from videos_core.catalog import Entry
from videos_core.errors import InvalidRequest, UpstreamErrorInfo
from videos_core.models.api import VideoError
from videos_core.ports import UpstreamCreate, UpstreamJob, UpstreamNotFoundError, VariantNotOfferedError
from videos_core.providers.luma import RATIOS, RESOLUTION_NAMES
from videos_core.sizes import named

API_PATH = "/dream-machine/v1"
# Luma's body fields as the contract's parameters, for a 400's `param`: its messages name the field.
_PARAMS = {
    "prompt": "prompt",
    "duration": "seconds",
    "aspect_ratio": "size",
    "resolution": "size",
    "model": "model",
    "keyframes": "input_reference",
}
_FIELD = re.compile(r"\b(" + "|".join(_PARAMS) + r")\b", re.IGNORECASE)
# Luma's words for a prompt or keyframe its moderation refused.
_MODERATED = ("blacklisted words", "moderation failed")


class LumaUpstream(RestUpstream):
    def auth_headers(self, entry: Entry) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_key(entry.api_key_parameter)}"}

    def error_info(self, body: Any, status: int) -> tuple[UpstreamErrorInfo, str | None]:
        """Luma's `{"detail": "…"}`; the first body field its message names."""
        detail = body.get("detail") if isinstance(body, dict) else None
        if not isinstance(detail, str):
            return super().error_info(body, status)
        info = UpstreamErrorInfo(
            type="invalid_request_error" if status in (400, 404, 422) else "upstream_error",
            code="moderation_blocked" if moderated(detail) else None,
            message=detail,
        )
        field = _FIELD.search(detail)
        return info, _PARAMS[field.group(1).lower()] if field and status in (400, 422) else None

    def create(self, request: UpstreamCreate) -> UpstreamJob:
        entry = self.route(request.model)
        body = generation_body(entry.upstream_model, request)
        generation = self.start(entry, f"{entry.base_url}{API_PATH}/generations/video", body)
        return UpstreamJob(id=job_id(generation, "id"), status="queued", progress=0)

    def _generation(self, model: str, generation_id: str) -> tuple[Entry, dict[str, Any]]:
        entry = self.route(model)
        return entry, self.read_state(entry, _generation_url(entry, generation_id), "generation", "state")

    def retrieve(self, model: str, upstream_id: str) -> UpstreamJob:
        _, generation = self._generation(model, upstream_id)
        state = generation["state"]
        if state == "queued":
            return UpstreamJob(id=upstream_id, status="queued", progress=0)
        if state == "dreaming":
            return UpstreamJob(id=upstream_id, status="in_progress", progress=0)
        if state == "completed":
            if _video_url(generation) is None:
                failure = VideoError(
                    code="video_generation_failed", message="Luma's generation completed without a video."
                )
                return UpstreamJob(upstream_id, "failed", 0, failure)
            return UpstreamJob(id=upstream_id, status="completed", progress=100)
        return UpstreamJob(upstream_id, "failed", 0, _failure(generation))

    def delete(self, model: str, upstream_id: str) -> None:
        """Removes the generation (Luma documents no way to stop one still dreaming)."""
        entry = self.route(model)
        with contextlib.suppress(UpstreamNotFoundError):
            self.request(entry, "DELETE", _generation_url(entry, upstream_id), repeatable=True)

    @contextmanager
    def open_content(self, model: str, upstream_id: str, variant: str) -> Iterator[StreamedContent]:
        """The generation's `assets.video`, read again with each download, and downloaded without the
        key (Luma's storage is another origin)."""
        if variant != "video":
            raise VariantNotOfferedError(variant)
        entry, generation = self._generation(model, upstream_id)
        url = _video_url(generation) if generation["state"] == "completed" else None
        missing = "The upstream's generation has no video to download."
        with self.stream_output(entry, url, missing) as content:
            yield content


def generation_body(upstream_model: str, request: UpstreamCreate) -> dict[str, Any]:
    """The create's body for Luma: the size as its aspect ratio and resolution, the length as "5s"."""
    if request.reference is not None:
        raise InvalidRequest(
            f"Model '{request.model}' takes no reference image: Luma reads a first frame only from a URL "
            "its servers fetch.",
            param="input_reference",
        )
    aspect_ratio, resolution = named(request.size, request.model, RATIOS)
    body: dict[str, Any] = {
        "model": upstream_model,
        "prompt": request.prompt,
        "aspect_ratio": aspect_ratio,
        "resolution": RESOLUTION_NAMES.get(resolution, resolution),
        "duration": f"{request.seconds}s",
    }
    return body | ({"callback_url": request.callback_url} if request.callback_url else {})


def moderated(reason: str) -> bool:
    """Whether Luma's words say its moderation refused the prompt or a keyframe."""
    return any(words in reason.lower() for words in _MODERATED)


def _generation_url(entry: Entry, generation_id: str) -> str:
    return f"{entry.base_url}{API_PATH}/generations/{quote(generation_id, safe='')}"


def _video_url(generation: dict[str, Any]) -> str | None:
    assets = generation.get("assets")
    video = assets.get("video") if isinstance(assets, dict) else None
    return video if isinstance(video, str) and video else None


def _failure(generation: dict[str, Any]) -> VideoError:
    reason = generation.get("failure_reason")
    if not isinstance(reason, str) or not reason:
        reason = f"Luma's generation ended {generation['state']}."
    code = "moderation_blocked" if moderated(reason) else "video_generation_failed"
    return VideoError(code=code, message=reason)
