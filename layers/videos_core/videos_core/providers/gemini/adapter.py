"""Google's Veo through the Gemini API, in plain REST (the google-genai SDK's own wire format).

Create: `POST {base}/v1beta/models/{model}:predictLongRunning` with `x-goog-api-key`, the prompt (and
a starting image) in `instances[0]`, the length, aspect ratio and resolution in `parameters`; the
answer is a long-running operation `{name}`. Status: `GET {base}/v1beta/{name}` until `done`; then
`error`, or `response.generateVideoResponse` with `generatedSamples[].video.uri` (a file whose
download needs the key), or no sample and `raiMediaFilteredReasons` when the safety filters took it.
The API keeps no way to cancel an operation, and makes the video only.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

from videos_core.adapters.upstream_calls import StreamedContent
from videos_core.adapters.upstream_rest import RestUpstream, job_id
from videos_core.catalog import Entry
from videos_core.errors import UpstreamErrorInfo, UpstreamRetryableError
from videos_core.models.api import VideoError
from videos_core.ports import UpstreamCreate, UpstreamJob, VariantNotOfferedError
from videos_core.sizes import named


class GeminiUpstream(RestUpstream):
    def auth_headers(self, entry: Entry) -> dict[str, str]:
        return {"x-goog-api-key": self._api_key(entry.api_key_parameter)}

    def error_info(self, body: Any, status: int) -> tuple[UpstreamErrorInfo, str | None]:
        info, param = super().error_info(body, status)
        return google_error_info(body, info), param

    def create(self, request: UpstreamCreate) -> UpstreamJob:
        entry = self.route(request.model)
        aspect_ratio, resolution = named(request.size, request.model)
        instance: dict[str, Any] = {"prompt": request.prompt}
        if request.reference is not None:
            instance["image"] = {
                "bytesBase64Encoded": base64.b64encode(request.reference.content).decode(),
                "mimeType": request.reference.content_type,
            }
        body = {
            "instances": [instance],
            "parameters": {
                "durationSeconds": int(request.seconds),
                "aspectRatio": aspect_ratio,
                "resolution": resolution,
                "sampleCount": 1,
            },
        }
        url = f"{entry.base_url}/v1beta/models/{quote(entry.upstream_model)}:predictLongRunning"
        operation = self.request(entry, "POST", url, repeatable=False, body=body)
        return UpstreamJob(id=job_id(operation, "name"), status="queued", progress=0)

    def _operation(self, model: str, name: str) -> tuple[Entry, dict[str, Any]]:
        entry = self.route(model)
        operation = self.read_state(entry, f"{entry.base_url}/v1beta/{name}", "operation")
        return entry, operation

    def retrieve(self, model: str, upstream_id: str) -> UpstreamJob:
        _, operation = self._operation(model, upstream_id)
        if not operation.get("done"):
            return UpstreamJob(id=upstream_id, status="in_progress", progress=0)
        error = operation.get("error")
        if isinstance(error, dict):
            message = str(error.get("message") or "The generation failed.")
            return UpstreamJob(
                upstream_id, "failed", 0, VideoError(code="video_generation_failed", message=message)
            )
        if _video_uri(operation) is None:
            return UpstreamJob(upstream_id, "failed", 0, filtered(_response(operation)))
        return UpstreamJob(id=upstream_id, status="completed", progress=100)

    def delete(self, model: str, upstream_id: str) -> None:
        """The Gemini API has no way to cancel or delete a video operation: it runs out on its own."""

    @contextmanager
    def open_content(self, model: str, upstream_id: str, variant: str) -> Iterator[StreamedContent]:
        if variant != "video":
            raise VariantNotOfferedError(variant)
        entry, operation = self._operation(model, upstream_id)
        uri = _video_uri(operation)
        if uri is None:
            raise UpstreamRetryableError("The upstream's finished operation has no video.")
        with self.stream(entry, uri) as content:
            yield content


def _response(operation: dict[str, Any]) -> dict[str, Any]:
    response = operation.get("response")
    found = response.get("generateVideoResponse") if isinstance(response, dict) else None
    return found if isinstance(found, dict) else {}


def _video_uri(operation: dict[str, Any]) -> str | None:
    samples = _response(operation).get("generatedSamples")
    if isinstance(samples, list) and samples and isinstance(samples[0], dict):
        video = samples[0].get("video")
        if isinstance(video, dict) and isinstance(video.get("uri"), str):
            return str(video["uri"])
    return None


def google_error_info(body: Any, info: UpstreamErrorInfo) -> UpstreamErrorInfo:
    """Google's `{"error": {"code": 400, "message", "status": "INVALID_ARGUMENT"}}`: the status names
    the error (Vertex AI answers the same way)."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("status"):
        return UpstreamErrorInfo(type=str(error["status"]), code=str(error["status"]), message=info.message)
    return info


def filtered(response: dict[str, Any]) -> VideoError:
    """A finished Veo operation's response without a video: the safety filters took it (their reasons,
    when it gives them), or it has none for no reason given (Vertex AI's has the same fields)."""
    reasons = response.get("raiMediaFilteredReasons")
    if isinstance(reasons, list) and reasons:
        return VideoError(code="moderation_blocked", message="; ".join(str(r) for r in reasons))
    if response.get("raiMediaFilteredCount"):
        return VideoError(code="moderation_blocked", message="Veo's safety filters took the video.")
    return VideoError(code="video_generation_failed", message="The upstream finished without a video.")
