"""Replicate's HTTP API, in plain REST (what its official client, replicate, sends).

Create: `POST {base}/v1/models/{owner}/{name}/predictions` with a bearer token; the body is `input`,
the model's own fields (Veo: `prompt`, `duration`, `aspect_ratio`, `resolution`, `generate_audio` and
`image` as a data URI; Hailuo: `prompt`, `duration`, `resolution`, `first_frame_image`), and, when the
job is to be called back, `webhook` with `webhook_events_filter: ["completed"]`. The answer is the
prediction, `{"id", "status", …}`. Status: `GET {base}/v1/predictions/{id}`: starting (queued),
processing (its progress read from `logs`, as the client reads it), succeeded with `output` (a URL,
or a list of them, on replicate.delivery: fetched without the token, kept an hour), failed with
`error` (a flagged input or output is Replicate's E005), canceled. Delete: `POST
{base}/v1/predictions/{id}/cancel`. Errors are problem details, `{"title", "detail", "status"}`; a
validation failure (422) lists `invalid_fields` (`field` as `input.duration`, `description`).
"""

from __future__ import annotations

import base64
import contextlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

from videos_core.adapters.upstream_calls import StreamedContent
from videos_core.adapters.upstream_rest import RestUpstream, job_id
from videos_core.catalog import Entry
from videos_core.errors import (
    InvalidVideoDuration,
    UpstreamErrorInfo,
)
from videos_core.models.api import VideoError
from videos_core.ports import UpstreamCreate, UpstreamJob, UpstreamNotFoundError, VariantNotOfferedError
from videos_core.providers.replicate import HAILUO_LONG_RESOLUTIONS, VEO_FAMILIES
from videos_core.sizes import named

# The models' input fields as the contract's parameters, for a 400's `param`.
_PARAMS = {
    "prompt": "prompt",
    "duration": "seconds",
    "aspect_ratio": "size",
    "resolution": "size",
    "image": "input_reference",
    "first_frame_image": "input_reference",
}
_FIELD = re.compile(r"\binput\.(\w+)")
# A progress bar in the logs, as the client parses it: "  42%|████      | 42/100".
_PROGRESS = re.compile(r"(\d+)%\s*\|")
# Replicate's words for an input or output its safety checks refused (E005).
_FLAGGED = ("(E005)", "flagged as sensitive", "nsfw")
_VEO_RATIOS = ("16:9", "9:16")


class ReplicateUpstream(RestUpstream):
    def auth_headers(self, entry: Entry) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_key(entry.api_key_parameter)}"}

    def error_info(self, body: Any, status: int) -> tuple[UpstreamErrorInfo, str | None]:
        """Replicate's problem details; a 422's first invalid field names the parameter."""
        if not isinstance(body, dict) or not isinstance(body.get("detail") or body.get("title"), str):
            return super().error_info(body, status)
        message = str(body.get("detail") or body.get("title")).strip()
        title = body.get("title")
        info = UpstreamErrorInfo(
            type="invalid_request_error" if status in (400, 404, 422) else "upstream_error",
            code=title if isinstance(title, str) else None,
            message=message,
        )
        fields = body.get("invalid_fields")
        first = fields[0] if isinstance(fields, list) and fields and isinstance(fields[0], dict) else {}
        found = _FIELD.search(str(first.get("field") or message))
        param = _PARAMS.get(found.group(1)) if found and status in (400, 422) else None
        return info, param

    def create(self, request: UpstreamCreate) -> UpstreamJob:
        entry = self.route(request.model)
        body: dict[str, Any] = {"input": _input(entry, request)}
        if request.callback_url:
            body |= {"webhook": request.callback_url, "webhook_events_filter": ["completed"]}
        owner, _, name = entry.upstream_model.partition("/")
        url = f"{entry.base_url}/v1/models/{quote(owner, safe='')}/{quote(name, safe='')}/predictions"
        prediction = self.start(entry, url, body)
        return UpstreamJob(id=job_id(prediction, "id"), status="queued", progress=0)

    def _prediction(self, model: str, prediction_id: str) -> tuple[Entry, dict[str, Any]]:
        entry = self.route(model)
        url = f"{entry.base_url}/v1/predictions/{quote(prediction_id, safe='')}"
        return entry, self.read_state(entry, url, "prediction", "status")

    def retrieve(self, model: str, upstream_id: str) -> UpstreamJob:
        _, prediction = self._prediction(model, upstream_id)
        status = prediction["status"]
        if status == "starting":
            return UpstreamJob(id=upstream_id, status="queued", progress=0)
        if status == "processing":
            progress = _percent(prediction.get("logs"))
            return UpstreamJob(id=upstream_id, status="in_progress", progress=progress)
        if status == "succeeded":
            if _output_url(prediction) is None:
                failure = VideoError(
                    code="video_generation_failed", message="Replicate's prediction succeeded without output."
                )
                return UpstreamJob(upstream_id, "failed", 0, failure)
            return UpstreamJob(id=upstream_id, status="completed", progress=100)
        return UpstreamJob(upstream_id, "failed", 0, _failure(prediction))

    def delete(self, model: str, upstream_id: str) -> None:
        """Cancels the prediction (one that has ended stays as it ended)."""
        entry = self.route(model)
        url = f"{entry.base_url}/v1/predictions/{quote(upstream_id, safe='')}/cancel"
        with contextlib.suppress(UpstreamNotFoundError):
            self.request(entry, "POST", url, repeatable=True)

    @contextmanager
    def open_content(self, model: str, upstream_id: str, variant: str) -> Iterator[StreamedContent]:
        """The prediction's output URL, read again with each download (Replicate keeps a file an
        hour), downloaded without the token (replicate.delivery is another origin)."""
        if variant != "video":
            raise VariantNotOfferedError(variant)
        entry, prediction = self._prediction(model, upstream_id)
        url = _output_url(prediction) if prediction["status"] == "succeeded" else None
        missing = "The upstream's prediction has no output to download."
        with self.stream_output(entry, url, missing) as content:
            yield content


def _input(entry: Entry, request: UpstreamCreate) -> dict[str, Any]:
    """The model's own input fields for the request."""
    image = None
    if request.reference is not None:
        data = base64.b64encode(request.reference.content).decode()
        image = f"data:{request.reference.content_type};base64,{data}"
    if entry.family in VEO_FAMILIES:
        aspect_ratio, resolution = named(request.size, request.model, _VEO_RATIOS)
        fields: dict[str, Any] = {
            "prompt": request.prompt,
            "duration": int(request.seconds),
            "aspect_ratio": aspect_ratio,
            "resolution": resolution,
            "generate_audio": entry.capabilities.audio,
        }
        return fields | ({"image": image} if image else {})
    _, resolution = named(request.size, request.model, ("16:9",))
    if int(request.seconds) > 6 and resolution not in HAILUO_LONG_RESOLUTIONS:
        raise InvalidVideoDuration(
            f"Model '{request.model}' makes {request.seconds} seconds at 768p only, not {resolution}.",
            param="seconds",
        )
    fields = {"prompt": request.prompt, "duration": int(request.seconds), "resolution": resolution}
    return fields | ({"first_frame_image": image} if image else {})


def _output_url(prediction: dict[str, Any]) -> str | None:
    """The output's URL: the output itself, or the first of a list."""
    output = prediction.get("output")
    if isinstance(output, list):
        output = output[0] if output else None
    return output if isinstance(output, str) and output else None


def _percent(logs: Any) -> int:
    """The last progress bar's percentage in the logs, short of done (1 once processing)."""
    found = _PROGRESS.findall(logs) if isinstance(logs, str) else []
    return max(1, min(99, int(found[-1]))) if found else 1


def _failure(prediction: dict[str, Any]) -> VideoError:
    status = prediction["status"]
    if status == "canceled":
        return VideoError(code="video_generation_failed", message="The prediction was canceled.")
    reason = str(prediction.get("error") or f"Replicate's prediction ended {status}.")
    flagged = any(word in reason.lower() for word in (w.lower() for w in _FLAGGED))
    return VideoError(code="moderation_blocked" if flagged else "video_generation_failed", message=reason)
